"""Issuing and revoking a user's calendar feed token."""

import hashlib
import secrets

from django.db import transaction

from events_face.calendars.models import CalendarFeed

# 32 random bytes: the feed's URL is its only credential.
TOKEN_BYTES = 32


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def calendar_feed_issue(*, user) -> str:
    """A new feed token for `user`, replacing any earlier one; returns the token (stored only as a hash)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(user=user, defaults={"token_sha256": token_digest(token)})
    return token


def calendar_feed_revoke(*, user) -> bool:
    """Forget `user`'s feed token; returns whether there was one."""
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)
