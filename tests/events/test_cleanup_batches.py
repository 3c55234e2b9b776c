"""`cleanup_events` at scale: bounded batches, each its own transaction; a run that dies
keeps what it committed and the next run finishes; a progress bar in a terminal.

The commands run as real processes against the test database, so a batch's
commit is seen, or not, from the test's own connection.
"""

import signal
import subprocess
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from events_face.events.cleanup import past_events_delete
from events_face.events.models import Event, Registration, Venue
from tests.support.database_faults import fault_trigger_install, fault_trigger_remove
from tests.support.factories import make_event, make_venue
from tests.support.polling import wait_until
from tests.support.processes import command_env, manage, manage_in_terminal

pytestmark = pytest.mark.django_db(transaction=True)

postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks")

OLD_EVENTS = 35
BATCH = "10"


def register(event: Event) -> Registration:
    return Registration.objects.create(
        event=event, full_name="Reg", email=f"{event.pk}@example.com", confirmation_code="000000"
    )


@pytest.fixture
def history():
    """35 events 8 to 42 days old (oldest first), 3 recent or upcoming; one registration each.

    The oldest and the youngest old event share a venue, so it goes in the last batch, not the first.
    """
    now = timezone.now()
    spanning = make_venue(name="Used by the first and the last batch")
    old = [
        make_event(
            event_time=now - timedelta(days=42 - day), venue=spanning if day in (0, OLD_EVENTS - 1) else None
        )
        for day in range(OLD_EVENTS)
    ]
    kept = [make_event(event_time=now + timedelta(days=offset)) for offset in (-6, -1, 3)]
    for event in old + kept:
        register(event)
    return {"old": old, "kept": kept, "spanning_venue": spanning}


