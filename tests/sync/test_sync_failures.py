"""`sync_events` when the provider misbehaves: retries, refusals, broken pages and records."""

import io
import logging
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from events_face.events.models import Event
from events_face.sync import services
from events_face.sync.management.commands import sync_events
from events_face.sync.models import SyncRun
from tests.support.sync import sync

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sync_settings")]


def test_a_persistent_500_mid_pagination_fails_the_run_and_keeps_the_earlier_pages(provider):
    sync("--all")
    SyncRun.objects.update(started_at=datetime(2025, 3, 15, 8, tzinfo=UTC))
    changed = {record["id"]: record for record in provider.change(count=30)}
    provider.set_faults(script=[{"after": 2, "times": -1, "status": 500}])
    provider.forget_requests()

    failed = sync()

    assert failed.error is not None and "500" in failed.error
    run = failed.run
    assert (run.status, run.pages, run.updated + run.unchanged) == ("failed", 2, 20)
    assert "500" in run.error
    # Page 3 was asked 1 + SYNC_MAX_RETRIES (2) times before giving up.
    assert [r["status"] for r in provider.requests()] == [200, 200, 500, 500, 500]
    applied = [
        event_id
        for event_id, record in changed.items()
        if Event.objects.get(pk=event_id).provider_changed_at == datetime.fromisoformat(record["changed_at"])
    ]
    assert len(applied) == run.updated > 0, "what the first pages applied stays applied"

    provider.clear_faults()
    provider.forget_requests()
    resumed = sync()

    assert provider.queries()[0] == "changed_at=2025-03-15", "the failed run did not move the starting point"
    assert resumed.run.status == "succeeded"
    assert run.updated + resumed.run.updated == 30
    for event_id, record in changed.items():
        event = Event.objects.get(pk=event_id)
        assert event.provider_changed_at == datetime.fromisoformat(record["changed_at"])


@pytest.mark.parametrize("status", [500, 408, 425])
def test_transient_answers_are_retried_and_the_run_succeeds(provider, status):
    provider.set_faults(script=[{"after": 1, "times": 2, "status": status}])

    result = sync("--all")

    assert result.run.status == "succeeded" and len(set(Event.objects.values_list("id"))) == 45
    statuses = [r["status"] for r in provider.requests()]
    assert statuses[:4] == [200, status, status, 200]
    second_page = [r["query"] for r in provider.requests()[1:4]]
    assert len(set(second_page)) == 1, "the retries ask for the same page"


def test_retry_after_is_honoured_on_429(provider, settings):
    settings.SYNC_BACKOFF_MAX = 0.01  # far below Retry-After: only the header can explain the wait
    provider.set_faults(script=[{"after": 1, "times": 1, "status": 429, "retry_after": 1}])

    result = sync("--all")

    assert result.run.status == "succeeded"
    limited, retried = provider.requests()[1:3]
    assert (limited["status"], retried["status"]) == (429, 200)
    assert limited["query"] == retried["query"]
    assert retried["time"] - limited["time"] >= 1.0


def test_a_rejected_token_fails_at_once_naming_the_setting(provider, settings):
    settings.EVENTS_PROVIDER_TOKEN = "expired-token"

    result = sync("--all")

    assert "EVENTS_PROVIDER_TOKEN" in result.error
    assert [r["status"] for r in provider.requests()] == [401], "not retried"
    assert result.run.status == "failed" and "EVENTS_PROVIDER_TOKEN" in result.run.error


def test_a_non_json_page_fails_the_run_and_keeps_the_earlier_pages(provider):
    provider.set_faults(script=[{"after": 2, "times": 1, "body": "not_json"}])

    result = sync("--all")

    assert "not JSON" in result.error
    assert (result.run.status, result.run.pages, result.run.created) == ("failed", 2, 20)
    assert Event.objects.count() == 20


def test_a_page_of_the_wrong_shape_fails_the_run(provider):
    provider.set_faults(script=[{"after": 0, "times": 1, "body": "wrong_shape"}])

    result = sync("--all")

    assert "shape" in result.error
    assert result.run.status == "failed" and Event.objects.count() == 0


