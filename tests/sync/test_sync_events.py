"""`sync_events` against the provider emulator over real HTTP: modes, dates, idempotence, updates."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from events_face.events.models import Event, Registration, Venue
from events_face.sync.models import SyncRun
from tests.support.processes import command_env, manage_in_terminal
from tests.support.sync import TOKEN, sync

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sync_settings")]


def stored_ids() -> set[str]:
    return {str(pk) for pk in Event.objects.values_list("id", flat=True)}


def succeeded_run(*, started_at: datetime, mode=SyncRun.Mode.ALL) -> SyncRun:
    return SyncRun.objects.create(
        mode=mode, started_at=started_at, finished_at=started_at, status=SyncRun.Status.SUCCEEDED
    )


def test_all_mirrors_every_event_following_next_until_null(provider):
    upstream = provider.records()

    result = sync("--all")

    assert result.error is None
    assert stored_ids() == {record["id"] for record in upstream}
    # 45 events in pages of 10: five requests, the first without changed_at, the rest by cursor.
    queries = provider.queries()
    assert queries[0] == "" and len(queries) == 5
    assert all(query.startswith("cursor=") for query in queries[1:])
    run = result.run
    assert (run.mode, run.status, run.since_date) == ("all", "succeeded", None)
    assert (run.created, run.updated, run.unchanged, run.skipped, run.pages) == (45, 0, 0, 0, 5)
    assert run.finished_at >= run.started_at
    assert (
        "45 created, 0 updated, 0 unchanged, 0 skipped, 0 past the cleanup horizon; 5 pages" in result.stdout
    )


def test_stored_events_and_venues_match_the_provider_records(provider):
    upstream = {record["id"]: record for record in provider.records()}

    sync("--all")

    for event in Event.objects.select_related("venue"):
        record = upstream[str(event.id)]
        assert event.name == record["name"]
        assert event.status == record["status"]
        assert event.event_time == datetime.fromisoformat(record["event_time"])
        assert event.provider_changed_at == datetime.fromisoformat(record["changed_at"])
        deadline = record["registration_deadline"]
        assert event.registration_deadline == (deadline and datetime.fromisoformat(deadline))
        if record["place"] is None:
            assert event.venue is None
        else:
            place = record["place"]
            assert (str(event.venue.id), event.venue.name) == (place["id"], place["name"])
            assert event.venue.extra == {k: v for k, v in place.items() if k not in {"id", "name"}}
    assert Event.objects.filter(venue=None).exists(), "the emulator serves some events without a place"


def test_a_second_all_changes_nothing(provider):
    sync("--all")
    before = dict(Event.objects.values_list("id", "updated_at"))

    result = sync("--all")

    run = result.run
    assert (run.created, run.updated, run.unchanged, run.skipped) == (0, 0, 45, 0)
    assert dict(Event.objects.values_list("id", "updated_at")) == before


def test_date_asks_for_changes_on_that_date_or_later_and_stores_just_those(provider):
    changes = sorted(datetime.fromisoformat(r["changed_at"]).date() for r in provider.records())
    middle = changes[len(changes) // 2]
    expected = {r["id"] for r in provider.records(changed_at=middle.isoformat())}
    assert 0 < len(expected) < 45

    result = sync("--date", middle.isoformat())

    assert provider.queries()[0] == f"changed_at={middle.isoformat()}"
    assert all(f"changed_at={middle.isoformat()}" in query for query in provider.queries())
    assert stored_ids() == expected
    assert (result.run.mode, result.run.since_date) == ("date", middle)


def test_incremental_without_a_successful_run_behaves_like_all(provider):
    SyncRun.objects.create(
        mode=SyncRun.Mode.ALL, started_at=timezone.now(), status=SyncRun.Status.FAILED, error="boom"
    )

    result = sync()

    assert provider.queries()[0] == ""
    assert len(stored_ids()) == 45
    assert (result.run.mode, result.run.since_date, result.run.status) == ("incremental", None, "succeeded")


def test_incremental_asks_from_the_date_the_last_successful_run_started(provider):
    # Started a minute before midnight: the date asked is the start's, not the finish's.
    succeeded_run(started_at=datetime(2025, 3, 15, 23, 59, tzinfo=UTC))
    SyncRun.objects.create(  # a later failure does not move the starting point
        mode=SyncRun.Mode.INCREMENTAL, started_at=datetime(2025, 3, 20, tzinfo=UTC), status="failed"
    )
    SyncRun.objects.create(  # nor does a --date run
        mode=SyncRun.Mode.DATE, since_date=date(2025, 3, 25),
        started_at=datetime(2025, 3, 25, tzinfo=UTC), status="succeeded",
    )  # fmt: skip

    result = sync()

    assert provider.queries()[0] == "changed_at=2025-03-15"
    assert result.run.since_date == date(2025, 3, 15)


def test_an_upstream_change_shows_up_after_an_incremental_run(provider):
    first = sync("--all").run
    changed = provider.change(count=3, add=2)
    provider.forget_requests()

    result = sync()

    assert provider.queries()[0] == f"changed_at={first.started_at.astimezone(UTC).date().isoformat()}"
    # Unchanged ones may come too: the provider's date, at +03:00, can be a day ahead of ours.
    assert (result.run.created, result.run.updated) == (2, 3)
    for record in changed:
        event = Event.objects.get(pk=record["id"])
        assert event.name == record["name"] and event.status == record["status"]
        assert event.provider_changed_at == datetime.fromisoformat(record["changed_at"])
    assert len(stored_ids()) == 47


def test_registrations_and_capacity_survive_updates_from_the_provider(provider):
    sync("--all")
    event = Event.objects.order_by("id").first()
    Event.objects.filter(pk=event.pk).update(capacity=25)
    registration = Registration.objects.create(
        event=event, full_name="Ada Lovelace", email="ada@example.com", confirmation_code="123456"
    )
    created_at = event.created_at
    [record] = provider.change(ids=[str(event.id)])

    sync()

    event.refresh_from_db()
    assert event.provider_changed_at == datetime.fromisoformat(record["changed_at"])
    assert event.name == record["name"]
    assert event.capacity == 25
    assert event.created_at == created_at
    assert list(event.registrations.values_list("id", flat=True)) == [registration.id]


def test_an_older_record_does_not_overwrite_a_newer_stored_one(provider):
    sync("--all")
    event = Event.objects.order_by("id").first()
    newer = event.provider_changed_at + timedelta(days=1)
    Event.objects.filter(pk=event.pk).update(name="Renamed upstream later", provider_changed_at=newer)

    result = sync("--all")

    event.refresh_from_db()
    assert event.name == "Renamed upstream later"
    assert (result.run.updated, result.run.unchanged) == (0, 45)


def test_a_venue_renamed_upstream_is_renamed_here(provider):
    sync("--all")
    venue = Venue.objects.filter(events__isnull=False).first()
    # As described by a record older than the provider's current ones.
    older = venue.provider_changed_at - timedelta(days=1)
    Venue.objects.filter(pk=venue.pk).update(
        name="Old name", extra={"city": "Nowhere"}, provider_changed_at=older
    )

    sync("--all")

    venue.refresh_from_db()
    assert venue.name != "Old name" and venue.extra.get("city") != "Nowhere"


def test_an_event_id_that_is_not_ours_yet_is_created_with_no_capacity(provider):
    [record] = provider.change(add=1)

    sync("--all")

    event = Event.objects.get(pk=uuid.UUID(record["id"]))
    assert event.capacity is None


@pytest.mark.django_db(transaction=True)
def test_a_terminal_shows_the_live_display_then_the_summary(provider):
    """Under a pseudo-terminal, as an operator runs it: rich draws pages and records, then the summary."""
    code, text = manage_in_terminal(
        "sync_events", "--all",
        env=command_env(TERM="xterm", COLUMNS="160", EVENTS_PROVIDER_URL=provider.url, EVENTS_PROVIDER_TOKEN=TOKEN),
    )  # fmt: skip

    assert code == 0, text
    assert "45 records" in text, text  # the live display, drawn once more as it closes
    assert "sync succeeded (all" in text and "45 created" in text, text
