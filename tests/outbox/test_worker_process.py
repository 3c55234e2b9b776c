"""`manage.py worker` as a real process: configuration, --once, stopping, crashing,
running side by side, and a registration's way from the API to the service."""

import signal

import pytest
from django.db import connection

from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event
from tests.support.outbox import make_messages, worker_env
from tests.support.polling import wait_until
from tests.support.processes import command_env

pytestmark = pytest.mark.django_db(transaction=True)

postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL")


def unsent_count() -> int:
    return OutboxMessage.objects.filter(sent=False).count()


def assert_every_message_accepted_exactly_once(service, messages) -> None:
    accepted = service.accepted_ids()
    assert sorted(accepted) == sorted(str(message.id) for message in messages)
    # The emulator answered 201 once per message: no id was accepted twice.
    assert service.answers().get("201") == len(messages)
    assert not OutboxMessage.objects.filter(sent=False).exists()
    assert not OutboxMessage.objects.filter(leased_until__isnull=False).exists()


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["NOTIFICATIONS_URL", "NOTIFICATIONS_TOKEN", "NOTIFICATIONS_OWNER_ID"])
def test_the_worker_refuses_to_start_without_a_setting_and_names_it(workers, notifications_service, name):
    code, output = workers.run(worker_env(notifications_service, **{name: ""}), "--once")

    assert code != 0
    assert f"{name} not set" in output


def test_the_worker_refuses_a_lease_shorter_than_its_requests(workers, notifications_service):
    env = worker_env(notifications_service, OUTBOX_LEASE_SECONDS="5", OUTBOX_HTTP_DEADLINE_SECONDS="10")

    code, output = workers.run(env, "--once")

    assert code != 0 and "OUTBOX_LEASE_SECONDS" in output


def test_a_leftover_OUTBOX_MAX_ATTEMPTS_is_named_as_no_longer_read(workers, notifications_service):
    code, output = workers.run(worker_env(notifications_service, OUTBOX_MAX_ATTEMPTS="5"), "--once")

    assert code == 0, output
    assert "OUTBOX_MAX_ATTEMPTS is no longer read" in output and "OUTBOX_RETRY_HORIZON_HOURS" in output


# --- --once, --requeue-failed ---------------------------------------------------------------------


def test_once_delivers_what_is_due_logging_one_line_per_batch(workers, notifications_service):
    messages = make_messages(250)

    code, output = workers.run(worker_env(notifications_service, OUTBOX_BATCH_SIZE="100"), "--once")

    assert code == 0, output
    batch_lines = [line for line in output.splitlines() if "outbox batch:" in line]
    assert len(batch_lines) == 3
    assert "claimed=100 sent=100 retried=0 failed=0 released=0" in batch_lines[0]
    assert "claimed=50 sent=50" in batch_lines[2]
    assert_every_message_accepted_exactly_once(notifications_service, messages)


def test_requeue_failed_puts_failed_messages_back_and_the_worker_sends_them(workers, notifications_service):
    messages = make_messages(3)
    OutboxMessage.objects.update(failed_at="2026-01-01T00:00:00Z", last_error="rejected: HTTP 400")

    code, output = workers.run(command_env(), "--requeue-failed")
    assert code == 0 and "3 failed message(s) put back in the queue" in output
    code, output = workers.run(worker_env(notifications_service), "--once")

    assert code == 0, output
    assert_every_message_accepted_exactly_once(notifications_service, messages)


# --- stopping and crashing ----------------------------------------------------------------------------


def test_sigterm_stops_a_busy_worker_cleanly_and_nothing_is_lost(workers, notifications_service):
    messages = make_messages(400)
    notifications_service.set_faults(latency_ms=50)
    env = worker_env(notifications_service, OUTBOX_BATCH_SIZE="40", OUTBOX_CONCURRENCY="4")
    worker = workers.start(env)
    wait_until(
        lambda: len(notifications_service.accepted()) >= 40, timeout=60, message="delivery is under way"
    )

    worker.send_signal(signal.SIGTERM)

    assert worker.wait(timeout=30) == 0, workers.output(worker)
    assert "SIGTERM" in workers.output(worker)
    # In-flight requests finished and were recorded; the rest was released, not left leased.
    assert not OutboxMessage.objects.filter(leased_until__isnull=False).exists()
    sent = set(OutboxMessage.objects.filter(sent=True).values_list("id", flat=True))
    assert {str(pk) for pk in sent} == set(notifications_service.accepted_ids())
    assert 40 <= len(sent) < 400

    notifications_service.set_faults(latency_ms=0)
    code, output = workers.run(env, "--once")
    assert code == 0, output
    assert_every_message_accepted_exactly_once(notifications_service, messages)
    assert "409" not in notifications_service.answers()


