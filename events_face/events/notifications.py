"""What the events app tells registrants: each notification shaped here, and only here, and its sender.

The outbox knows no topic: the senders below register themselves with
`@outbox_sender` when this module is imported, which `EventsConfig.ready` does
in every process.

`registration_notification` builds the exact body the notifications service
receives for a new registration (contract:
`integrations/notifications/contract.md`). The registration service stores it as the outbox message's payload, in the registration's
transaction, so the text is written then: in the registration's language (the
request's, kept on the registration too) with the event's time in
NOTIFICATIONS_TIME_ZONE. Written at delivery instead, it would need the
registration's row on the sender threads, which never touch the database, and
a retry could send a different text under the same id; the worker hands the
stored payload to the sender registered below for its topic. The notification's `id` is the outbox message's id (the
idempotency key). `owner_id` identifies this installation: the sender sends the
one configured where it runs (NOTIFICATIONS_OWNER_ID of the worker), so a web
process without it, or a changed one, never strands a message.

Every notification of an active registration carries a signed link that
cancels it without an account (`events/cancel_links.py`, PUBLIC_BASE_URL); it
is as secret as the code, and cut out of logs the same way.

A registration's life has one notification per change, each its own topic and
text, all written the same way and sent by the same sender:
`registration.created` (confirmed at once: `registration_notification`),
`registration.waitlisted` (joined the waiting list, with the position),
`registration.promoted` (a seat freed: confirmed, with the code) and
`registration.cancelled`.

The confirmation code is the secret of a notification: the sender cuts it
(and the message text) out of anything the service answers before it reaches a
log line or `last_error`. In every language a text that holds the code ends
with it (a test holds each translation to that); a text without one is cut out
whole all the same.

The text is plain: no markup, and no control or invisible formatting
characters (a name from the provider that holds any gets spaces instead).
"""

from __future__ import annotations

import functools
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat, translation
from django.utils.translation import gettext, gettext_noop, pgettext

from events_face.integrations.http import SendResult
from events_face.integrations.notifications.client import NotificationsClient
from events_face.outbox.senders import outbox_sender

# The path every cancel link holds (`events/cancel_links.py`), so the sender can cut it out of logs.
CANCEL_LINK_PATH = "/api/registrations/cancel/"

REGISTRATION_NOTIFICATION_TOPIC = "registration.created"
WAITLIST_JOINED_TOPIC = "registration.waitlisted"
PROMOTION_TOPIC = "registration.promoted"
CANCELLATION_TOPIC = "registration.cancelled"
REMINDER_TOPIC = "registration.reminder"
EVENT_CHANGED_TOPIC = "event.changed"

# Controls (CR, LF, ESC...), invisible format characters (bidi overrides, zero-width
# spaces), line and paragraph separators: none may reach the text.
NOT_PLAIN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


class Addressee(TypedDict):
    """Whom a registration's notification goes to and what it is about (the builders' common arguments)."""

    notification_id: uuid.UUID
    email: str
    full_name: str
    event_name: str
    event_time: datetime
    language: str  # the text's
    cancel_url: NotRequired[str | None]  # the signed link that cancels the registration


# Each text is translated when its notification is built, in the registration's language.
REGISTERED = gettext_noop("Hello, %(full_name)s! You are registered for %(event_name)s on %(moment)s.")
WAITLIST_JOINED = gettext_noop(
    "Hello, %(full_name)s! %(event_name)s on %(moment)s is full: you are on its waiting list, "
    "number %(position)d. If a place frees up, you get it in turn and we send your confirmation code."
)
PROMOTED = gettext_noop(
    "Hello, %(full_name)s! A place has freed up: you are now registered for %(event_name)s on %(moment)s."
)
CANCELLED = gettext_noop(
    "Hello, %(full_name)s! Your registration for %(event_name)s on %(moment)s is cancelled."
)
REMINDED = gettext_noop("Hello, %(full_name)s! A reminder: %(event_name)s is on %(moment)s.")


