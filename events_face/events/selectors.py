"""Reading events and registrations."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from events_face.config.errors import ServiceError
from events_face.events.models import Event, Registration

ALL_STATUSES = "all"


class EventNotFound(ServiceError):
    status_code = 404
    code = "not_found"
    default_message = "No event with this id."


def registration_open_q(*, now: datetime) -> Q:
    """Events a person may register for right now (capacity aside)."""
    return (
        Q(status__in=Event.OPEN_STATUSES, event_time__gt=now)
        & (Q(registration_deadline__isnull=True) | Q(registration_deadline__gt=now))
    )


def event_is_open(event: Event, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        event.status in Event.OPEN_STATUSES
        and event.event_time > now
        and (event.registration_deadline is None or event.registration_deadline > now)
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def event_list(*, filters: dict[str, Any] | None = None, now: datetime | None = None) -> QuerySet[Event]:
    """Events for the public list, ordered for keyset pagination.

    Default: the events one can register for now (status `new` or
    `published`, deadline not passed, not started). Giving `status` replaces
    that with the statuses asked for (`all` lifts it) among events not yet
    started; giving `date_from` or `date_to` replaces "not yet started".
    """
    filters = filters or {}
    now = now or timezone.now()
    queryset = Event.objects.select_related("venue")

    statuses = filters.get("status")
    if not statuses:
        queryset = queryset.filter(
            Q(status__in=Event.OPEN_STATUSES)
            & (Q(registration_deadline__isnull=True) | Q(registration_deadline__gt=now))
        )
    elif ALL_STATUSES not in statuses:
        queryset = queryset.filter(status__in=statuses)

    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if date_from is None and date_to is None:
        queryset = queryset.filter(event_time__gte=now)
    if date_from is not None:
        queryset = queryset.filter(event_time__gte=_start_of(date_from))
    if date_to is not None:
        # Inclusive: the whole of date_to.
        queryset = queryset.filter(event_time__lt=_start_of(date_to) + timedelta(days=1))
    if filters.get("name"):
        queryset = queryset.filter(name__icontains=filters["name"])
    if filters.get("venue"):
        queryset = queryset.filter(venue_id=filters["venue"])

    if filters.get("ordering") == "-event_time":
        return queryset.order_by("-event_time", "-id")
    return queryset.order_by("event_time", "id")


def event_get(*, event_id: str | uuid.UUID) -> Event:
    """One event by id; a malformed id is just an unknown one (404)."""
    try:
        event_uuid = uuid.UUID(str(event_id))
    except ValueError:
        raise EventNotFound() from None
    event = Event.objects.select_related("venue").filter(pk=event_uuid).first()
    if event is None:
        raise EventNotFound()
    return event


def registration_list(*, user) -> QuerySet[Registration]:
    return Registration.objects.filter(user=user).select_related("event").order_by("-created_at", "-id")
