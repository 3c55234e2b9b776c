"""The events app's errors: what its reads and writes refuse, each with its status and stable code.

`event_id_parse` lives here because a malformed event id is answered as an
unknown one: both are `EventNotFound`, so ids cannot be probed.
"""

import uuid
from typing import Any

from django.utils.translation import gettext_lazy as _

from events_face.core.errors import ServiceError


class EventNotFound(ServiceError):
    status_code = 404
    code = "not_found"
    default_message = _("No event with this id.")


def event_id_parse(event_id: Any) -> uuid.UUID:
    """An event id from a URL; a malformed one is just an unknown one (404)."""
    try:
        return uuid.UUID(str(event_id))
    except ValueError:
        raise EventNotFound() from None


class RegistrationClosed(ServiceError):
    status_code = 409
    code = "event_closed"
    default_message = _("Registration for this event is closed.")


class AlreadyRegistered(ServiceError):
    status_code = 409
    code = "already_registered"
    default_message = _("This e-mail address is already registered for this event.")


class EventFull(ServiceError):
    status_code = 409
    code = "event_full"
    default_message = _("This event has no places left.")


class IdempotencyKeyReused(ServiceError):
    status_code = 422
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was already used for a different registration.")


class EmailDomainNotPublic(ServiceError):
    code = "email_domain_not_public"
    default_message = _(
        "Registrations go to public e-mail addresses only: the domain needs a dot, "
        "and may not be an IP address, localhost or a reserved name such as .local or .test."
    )

    def __init__(self):
        super().__init__(fields={"email": [self.default_message]})


class AddressRateExceeded(ServiceError):
    status_code = 429
    code = "address_rate_exceeded"
    default_message = _("This e-mail address has received too many registrations recently; try again later.")


class RegistrationNotFound(ServiceError):
    """Unknown, malformed, or another user's: one answer for each, so ids cannot be probed."""

    status_code = 404
    code = "not_found"
    default_message = _("No registration with this id.")


def registration_id_parse(registration_id: Any) -> uuid.UUID:
    """A registration id from a URL; a malformed one is just an unknown one (404)."""
    try:
        return uuid.UUID(str(registration_id))
    except ValueError:
        raise RegistrationNotFound() from None


class CancellationClosed(ServiceError):
    status_code = 409
    code = "cancellation_closed"
    default_message = _("The event has started: this registration can no longer be cancelled.")


class EventBusy(ServiceError):
    """The event's lock was not had within REGISTRATION_LOCK_TIMEOUT_SECONDS: nothing was written; retry."""

    status_code = 503
    code = "busy"
    default_message = _("The event is busy with other registrations; please retry in a moment.")

    def __init__(self, message: str | None = None, *, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class InvalidCode(ServiceError):
    status_code = 404
    code = "invalid_code"
    default_message = _("No confirmed registration of this event has this code.")


class RegistrationCancelled(ServiceError):
    status_code = 409
    code = "registration_cancelled"
    default_message = _("This registration was cancelled.")


class AlreadyCheckedIn(ServiceError):
    status_code = 409
    code = "already_checked_in"
    default_message = _("This code was already used to check in.")


class CheckInClosed(ServiceError):
    status_code = 409
    code = "check_in_closed"
    default_message = _("Check-in for this event is not open now.")
