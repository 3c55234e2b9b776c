"""`cleanup_events`: past events go with their registrations and their now-unused venues."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from events_face.events.models import Event, Registration, Venue
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event, make_venue

pytestmark = pytest.mark.django_db


def register(event: Event, email: str) -> Registration:
    # A code of its own: a code names one registration of its event.
    code = f"{Registration.objects.filter(event=event).count():06d}"
    return Registration.objects.create(event=event, full_name="Reg", email=email, confirmation_code=code)


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def cleanup(*args: str) -> str:
    out = io.StringIO()
    call_command("cleanup_events", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(params=["default batches", "one event per batch"])
def cleanup_in_batches(request):
    """`cleanup` with the default batch size, and with batches of one event: every rule holds across batches."""
    extra = ("--batch-size", "1") if request.param == "one event per batch" else ()
    return lambda *args: cleanup(*args, *extra)


@pytest.fixture
def calendar():
    """Events around the 7-day line, registrations on both sides, shared and private venues."""
    only_old = make_venue(name="Only old events")
    shared = make_venue(name="Old and new events")
    unused = make_venue(name="No events at all")
    old = make_event(event_time=days_ago(30), venue=only_old)
    old_too = make_event(event_time=days_ago(7.01), venue=shared)
    old_without_venue = make_event(event_time=days_ago(8), venue=None)
    recent = make_event(event_time=days_ago(6.9), venue=shared)
    upcoming = make_event(event_time=days_ago(-5), venue=None)
    for event in (old, old, old_too, recent, upcoming):
        register(event, f"{event.pk}-{Registration.objects.count()}@example.com")
    OutboxMessage.objects.create(topic="registration.created", payload={"email": "x@example.com"})
    return {
        "old": [old, old_too, old_without_venue],
        "kept": [recent, upcoming],
        "venues": {"only_old": only_old, "shared": shared, "unused": unused},
    }


def test_deletes_events_older_than_seven_days_with_their_registrations(calendar, cleanup_in_batches):
    out = cleanup_in_batches()

    assert set(Event.objects.all()) == set(calendar["kept"])
    assert set(Registration.objects.values_list("event_id", flat=True)) == {e.pk for e in calendar["kept"]}
    assert "deleted 3 events older than 7 days, 3 registrations, 1 venues" in out


def test_venues_are_deleted_only_when_no_event_uses_them_any_more(calendar, cleanup_in_batches):
    cleanup_in_batches()

    venues = calendar["venues"]
    assert not Venue.objects.filter(pk=venues["only_old"].pk).exists()
    assert Venue.objects.filter(pk=venues["shared"].pk).exists()
    assert Venue.objects.filter(pk=venues["unused"].pk).exists(), "not an old event's: not ours to delete"


def test_outbox_messages_are_left_for_the_outbox(calendar):
    cleanup()

    assert OutboxMessage.objects.count() == 1


def test_days_moves_the_line(calendar, cleanup_in_batches):
    out = cleanup_in_batches("--days", "20")

    assert not Event.objects.filter(pk=calendar["old"][0].pk).exists()
    assert Event.objects.count() == 4
    assert "deleted 1 events older than 20 days, 2 registrations, 1 venues" in out


def test_dry_run_reports_the_same_counts_and_deletes_nothing(calendar):
    before = (Event.objects.count(), Registration.objects.count(), Venue.objects.count())

    out = cleanup("--dry-run")

    assert "would delete 3 events older than 7 days, 3 registrations, 1 venues" in out
    assert (Event.objects.count(), Registration.objects.count(), Venue.objects.count()) == before


def test_negative_days_are_refused():
    with pytest.raises(CommandError, match="--days must be zero or more"):
        cleanup("--days", "-1")
