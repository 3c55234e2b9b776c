"""The sync and the cleanup agree on what we keep, leave no orphan venue, and say what they did.

- One rule, `CLEANUP_AFTER_DAYS`: `cleanup_events` deletes events older than it
  (its --days default) and `sync_events` does not import them, so the sync no
  longer brings back what the cleanup just deleted.
- A successful run deletes the venues no event uses any more; a failed one does not.
- `--date` in the future is refused; the summary says "1 page", "2 pages"
  (and in Russian, with its three forms).

Against a fake provider on 127.0.0.1 whose pages the test writes, and the real test database.
"""

import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from events_face.events.models import Event, Venue
from events_face.sync.models import SyncRun
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.sync import sync

pytestmark = pytest.mark.django_db


def record(event: int, *, days_from_now: float, venue: int | None = None, changed_minutes: int = 0) -> dict:
    now = timezone.now()
    return {
        "id": str(uuid.UUID(int=event)),
        "name": f"Event {event}",
        "place": None if venue is None else {"id": str(uuid.UUID(int=venue)), "name": f"Venue {venue}"},
        "event_time": (now + timedelta(days=days_from_now)).isoformat(),
        "registration_deadline": None,
        "status": "published",
        "changed_at": (now - timedelta(days=90) + timedelta(minutes=changed_minutes)).isoformat(),
    }


class Provider:
    """A fake provider serving `pages` (lists of records), or `failing` after the first page."""

    def __init__(self) -> None:
        self.pages: list[list[dict]] = [[]]
        self.failing = False
        self.server = FakeUpstream(self.answer)

    def answer(self, request) -> Answer:
        number = int(request.path.rpartition("page=")[2]) if "page=" in request.path else 1
        if number > 1 and self.failing:
            return Answer(status=400, body=b'{"detail": "no"}')
        following = self.server.url(f"/api/events/?page={number + 1}") if number < len(self.pages) else None
        return Answer(
            body=json.dumps({"next": following, "previous": None, "results": self.pages[number - 1]}).encode()
        )


@pytest.fixture
def provider(settings):
    fake = Provider()
    with fake.server:
        settings.EVENTS_PROVIDER_URL = fake.server.url("/api/events/")
        settings.EVENTS_PROVIDER_TOKEN = "token"
        settings.SYNC_MAX_RETRIES = 0
        settings.CLEANUP_AFTER_DAYS = 7
        yield fake


def ids() -> set[int]:
    return {event_id.int for event_id in Event.objects.values_list("id", flat=True)}


# --- one horizon for the cleanup and the sync ---------------------------------------------------------


def test_the_sync_does_not_bring_back_what_the_cleanup_deleted(provider):
    provider.pages = [[
        record(1, days_from_now=-30, venue=11),  # past the horizon
        record(2, days_from_now=-3, venue=12),  # past, within it
        record(3, days_from_now=10, venue=12),
    ]]  # fmt: skip

    first = sync("--all")
    call_command("cleanup_events", stdout=io.StringIO())  # --days: CLEANUP_AFTER_DAYS
    second = sync("--all")

    assert ids() == {2, 3}
    assert (first.run.created, first.run.too_old) == (2, 1)
    assert (second.run.created, second.run.unchanged, second.run.too_old) == (0, 2, 1)
    assert not Venue.objects.filter(pk=uuid.UUID(int=11)).exists()  # not even its place
    assert "1 past the cleanup horizon" in second.stdout


def test_cleanup_days_defaults_to_the_setting(provider, settings):
    provider.pages = [[record(1, days_from_now=-5), record(2, days_from_now=-1)]]
    settings.CLEANUP_AFTER_DAYS = 30
    sync("--all")
    settings.CLEANUP_AFTER_DAYS = 3

    output = io.StringIO()
    call_command("cleanup_events", stdout=output)

    assert ids() == {2}
    assert "older than 3 days" in output.getvalue()


def test_an_event_we_hold_moved_past_the_horizon_is_updated_not_left_open_and_the_cleanup_takes_it(provider):
    provider.pages = [[record(1, days_from_now=5, venue=11)]]
    sync("--all")
    provider.pages = [[record(1, days_from_now=-10, venue=11, changed_minutes=5)]]

    result = sync("--all")

    assert (result.run.updated, result.run.too_old) == (1, 0)
    assert not Event.objects.get(pk=uuid.UUID(int=1)).is_open()
    call_command("cleanup_events", stdout=io.StringIO())
    assert ids() == set()
    sync("--all")
    assert ids() == set()


# --- venues left without events --------------------------------------------------------------------------


def test_a_successful_run_deletes_the_venues_no_event_uses_any_more(provider):
    provider.pages = [[record(1, days_from_now=5, venue=11), record(2, days_from_now=5, venue=12)]]
    sync("--all")
    # Event 1 moves to venue 13; event 2 loses its place: venues 11 and 12 are left without events.
    provider.pages = [[
        record(1, days_from_now=5, venue=13, changed_minutes=1),
        record(2, days_from_now=5, venue=None, changed_minutes=1),
        record(3, days_from_now=5, venue=14),
    ]]  # fmt: skip

    result = sync()

    assert result.run.status == SyncRun.Status.SUCCEEDED
    assert {venue_id.int for venue_id in Venue.objects.values_list("id", flat=True)} == {13, 14}


def test_a_failed_run_deletes_no_venue(provider):
    provider.pages = [[record(1, days_from_now=5, venue=11)]]
    sync("--all")
    provider.pages = [[record(1, days_from_now=5, venue=13, changed_minutes=1)], []]
    provider.failing = True

    result = sync("--all")

    assert result.run.status == SyncRun.Status.FAILED
    assert {venue_id.int for venue_id in Venue.objects.values_list("id", flat=True)} == {11, 13}


# --- the command line ---------------------------------------------------------------------------------------


def test_a_date_in_the_future_is_refused_and_no_run_is_recorded(provider):
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()

    result = sync("--date", tomorrow)

    assert result.run is None and provider.server.requests == []
    assert result.error.startswith(f"--date {tomorrow} is in the future")
    assert sync("--date", timezone.now().date().isoformat()).run.status == SyncRun.Status.SUCCEEDED


@pytest.mark.parametrize(
    "language, pages, expected",
    [
        ("en", 1, "; 1 page in "),
        ("en", 2, "; 2 pages in "),
        ("ru", 1, "; 1 страница за "),
        ("ru", 3, "; 3 страницы за "),
        ("ru", 5, "; 5 страниц за "),
    ],
)
def test_the_summary_counts_pages_in_the_languages_plural(provider, language, pages, expected):
    provider.pages = [[record(n, days_from_now=5)] for n in range(1, pages + 1)]

    with translation.override(language):
        result = sync("--all")

    assert result.run.pages == pages
    assert expected in result.stdout, result.stdout