def test_invalid_records_are_skipped_counted_and_logged_and_the_rest_applied(provider, caplog):
    provider.set_faults(malformed_fraction=0.2)
    malformed = provider.state()["malformed_ids"]
    assert 0 < len(malformed) < 45

    with caplog.at_level(logging.WARNING, logger="events_face.sync"):
        result = sync("--all")

    assert result.run.status == "succeeded"
    assert result.run.skipped == len(malformed)
    assert result.run.created == 45 - len(malformed)
    stored = {str(pk) for pk in Event.objects.values_list("id", flat=True)}
    assert stored.isdisjoint(malformed)
    skips = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipped provider record")]
    assert len(skips) == len(malformed)
    assert all("page http://" in message for message in skips)


def test_an_unreachable_provider_fails_after_the_retries(provider, settings):
    provider.emulator.stop()

    result = sync("--all")

    assert "could not reach" in result.error and "3 attempts" in result.error
    assert result.run.status == "failed"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"EVENTS_PROVIDER_URL": ""}, "EVENTS_PROVIDER_URL is not set"),
        (
            {"EVENTS_PROVIDER_URL": "provider.example/api/events/"},
            "EVENTS_PROVIDER_URL is not an http(s) URL",
        ),
        ({"EVENTS_PROVIDER_TOKEN": ""}, "EVENTS_PROVIDER_TOKEN is not set"),
    ],
)
def test_missing_or_malformed_configuration_is_refused_before_any_run(settings, overrides, message):
    for name, value in overrides.items():
        setattr(settings, name, value)

    result = sync("--all")

    assert message in result.error
    assert result.run is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--all", "--date", "2025-03-15"), "--all and --date cannot be used together"),
        (("--date", "15.03.2025"), "--date must be a date as YYYY-MM-DD"),
        (("--date", "2025-02-30"), "--date must be a date as YYYY-MM-DD"),
        (("--watch", "5", "--all"), "--watch repeats incremental syncs"),
    ],
)
def test_contradictory_or_malformed_arguments_are_refused(provider, args, message):
    result = sync(*args)

    assert message in result.error
    assert result.run is None and provider.requests() == []


def _page_apply_failing(monkeypatch, *, times: int) -> None:
    """The first `times` pages applied raise an error nothing foresaw; later ones are applied."""
    real = services.sync_page_apply
    calls = []

    def page_apply(**kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise RuntimeError("boom: a bug")
        return real(**kwargs)

    monkeypatch.setattr(services, "sync_page_apply", page_apply)


def test_an_unexpected_error_fails_a_single_run_and_the_command(provider, monkeypatch):
    _page_apply_failing(monkeypatch, times=1)

    with pytest.raises(RuntimeError, match="boom"):  # manage.py exits 1 with the traceback
        call_command("sync_events", "--all", stdout=io.StringIO(), stderr=io.StringIO())

    run = SyncRun.objects.get()
    assert (run.status, run.error) == ("failed", "RuntimeError: boom: a bug")


# Transactional: each round drops a connection that is not in autocommit, as a test transaction is not.
@pytest.mark.django_db(transaction=True)
def test_watch_survives_an_unexpected_error_in_one_round(provider, monkeypatch, caplog):
    _page_apply_failing(monkeypatch, times=1)
    rounds = []
    real_sync = sync_events.Command._sync

    def sync_then_stop_after_two(self, **kwargs):
        rounds.append(1)
        try:
            return real_sync(self, **kwargs)
        finally:
            if len(rounds) == 2:
                self.stop.set()

    monkeypatch.setattr(sync_events.Command, "_sync", sync_then_stop_after_two)

    with caplog.at_level(logging.WARNING, logger="events_face.sync"):
        call_command("sync_events", "--watch", "0", stdout=io.StringIO(), stderr=io.StringIO())

    failed, succeeded = SyncRun.objects.order_by("pk")
    assert (failed.status, failed.error) == ("failed", "RuntimeError: boom: a bug")
    assert (succeeded.status, succeeded.mode, succeeded.created) == ("succeeded", "incremental", 45)
    assert SyncRun.objects.count() == 2 and Event.objects.count() == 45
    (logged,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "unexpected error" in logged.getMessage()
    assert logged.exc_info is not None and logged.exc_info[0] is RuntimeError