def cleanup_process(*args: str) -> subprocess.Popen:
    return manage(
        "cleanup_events",
        "--batch-size",
        BATCH,
        *args,
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def remaining(events: list[Event]) -> list[Event]:
    ids = set(Event.objects.filter(pk__in=[event.pk for event in events]).values_list("pk", flat=True))
    return [event for event in events if event.pk in ids]


def assert_consistent(history, *, old_left: int) -> None:
    """The `old_left` youngest old events are still there, each with its registration; the rest went whole."""
    assert remaining(history["old"]) == history["old"][OLD_EVENTS - old_left :]
    assert remaining(history["kept"]) == history["kept"]
    # Every registration left belongs to an event left, and every event left kept its own.
    assert Registration.objects.count() == Event.objects.count() == old_left + len(history["kept"])
    assert not Registration.objects.exclude(event__in=Event.objects.all()).exists()


# --- each batch commits on its own ---------------------------------------------------------------


@pytest.fixture
def failing_delete_of():
    """A database fault: deleting the given event fails (the batch that holds it rolls back)."""
    installed = []

    def install(event: Event) -> None:
        fault_trigger_install(
            "cleanup_test_fault",
            table="events_event",
            operation="DELETE",
            message="injected fault",
            row_id=event.pk,
        )
        installed.append(True)

    def remove() -> None:
        fault_trigger_remove("cleanup_test_fault", table="events_event")

    install.remove = remove
    yield install
    if installed:
        remove()


def test_a_failed_batch_rolls_back_alone_and_the_next_run_finishes(history, failing_delete_of):
    # The 25th oldest event is in the third batch of ten.
    failing_delete_of(history["old"][24])

    failed = cleanup_process()
    out, err = failed.communicate(timeout=60)

    assert failed.returncode == 1, out + err
    assert "deleted 20 events older than 7 days, 20 registrations, 0 venues" in out
    assert "A batch failed and was rolled back" in err and "injected fault" in err
    assert_consistent(history, old_left=15)
    assert Venue.objects.filter(pk=history["spanning_venue"].pk).exists()

    failing_delete_of.remove()
    rerun = cleanup_process()
    out, err = rerun.communicate(timeout=60)

    assert rerun.returncode == 0, out + err
    assert "deleted 15 events older than 7 days, 15 registrations, 1 venues" in out
    assert_consistent(history, old_left=0)
    assert not Venue.objects.filter(pk=history["spanning_venue"].pk).exists()


@postgresql_only
def test_a_run_killed_midway_keeps_its_committed_batches_and_a_rerun_finishes(history):
    with transaction.atomic():
        # Hold the 15th oldest event: the run's second batch waits for it.
        Event.objects.select_for_update().get(pk=history["old"][14].pk)
        run = cleanup_process()
        try:
            # Seen from this connection while the run waits: its first batch is committed.
            wait_until(
                lambda: len(remaining(history["old"])) == OLD_EVENTS - 10,
                timeout=60,
                message="batch 1 commits",
            )
            wait_until(lambda: waiting_for_a_lock(run), timeout=30, message="batch 2 waits for the held row")
        finally:
            run.kill()
            run.communicate()

    assert_consistent(history, old_left=25)

    rerun = cleanup_process()
    out, err = rerun.communicate(timeout=60)

    assert rerun.returncode == 0, out + err
    assert "deleted 25 events older than 7 days, 25 registrations, 1 venues" in out
    assert_consistent(history, old_left=0)


@postgresql_only
def test_sigterm_stops_after_the_batch_in_hand(history):
    held = history["old"][14]
    with transaction.atomic():
        Event.objects.select_for_update().get(pk=held.pk)
        run = cleanup_process()
        wait_until(lambda: waiting_for_a_lock(run), timeout=60, message="batch 2 waits for the held row")
        run.send_signal(signal.SIGTERM)
    # Released: the second batch finishes, and no third one starts.
    out, err = run.communicate(timeout=60)

    assert run.returncode == 1, out + err
    assert "deleted 20 events older than 7 days, 20 registrations, 0 venues" in out
    assert "Stopped by a signal; run cleanup_events again" in err
    assert_consistent(history, old_left=15)


def waiting_for_a_lock(process: subprocess.Popen) -> bool:
    assert process.poll() is None, process.communicate()
    with connection.cursor() as cursor:
        # Within a transaction PostgreSQL answers from its first look at the activity; look again.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


# --- what each batch costs ------------------------------------------------------------------------


class Statements(list):
    """Every statement the connection runs (the service clears Django's own query log per batch)."""

    def __call__(self, execute, sql, params, many, context):
        if not is_transaction_control(sql):
            self.append(sql)
        return execute(sql, params, many, context)


def test_each_batch_is_a_few_set_based_statements_and_loads_no_event(history):
    batches, statements = [], Statements()
    with connection.execute_wrapper(statements):
        deleted = past_events_delete(
            before=timezone.now() - timedelta(days=7), batch_size=10, on_batch=batches.append
        )

    assert (deleted.events, deleted.registrations, deleted.venues) == (35, 35, 1)
    assert [batch.events for batch in batches] == [10, 10, 10, 5]
    # Per batch: select the ids, delete registrations, events (and the venues left unused, when there are some).
    assert len(statements) <= 4 * len(batches), statements
    deletes = [sql for sql in statements if sql.startswith("DELETE FROM")]
    assert sum('DELETE FROM "events_event"' in sql for sql in deletes) == 4
    selects = [sql for sql in statements if sql.startswith("SELECT")]
    assert all('"events_event"."name"' not in sql for sql in selects), "no event is loaded whole"
    assert all(sql.count(" LIMIT 10") == 1 for sql in selects)
    assert_consistent(history, old_left=0)


def is_transaction_control(sql: str) -> bool:
    """Transaction boundaries and the batch's planner settings (`SET LOCAL`, PostgreSQL): no rows read or written."""
    return sql.split(" ", 1)[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET"}


# --- in a terminal --------------------------------------------------------------------------------


def test_a_terminal_shows_a_progress_bar(history):
    """Run under a pseudo-terminal, as an operator would; rich draws the bar, then the summary follows."""
    code, text = manage_in_terminal(
        "cleanup_events", "--batch-size", BATCH, env=command_env(TERM="xterm", COLUMNS="120")
    )

    assert code == 0, text
    assert "35 events" in text and "/35" in text, text  # the bar: done/total events
    assert "deleted 35 events older than 7 days, 35 registrations, 1 venues" in text


def test_a_batch_size_below_one_is_refused():
    run = manage(
        "cleanup_events",
        "--batch-size",
        "0",
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = run.communicate(timeout=60)

    assert run.returncode == 1 and "--batch-size must be at least 1" in err


def test_nothing_to_delete_is_one_select_and_no_batch():
    batches, statements = [], Statements()
    with connection.execute_wrapper(statements):
        deleted = past_events_delete(before=timezone.now(), on_batch=batches.append)

    assert (deleted.events, deleted.registrations, deleted.venues, batches) == (0, 0, 0, [])
    assert [sql.split(" ", 1)[0] for sql in statements] == ["SELECT"]
