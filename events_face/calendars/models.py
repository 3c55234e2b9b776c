"""Personal calendar feeds: one secret URL per user that calendar apps poll.

Calendar apps cannot send a JWT, so the feed's URL carries a random token. Only
its SHA-256 is stored: a copy of the database cannot be turned into feed URLs.
One feed per user; issuing a new token replaces the old one (its URL answers 404).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarFeed(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed",
        verbose_name=_("user"),
    )
    # Hex SHA-256 of the token in the feed's URL; the token itself is never stored.
    token_sha256 = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar feed of user {self.user_id}"