def registration_notification(*, confirmation_code: str, **to: Unpack[Addressee]) -> dict[str, str]:
    """The notifications service's body for one registration, its text in `language`;
    with `cancel_url`, the link that cancels it (before the code, which ends the text)."""
    return _notification(REGISTERED, to, code=confirmation_code)


def waitlist_joined_notification(*, position: int, **to: Unpack[Addressee]) -> dict[str, str]:
    """The body for a registration that joined the waiting list at `position` (1 = next)."""
    return _notification(WAITLIST_JOINED, to, position=position)


def promotion_notification(*, confirmation_code: str, **to: Unpack[Addressee]) -> dict[str, str]:
    """The body for a waitlisted registration that got a seat; ends with its confirmation code."""
    return _notification(PROMOTED, to, code=confirmation_code)


def cancellation_notification(**to: Unpack[Addressee]) -> dict[str, str]:
    """The body for a cancelled registration (confirmed or waitlisted): no link, no code."""
    return _notification(CANCELLED, {**to, "cancel_url": None})


def reminder_notification(*, confirmation_code: str, **to: Unpack[Addressee]) -> dict[str, str]:
    """The reminder before the event (REMINDER_HOURS_BEFORE); with `cancel_url`, the link that
    cancels the registration; ends with the confirmation code."""
    return _notification(REMINDED, to, code=confirmation_code)


def _notification(template: str, to: Addressee, *, code: str | None = None, **values: Any) -> dict[str, str]:
    """The body of the notification `template` to `to`, written in `to`'s language: the
    template filled (the names made plain, the moment as the language writes it), then the
    cancel link, then the confirmation code, always the last word."""
    with translation.override(to["language"]):
        parts = [
            gettext(template)
            % {
                "full_name": _plain(to["full_name"]),
                "event_name": _plain(to["event_name"]),
                "moment": event_moment(to["event_time"]),
                **values,
            }
        ]
        if cancel_url := to.get("cancel_url"):
            parts.append(gettext("To cancel: %(url)s") % {"url": cancel_url})
        if code:
            parts.append(gettext("Your confirmation code: %(code)s") % {"code": code})
    return _body(notification_id=to["notification_id"], email=to["email"], message=" ".join(parts))


class EventChangedNotices:
    """The notices of one event's change, one per registrant: what changed is written once
    per language, and each registrant's notice only adds the greeting (a change may reach
    thousands of registrants in one sync page)."""

    def __init__(
        self,
        *,
        event_name: str,
        moved_to: datetime | None = None,
        venue_name: str | None = None,
        cancelled: bool = False,
    ) -> None:
        self.event_name = _plain(event_name)
        self.moved_to = moved_to
        self.venue_name = None if venue_name is None else _plain(venue_name)
        self.cancelled = cancelled
        self._texts: dict[str, tuple[str, str]] = {}

    def _text(self, language: str) -> tuple[str, str]:
        """(the greeting's template, what changed) in `language`."""
        if language not in self._texts:
            with translation.override(language):
                name = self.event_name
                if self.cancelled:
                    changes = [gettext("%(event_name)s is cancelled.") % {"event_name": name}]
                else:
                    changes = []
                    if self.moved_to is not None:
                        changes.append(
                            gettext("%(event_name)s now takes place on %(moment)s.")
                            % {"event_name": name, "moment": event_moment(self.moved_to)}
                        )
                    if self.venue_name is not None:
                        changes.append(
                            gettext("%(event_name)s now takes place at %(venue)s.")
                            % {"event_name": name, "venue": self.venue_name}
                        )
                self._texts[language] = (gettext("Hello, %(full_name)s! %(changes)s"), " ".join(changes))
        return self._texts[language]

    def notification(
        self, *, notification_id: uuid.UUID, email: str, full_name: str, language: str
    ) -> dict[str, str]:
        """The body of one registrant's notice, in `language`."""
        greeting, changes = self._text(language)
        message = greeting % {"full_name": _plain(full_name), "changes": changes}
        return _body(notification_id=notification_id, email=email, message=message)


