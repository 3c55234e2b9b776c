"""Input and output shapes of the events API.

The event list and detail are shaped from `values()` rows by `event_item`
(their hot path has no serializer); `EventSerializer` and
`EventDetailSerializer` describe the same shape for the OpenAPI schema, and a
test keeps the two equal.
"""

import unicodedata
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import APIException

from events_face.core.errors import ServiceError
from events_face.core.storable_dates import EARLIEST_YEAR, LATEST_YEAR
from events_face.events.email_address import registration_email_normalize
from events_face.events.models import Event, Registration, Venue
from events_face.events.selectors import ALL_STATUSES, confirmed_count, seats_left_of


def event_item(row: dict[str, Any], *, now: datetime, detail: bool = False) -> dict[str, Any]:
    """An event as the API shows it, from a row of `selectors.EVENT_COLUMNS`."""
    item = {
        "id": row["id"],
        "name": row["name"],
        "event_time": row["event_time"],
        "registration_deadline": row["registration_deadline"],
        "status": row["status"],
        "registration_open": Event.open_at(
            status=row["status"],
            event_time=row["event_time"],
            registration_deadline=row["registration_deadline"],
            now=now,
        ),
        "venue": None if row["venue_id"] is None else {"id": row["venue_id"], "name": row["venue_name"]},
        "seats_left": seats_left_of(row),
    }
    if detail:
        item["capacity"] = row["capacity"]
    return item


def always_sent(fields: list[str]) -> dict[str, dict]:
    """`extra_kwargs` of an output serializer: each field is `required` in the schema.

    Output serializers send every field, null or not; a model field that may be
    null is otherwise documented as optional, and a generated client types it
    as possibly absent (`Unset`).
    """
    return {name: {"required": True} for name in fields}


class VenueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Venue
        fields = ["id", "name"]
        extra_kwargs = always_sent(fields)


class EventSerializer(serializers.ModelSerializer):
    venue = VenueSerializer(allow_null=True)
    registration_open = serializers.SerializerMethodField()
    seats_left = serializers.SerializerMethodField(
        help_text=(
            "Seats not yet confirmed (capacity less confirmed registrations); null when the capacity is "
            "unlimited. Up to 5 seconds behind: the register call is the authority."
        )
    )

    class Meta:
        model = Event
        fields = [
            "id",
            "name",
            "event_time",
            "registration_deadline",
            "status",
            "registration_open",
            "venue",
            "seats_left",
        ]
        extra_kwargs = always_sent(fields)

    def get_registration_open(self, event: Event) -> bool:
        return event.is_open(now=self.context.setdefault("now", timezone.now()))

    def get_seats_left(self, event: Event) -> int | None:
        if event.capacity is None:
            return None
        return max(0, event.capacity - confirmed_count(event=event))


class EventDetailSerializer(EventSerializer):
    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "capacity"]
        extra_kwargs = always_sent(fields)


class ListedChoiceField(serializers.ChoiceField):
    """A ChoiceField whose refusal names the valid choices (DRF's says only that the value is not one)."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            raise serializers.ValidationError(
                _('"%(input)s" is not a valid choice. Valid choices: %(choices)s.')
                % {"input": data, "choices": ", ".join(str(choice) for choice in self.choices)},
                code="invalid_choice",
            ) from None


class StatusListField(serializers.ListField):
    """`status=new,published` or `status=new&status=published`; `all` for every status."""

    child = ListedChoiceField(choices=[*Event.Status.values, ALL_STATUSES])

    def get_value(self, dictionary):
        if self.field_name not in dictionary:
            return serializers.empty
        values = []
        for raw in dictionary.getlist(self.field_name):
            values.extend(part.strip() for part in raw.split(",") if part.strip())
        return values


def _within_storable_years(value):
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise serializers.ValidationError(
            _("Must be between years %(earliest)s and %(latest)s.")
            % {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}
        )
    return value


class EventListFilterSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False, max_length=200, help_text="Case-insensitive substring of the name."
    )
    status = StatusListField(
        required=False,
        allow_empty=False,
        help_text="One or several statuses (comma-separated or repeated), or `all`. Default: open for registration now (new or published, deadline not passed).",
    )
    date_from = serializers.DateField(
        required=False, help_text="Events on or after this date (UTC). Replaces the upcoming-only default."
    )
    date_to = serializers.DateField(required=False, help_text="Events on or before this date (UTC).")
    venue = serializers.UUIDField(required=False, help_text="Venue id.")
    # Labels for the schema's list of choices (Swagger UI shows "value - label").
    ordering = ListedChoiceField(
        choices=[("event_time", "earliest first"), ("-event_time", "latest first")],
        required=False,
        help_text="By event time then id: `event_time` (the default) or `-event_time`.",
    )

    def validate_date_from(self, value):
        return _within_storable_years(value)

    def validate_date_to(self, value):
        return _within_storable_years(value)

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": [_("Must not be before date_from.")]})
        return attrs


# Characters a name may not hold: controls (Cc: CR, LF, BEL, ESC...), invisible format
# characters (Cf: bidi overrides and isolates U+202A-U+202E, U+2066-U+2069, zero-width
# spaces, soft hyphen), and line/paragraph separators (Zl, Zp). The name goes verbatim
# into the notification, where these could forge lines or reorder the text.
FORBIDDEN_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false` only: not "yes", 1 or "true" (DRF's BooleanField takes those)."""

    default_error_messages = {"invalid": gettext_lazy("Must be true or false.")}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


