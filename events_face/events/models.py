"""Venues, events and registrations: the product itself.

Venues and events are mirrors of the events-provider (their ids are the
provider's UUIDs); registrations are ours. A registration is confirmed,
waitlisted or cancelled (`Registration.Status`); cancelled rows are kept. An
active (confirmed or waitlisted) registration is unique per event and e-mail
address, compared case-insensitively, by a database constraint: a person who
cancelled may register again.

The catalogue (venues and events) carries a version number that database
triggers bump on every insert, update or delete of either table, in the
writing transaction (migration 0003): the sync, `cleanup_events`, the admin
and any raw SQL alike. Cached API responses are keyed on it.
"""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Venue(models.Model):
    id = models.UUIDField(primary_key=True, help_text=_("The provider's id of the place."))
    name = models.CharField(_("name"), max_length=255)
    # Fields some provider versions add (city, address, seats_pattern, ...).
    extra = models.JSONField(_("extra details"), default=dict, blank=True)
    provider_changed_at = models.DateTimeField(
        _("provider changed at"),
        null=True,
        blank=True,
        help_text=_(
            "changed_at of the provider record that last set the name and extra fields "
            "(empty for venues synced before it was kept); only a newer record changes them."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("venue")
        verbose_name_plural = _("venues")

    def __str__(self) -> str:
        return self.name


class EventQuerySet(models.QuerySet):
    def open_for_registration(self, *, now: datetime) -> "EventQuerySet":
        """Events a person may register for at `now` (capacity aside); see `Event.is_open`."""
        return self.registration_not_closed(now=now).upcoming(now=now)

    def registration_not_closed(self, *, now: datetime) -> "EventQuerySet":
        """Open status, deadline not passed: open for registration if not yet started."""
        return self.filter(
            Q(status__in=Event.OPEN_STATUSES)
            & (Q(registration_deadline__isnull=True) | Q(registration_deadline__gt=now))
        )

    def upcoming(self, *, now: datetime) -> "EventQuerySet":
        return self.filter(event_time__gt=now)


class Event(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        PUBLISHED = "published", _("Published")
        REGISTRATION_CLOSED = "registration_closed", _("Registration closed")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    # Statuses under which registration may be open (deadline permitting).
    OPEN_STATUSES = (Status.NEW, Status.PUBLISHED)

    id = models.UUIDField(primary_key=True, help_text=_("The provider's id of the event."))
    name = models.CharField(_("name"), max_length=500)
    event_time = models.DateTimeField(_("event time"))
    registration_deadline = models.DateTimeField(_("registration deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=32, choices=Status.choices)
    # No index of its own: `event_venue_time_idx` starts with it.
    venue = models.ForeignKey(
        Venue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,
        verbose_name=_("venue"),
    )
    capacity = models.PositiveIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        help_text=_("Maximum number of registrations; empty means unlimited."),
    )
    provider_changed_at = models.DateTimeField(
        _("changed at the provider"), help_text=_("`changed_at` as the provider last reported it.")
    )
    # The iCalendar SEQUENCE of the event's entry: the sync raises it when the name, the
    # time or the venue changes, so calendar apps replace their copy (calendars/ics.py).
    calendar_sequence = models.PositiveIntegerField(_("calendar sequence"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["event_time", "id"]
        # Every list filter is an equality prefix followed by (event_time, id), so
        # each page is an index range read in order that stops after the page
        # (see `selectors.event_page`); none of them needs planner statistics.
        indexes = [
            models.Index(fields=["status", "event_time", "id"], name="event_status_time_idx"),
            models.Index(fields=["event_time", "id"], name="event_time_id_idx"),
            models.Index(fields=["venue", "status", "event_time", "id"], name="event_venue_status_time_idx"),
            models.Index(fields=["venue", "event_time", "id"], name="event_venue_time_idx"),
        ]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return self.name

    def is_open(self, *, now: datetime | None = None) -> bool:
        """Open for registration (capacity aside): the one rule behind the list's
        default (`EventQuerySet.open_for_registration`), the `registration_open`
        field and the registration service."""
        return Event.open_at(
            status=self.status,
            event_time=self.event_time,
            registration_deadline=self.registration_deadline,
            now=now or timezone.now(),
        )

    @staticmethod
    def open_at(
        *, status: str, event_time: datetime, registration_deadline: datetime | None, now: datetime
    ) -> bool:
        """`is_open` for an event read as values, not as an instance."""
        return (
            status in Event.OPEN_STATUSES
            and event_time > now
            and (registration_deadline is None or registration_deadline > now)
        )


class CatalogueVersion(models.Model):
    """One row whose `version` the catalogue triggers bump (see the module docstring).

    Written only by the triggers; a missing row reads as version 0.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")

    def __str__(self) -> str:
        return f"catalogue version {self.version}"


class SeatCount(models.Model):
    """How many confirmed and how many waitlisted registrations an event has, kept by the database.

    Triggers on events_registration (migration 0016) keep them in the writing
    transaction, whoever writes: a registration, a cancellation, a promotion,
    `bulk_create`, the admin, the cleanup's raw DELETEs. An event without a row
    has none (a row is deleted when both reach 0, so nothing outlives
    an event's registrations). Under the event's lock (`events/locking.py`) they
    are read in one index probe, where counting the rows grew with them.
    No foreign key: the cleanup deletes an event's registrations, then the event,
    in set-based statements, and the triggers have removed the row by then.
    """

    event = models.OneToOneField(
        Event, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    confirmed = models.PositiveIntegerField(default=0)
    waitlisted = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("seat count")
        verbose_name_plural = _("seat counts")

    def __str__(self) -> str:
        return f"{self.confirmed} confirmed, {self.waitlisted} waitlisted for {self.event_id}"


class RegistrationQuerySet(models.QuerySet):
    def active(self) -> "RegistrationQuerySet":
        return self.filter(status__in=Registration.ACTIVE_STATUSES)

    def waiting_order(self) -> "RegistrationQuerySet":
        """Waitlisted registrations, first come first served: by time joined, then id."""
        return self.filter(status=Registration.Status.WAITLISTED).order_by("created_at", "id")

    def with_waitlist_position(self) -> "RegistrationQuerySet":
        """Each row with `waitlist_position`: 1 + the waitlisted of its event ahead of it
        in `waiting_order`, or None when it is not waitlisted (one index range each:
        `registration_event_status_idx`)."""
        ahead = (
            Registration.objects.filter(event=OuterRef("event"), status=Registration.Status.WAITLISTED)
            .filter(
                Q(created_at__lt=OuterRef("created_at"))
                | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
            )
            .order_by()
            .values("event")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return self.annotate(
            waitlist_position=Case(
                When(status=Registration.Status.WAITLISTED, then=Coalesce(Subquery(ahead), 0) + 1),
                default=None,
                output_field=models.IntegerField(),
            )
        )


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("Waitlisted")
        CANCELLED = "cancelled", _("Cancelled")

    # Statuses that hold a place (a seat, or a place in the queue); the unique
    # (event, lower(email)) constraint holds among these only.
    ACTIVE_STATUSES = (Status.CONFIRMED, Status.WAITLISTED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("event")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registrations",
        verbose_name=_("user"),
    )
    full_name = models.CharField(_("full name"), max_length=128)
    email = models.EmailField(_("e-mail address"), max_length=254)
    # Empty while waitlisted: the code is made when the registration is confirmed.
    confirmation_code = models.CharField(_("confirmation code"), max_length=16, editable=False, blank=True)
    # Optional client-chosen key: a repeat by the same user replays the first response.
    # NULL, not "", for "no key": NULLs stay outside the (user, key) unique constraint.
    idempotency_key = models.CharField(  # noqa: DJ001
        _("idempotency key"), max_length=255, null=True, blank=True, editable=False
    )
    # The language of the request that made it (a code of settings.LANGUAGES): the
    # notification is written in it. Rows from before languages were kept say "en".
    language = models.CharField(_("language"), max_length=8, default="en", editable=False)
    # Rows from before statuses were kept are confirmed (the column's database default).
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.CONFIRMED,
        db_default=Status.CONFIRMED,
        editable=False,
    )
    # When it joined: the waiting list's order is (created_at, id).
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # When it got its seat (at creation, or when promoted from the waiting list);
    # empty for rows made before statuses were kept (confirmed at `created_at`).
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)
    # At the door (`events/check_in.py`): when, by whom, and the scan's Idempotency-Key,
    # so a retried scan answers its first success again.
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True, editable=False)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("checked in by"),
    )
    check_in_key = models.CharField(max_length=255, null=True, blank=True, editable=False)  # noqa: DJ001
    # When its reminder was written to the outbox (`events/reminders.py`); cleared when
    # the sync moves the event, so a new one comes before the new time.
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True, editable=False)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                "event",
                Lower("email"),
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="registration_unique_active_event_email_ci",
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="registration_unique_user_idempotency_key",
            ),
            # A code names one registration of its event (waitlisted ones have none yet).
            # Also the check-in's lookup: (event, code).
            models.UniqueConstraint(
                fields=["event", "confirmation_code"],
                condition=~Q(confirmation_code=""),
                name="registration_unique_event_code",
            ),
        ]
        permissions = [("check_in", "Can check registrants in at the door")]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="registration_user_idx"),
            # The per-address rate (services._address_rate_check).
            models.Index(Lower("email"), "created_at", name="registration_email_recent_idx"),
            # Seats taken (count of confirmed) and the waiting list's order, per event.
            models.Index(
                fields=["event", "status", "created_at", "id"], name="registration_event_status_idx"
            ),
        ]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}> for {self.event_id}"