def test_sigint_then_sigterm_stops_the_worker_without_a_traceback(workers, notifications_service):
    """Ctrl-C under the old `make run`: the terminal's SIGINT, then at once a SIGTERM. The
    second signal ends the worker as SIGTERM does; Python used to print "OSError: Signal 15
    ignored due to race condition" (the first handler swapped handlers with SIGTERM pending)."""
    worker = workers.start(worker_env(notifications_service))
    wait_until(
        lambda: "delivering to the senders" in workers.output(worker), timeout=60, message="the worker runs"
    )

    worker.send_signal(signal.SIGINT)
    worker.send_signal(signal.SIGTERM)

    code = worker.wait(timeout=30)
    output = workers.output(worker)
    assert "race condition" not in output and "Traceback" not in output, output
    assert code == -signal.SIGTERM, output


def test_a_worker_killed_mid_delivery_loses_nothing_and_a_restart_finishes_the_job(
    workers, notifications_service
):
    messages = make_messages(300)
    # Slow enough that the kill surely lands mid-delivery on a loaded machine.
    notifications_service.set_faults(latency_ms=50)
    env = worker_env(
        notifications_service,
        OUTBOX_BATCH_SIZE="50",
        OUTBOX_CONCURRENCY="4",
        OUTBOX_LEASE_SECONDS="2",
        OUTBOX_HTTP_DEADLINE_SECONDS="0.5",
    )
    doomed = workers.start(env)
    wait_until(
        lambda: len(notifications_service.accepted()) >= 60, timeout=60, message="delivery is under way"
    )

    doomed.kill()
    doomed.wait(timeout=10)
    assert unsent_count() > 0
    notifications_service.set_faults(latency_ms=0)
    workers.start(env)

    wait_until(lambda: unsent_count() == 0, timeout=60, message="every message is sent")
    assert_every_message_accepted_exactly_once(notifications_service, messages)


# --- many workers -------------------------------------------------------------------------------------


def run_workers_side_by_side(workers, service, *, count: int, messages: int) -> None:
    service.set_faults(fail_rate=0.2, latency_ms=5)
    env = worker_env(service, OUTBOX_BATCH_SIZE="25", OUTBOX_CONCURRENCY="8")
    started = [workers.start(env) for _ in range(count)]
    # Every worker is up and polling before the first message is due, so all of
    # them share the queue (a slow start-up could otherwise leave one idle).
    for worker in started:
        wait_until(
            lambda w=worker: "delivering to" in workers.output(w), timeout=60, message="the worker starts"
        )
    rows = make_messages(messages)

    wait_until(lambda: unsent_count() == 0, timeout=150, message="every message is sent")

    for worker in started:
        worker.send_signal(signal.SIGTERM)
    for worker in started:
        code = worker.wait(timeout=30)
        output = workers.output(worker)
        assert code == 0, output
        assert "sent=" in output  # each worker took part
    answers = service.answers()
    assert answers["500"] > 0
    # Only 500s were injected, and they come before acceptance: a 409 would mean
    # two workers sent the same message.
    assert "409" not in answers
    assert_every_message_accepted_exactly_once(service, rows)


@postgresql_only
def test_three_workers_on_postgresql_deliver_5000_messages_through_20_percent_failures(
    workers, notifications_service
):
    run_workers_side_by_side(workers, notifications_service, count=3, messages=5000)


def test_three_workers_on_sqlite_share_the_queue_without_double_sends(workers, notifications_service):
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL variant above runs 5,000 messages")
    run_workers_side_by_side(workers, notifications_service, count=3, messages=600)


# --- from registration to delivery ----------------------------------------------------------------------


def register(auth_client, event, email: str):
    response = auth_client.post(
        f"/api/events/{event.id}/register/",
        {"full_name": "Ada Lovelace", "email": email},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response


def assert_notification_received(service, message: OutboxMessage) -> None:
    [received] = [n for n in service.accepted() if n["id"] == str(message.id)]
    code = message.payload["message"].rsplit(" ", 1)[-1]
    assert received["email"] == "ada@example.com"
    assert "Hello, Ada Lovelace!" in received["message"] and code in received["message"]


def test_a_registration_through_the_api_reaches_the_notifications_service(
    auth_client, workers, notifications_service
):
    event = make_event(name="Compilers")
    register(auth_client, event, "ada@example.com")

    code, output = workers.run(worker_env(notifications_service), "--once")

    assert code == 0, output
    message = OutboxMessage.objects.get()
    assert message.sent is True
    assert_notification_received(notifications_service, message)


@postgresql_only
def test_an_idle_worker_on_postgresql_wakes_on_commit_not_on_its_poll(
    auth_client, workers, notifications_service
):
    # Polling every 10 minutes: only LISTEN/NOTIFY can deliver within the wait below.
    workers.start(worker_env(notifications_service, OUTBOX_POLL_INTERVAL="600"))
    wait_until(listening_worker_connected, timeout=30, message="the worker LISTENs")

    register(auth_client, make_event(), "ada@example.com")

    wait_until(lambda: notifications_service.accepted(), timeout=30, message="the notification arrives")
    message = OutboxMessage.objects.get()
    assert_notification_received(notifications_service, message)
    wait_until(lambda: OutboxMessage.objects.get().sent, timeout=10, message="the row is sent")


def listening_worker_connected() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query LIKE 'LISTEN outbox_message%%' AND state = 'idle'"
        )
        return cursor.fetchone()[0] > 0