REGISTRATION_INPUT_FIELDS = frozenset({"full_name", "email", "waitlist"})
FULL_NAME_MAX_LENGTH = 128  # RegistrationInputSerializer.full_name's
EMAIL_MAX_LENGTH = 254  # RegistrationInputSerializer.email's


class RegistrationInputSerializer(serializers.Serializer):
    # Surrounding whitespace is stripped (DRF's trim_whitespace, any Unicode space).
    full_name = serializers.CharField(max_length=FULL_NAME_MAX_LENGTH)
    # Stored and compared in one spelling per mailbox (events/email_address.py).
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    waitlist = StrictBooleanField(
        required=False,
        default=False,
        help_text="On a full event, join its waiting list (201, `waitlisted`) instead of a 409 `event_full`.",
    )

    def validate_email(self, value: str) -> str:
        return registration_email_normalize(value)

    def validate_full_name(self, value: str) -> str:
        for character in value:
            if unicodedata.category(character) in FORBIDDEN_NAME_CATEGORIES:
                raise serializers.ValidationError(
                    _("Must not contain control or invisible formatting characters (U+%(code_point)04X).")
                    % {"code_point": ord(character)}
                )
        return value


def registration_input(data: Any) -> dict[str, Any]:
    """The register call's body, validated: what `RegistrationInputSerializer` validates it to.

    Most bodies are plain: a name and an address of printable ASCII, and maybe
    `waitlist`. Those are checked here directly, as the serializer checks them
    (a property test holds the two equal). Anything else, and every refusal, goes
    through the serializer, so each error keeps its shape and language. A
    serializer builds its fields anew for each request, which cost a tenth of a
    registration (bench/request_profile.py).
    """
    plain = _plain_registration_input(data)
    if plain is not None:
        return plain
    payload = RegistrationInputSerializer(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _plain_registration_input(data: Any) -> dict[str, Any] | None:
    """`data` validated if it is plainly good; None if the serializer has to say (bad or unusual)."""
    if type(data) is not dict or not data.keys() <= REGISTRATION_INPUT_FIELDS:
        return None
    full_name, email, waitlist = data.get("full_name"), data.get("email"), data.get("waitlist", False)
    if type(full_name) is not str or type(email) is not str or type(waitlist) is not bool:
        return None
    # As the fields do: surrounding whitespace stripped, then the length checked. Printable
    # ASCII holds no control, format, separator, null or surrogate character.
    full_name, email = full_name.strip(), email.strip()
    if not (0 < len(full_name) <= FULL_NAME_MAX_LENGTH and full_name.isascii() and full_name.isprintable()):
        return None
    if not (len(email) <= EMAIL_MAX_LENGTH and email.isascii() and email.isprintable()):
        return None
    try:
        validate_email(email)  # the EmailField's validator
        email = registration_email_normalize(email)
    except (DjangoValidationError, APIException, ServiceError):  # the serializer says which
        return None
    return {"full_name": full_name, "email": email, "waitlist": waitlist}


class RegistrationSerializer(serializers.ModelSerializer):
    event_name = serializers.CharField(source="event.name", read_only=True)
    status = serializers.ChoiceField(
        choices=Registration.Status.choices,
        read_only=True,
        help_text="`confirmed` (has a seat; the code was e-mailed), `waitlisted` (waits for one) or `cancelled`.",
    )
    waitlist_position = serializers.SerializerMethodField(
        help_text="Place on the event's waiting list (1 = next to get a seat); null unless waitlisted."
    )

    class Meta:
        model = Registration
        fields = [
            "id",
            "event",
            "event_name",
            "full_name",
            "email",
            "status",
            "waitlist_position",
            "created_at",
            "confirmed_at",
            "cancelled_at",
        ]
        extra_kwargs = always_sent(fields)

    def get_waitlist_position(self, registration: Registration) -> int | None:
        # Set by the services and by `with_waitlist_position` on the list's rows.
        return getattr(registration, "waitlist_position", None)


def registration_item(registration: Registration) -> dict[str, Any]:
    """A registration as `RegistrationSerializer` shows it, built directly (the register call's answer).

    ModelSerializer builds its fields from the model on every instance, which cost
    a fifth of a registration (bench/request_profile.py); the schema still comes
    from the serializer, and tests/events/test_registration_item.py holds the two equal.
    """
    return {
        "id": registration.pk,
        "event": registration.event_id,
        "event_name": registration.event.name,
        "full_name": registration.full_name,
        "email": registration.email,
        "status": registration.status,
        "waitlist_position": getattr(registration, "waitlist_position", None),
        "created_at": registration.created_at,
        "confirmed_at": registration.confirmed_at,
        "cancelled_at": registration.cancelled_at,
    }


class RegistrationListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Registration.Status.choices, required=False, help_text="Only registrations with this status."
    )
