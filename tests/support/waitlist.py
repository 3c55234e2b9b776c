"""The waiting list's invariants, checked on what the database holds for one event
(events/lifecycle.py states them; the concurrency and property tests call this)."""

from collections import Counter

from events_face.events.models import Event, Registration, SeatCount
from events_face.events.notifications import (
    CANCELLATION_TOPIC,
    PROMOTION_TOPIC,
    REGISTRATION_NOTIFICATION_TOPIC,
    WAITLIST_JOINED_TOPIC,
)
from events_face.outbox.models import OutboxMessage


def notifications_by_email(emails) -> Counter:
    """(topic, email) -> how many outbox messages."""
    rows = OutboxMessage.objects.filter(payload__email__in=list(emails)).values_list(
        "topic", "payload__email"
    )
    return Counter(rows)


def assert_waitlist_invariants(event_id, *, capacity_may_be_exceeded: bool = False) -> dict:
    """Check every invariant for the event; returns what it counted."""
    event = Event.objects.get(pk=event_id)
    registrations = list(
        Registration.objects.filter(event=event).with_waitlist_position().order_by("created_at", "id")
    )
    confirmed = [r for r in registrations if r.status == Registration.Status.CONFIRMED]
    waiting = [r for r in registrations if r.status == Registration.Status.WAITLISTED]
    cancelled = [r for r in registrations if r.status == Registration.Status.CANCELLED]

    # The counts the database keeps (SeatCount, by triggers) are the rows' own.
    kept = SeatCount.objects.filter(event=event).values_list("confirmed", "waitlisted").first() or (0, 0)
    assert kept == (len(confirmed), len(waiting)), (kept, len(confirmed), len(waiting))
    # 1. confirmed <= capacity (unless staff lowered it below them: nobody is removed).
    if event.capacity is not None and not capacity_may_be_exceeded:
        assert len(confirmed) <= event.capacity, (len(confirmed), event.capacity)
    # 2. nobody waits while a seat is free and the event is open.
    if waiting and event.is_open():
        assert event.capacity is not None and len(confirmed) >= event.capacity, (
            len(confirmed),
            event.capacity,
        )
    # 5. positions 1..k, no gaps, in joining order.
    assert [r.waitlist_position for r in waiting] == list(range(1, len(waiting) + 1))
    assert all(r.waitlist_position is None for r in confirmed + cancelled)
    # Codes: every confirmed one has its code; a waitlisted one has none yet.
    assert all(len(r.confirmation_code) == 6 for r in confirmed)
    assert all(r.confirmation_code == "" for r in waiting)
    # One active registration per e-mail address, any case.
    active = Counter(r.email.lower() for r in confirmed + waiting)
    assert all(count == 1 for count in active.values()), active

    # Exactly one notification per change (4: a second cancellation sends nothing). A row
    # joined the waiting list if it is not confirmed or was confirmed after it was made
    # (a direct confirmation's moment is taken just before the row's `created_at`). The
    # e-mail addresses must be the event's own (no other event's notifications counted).
    sent = Counter(
        OutboxMessage.objects.filter(payload__email__in=[r.email for r in registrations]).values_list(
            "topic", "payload__email"
        )
    )
    expected = Counter()
    promoted = []
    for r in registrations:
        joined_waiting = r.confirmed_at is None or r.confirmed_at > r.created_at
        expected[(WAITLIST_JOINED_TOPIC if joined_waiting else REGISTRATION_NOTIFICATION_TOPIC, r.email)] += 1
        was_promoted = joined_waiting and r.confirmed_at is not None
        if was_promoted:
            expected[(PROMOTION_TOPIC, r.email)] += 1
            promoted.append(r)
        if r.status == Registration.Status.CANCELLED:
            expected[(CANCELLATION_TOPIC, r.email)] += 1
        if r.status == Registration.Status.CONFIRMED and joined_waiting:
            assert was_promoted
    assert sent == expected, (sent - expected, expected - sent)

    # 3. first come, first served: everyone promoted joined before everyone still waiting,
    # and promotions happened in joining order.
    if promoted and waiting:
        assert max((r.created_at, str(r.id)) for r in promoted) < min(
            (r.created_at, str(r.id)) for r in waiting
        )
    by_promotion = sorted(promoted, key=lambda r: (r.confirmed_at, r.created_at, str(r.id)))
    assert by_promotion == sorted(promoted, key=lambda r: (r.created_at, str(r.id)))
    return {
        "confirmed": len(confirmed),
        "waitlisted": len(waiting),
        "cancelled": len(cancelled),
        "promoted": len(promoted),
    }
