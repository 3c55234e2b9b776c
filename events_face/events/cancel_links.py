"""Signed, single-purpose links that cancel one registration without an account.

A link names the registration's id, signed with SECRET_KEY under a salt used
for nothing else (django.core.signing), so it cannot be forged, altered to name
another registration, or reused as any other signed value. It holds no timestamp and does not expire (one link per registration):
cancelling closes when the event starts anyway, and a repeat changes nothing.
Whoever holds the link (the registrant's mailbox) may cancel: it is as secret as
the confirmation code, and the notifications' sender cuts it out of logs
(`notifications.notification_secrets`).
"""

import uuid

from django.conf import settings
from django.core import signing

from events_face.events.errors import RegistrationNotFound
from events_face.events.notifications import CANCEL_LINK_PATH

SALT = "events_face.events.registration-cancel-link"


def cancel_link(*, registration_id: uuid.UUID) -> str:
    """The absolute URL (PUBLIC_BASE_URL) that cancels this registration."""
    token = signing.Signer(salt=SALT).sign_object(str(registration_id))
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{CANCEL_LINK_PATH}{token}/"


def cancel_link_registration_id(token: str) -> uuid.UUID:
    """The registration a link's token names; a forged, altered or foreign token is `RegistrationNotFound`."""
    try:
        return uuid.UUID(signing.Signer(salt=SALT).unsign_object(token))
    except (signing.BadSignature, ValueError, TypeError):
        raise RegistrationNotFound() from None