def _body(*, notification_id: uuid.UUID, email: str, message: str) -> dict[str, str]:
    return {
        "id": str(notification_id),
        "owner_id": settings.NOTIFICATIONS_OWNER_ID,
        "email": email,
        "message": message,
    }


def event_moment(moment: datetime) -> str:
    """`moment` in NOTIFICATIONS_TIME_ZONE as the active language writes a date and a time, the zone named:
    "4 December 2026 at 12:00 UTC", "4 декабря 2026 г. в 15:00 (MSK)".

    Written once per moment, language and zone, and remembered: every registrant of an
    event gets the same words, and each registration writes them inside the event's lock.
    """
    return _moment_written(moment, translation.get_language(), settings.NOTIFICATIONS_TIME_ZONE)


@functools.lru_cache(maxsize=4096)
def _moment_written(moment: datetime, language: str, time_zone: str) -> str:
    local = moment.astimezone(ZoneInfo(time_zone))
    zone = local.tzname() or time_zone
    if zone[0] in "+-":  # a zone with no abbreviation of its own: "+05" reads better as "UTC+05"
        zone = f"UTC{zone}"
    # Translators: a Django date format (see the "date" template filter): j day, F month
    # name, E month name in the genitive (Russian "декабря"), Y year.
    date_format = pgettext("notification date", "j F Y")
    return gettext("%(date)s at %(time)s %(zone)s") % {
        "date": dateformat.format(local, date_format),
        "time": dateformat.format(local, "H:i"),
        "zone": zone,
    }


def _plain(text: str) -> str:
    """`text` with each character of NOT_PLAIN_CATEGORIES made a space, and runs of spaces made one."""
    if text.isascii() and text.isprintable():
        # No printable ASCII character is of those categories: only the spaces to fold.
        return " ".join(text.split())
    return " ".join(
        "".join(
            " " if unicodedata.category(character) in NOT_PLAIN_CATEGORIES else character
            for character in text
        ).split()
    )


def notification_secrets(payload: Mapping[str, Any]) -> list[str]:
    """What must never appear in a log or a stored error: the code, the cancel link, and the text holding them.

    The code, when a text has one, is its last word, in every language (a test
    holds each translation to that); a text without a code loses a harmless
    last word and is cut out whole anyway. The cancel link is the word that
    holds CANCEL_LINK_PATH (`events/cancel_links.py`).
    """
    message = payload.get("message")
    if not isinstance(message, str):
        return []
    words = message.split()
    if not words:
        return [message]
    return [message, words[-1], *(word for word in words[:-1] if CANCEL_LINK_PATH in word)]


@outbox_sender(EVENT_CHANGED_TOPIC)
@outbox_sender(REMINDER_TOPIC)
@outbox_sender(CANCELLATION_TOPIC)
@outbox_sender(PROMOTION_TOPIC)
@outbox_sender(WAITLIST_JOINED_TOPIC)
@outbox_sender(REGISTRATION_NOTIFICATION_TOPIC)
class NotificationSender:
    """POSTs the stored notification to the notifications service (one attempt)."""

    required_settings = ("NOTIFICATIONS_URL", "NOTIFICATIONS_TOKEN", "NOTIFICATIONS_OWNER_ID")

    def __init__(self) -> None:
        self._owner_id = settings.NOTIFICATIONS_OWNER_ID
        self._client = NotificationsClient(
            url=settings.NOTIFICATIONS_URL,
            token=settings.NOTIFICATIONS_TOKEN,
            timeout=settings.OUTBOX_HTTP_DEADLINE_SECONDS,
            max_connections=settings.OUTBOX_CONCURRENCY,
        )

    def send(self, *, message_id: uuid.UUID, payload: Mapping[str, Any]) -> SendResult:
        notification = {**payload, "owner_id": self._owner_id}
        return self._client.send(notification, secrets=notification_secrets(payload))

    def close(self) -> None:
        self._client.close()
