"""What a running `manage.py worker` tells an operator: its attempt counters on its own
metrics port (WORKER_METRICS_PORT), and one log line per message with its outcome."""

import json
import signal

import httpx
import pytest

from events_face.launcher import free_port
from events_face.outbox.models import OutboxMessage
from tests.support.metrics import Scrape
from tests.support.outbox import TOPIC, make_messages, worker_env
from tests.support.polling import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

ATTEMPTS = "events_face_outbox_attempts_total"


def test_a_running_worker_serves_its_delivered_retried_and_failed_counts_on_its_port(
    workers, notifications_service
):
    make_messages(6)
    # The first two requests to arrive: a 500 (retried, then delivered) and a 400 (failed).
    notifications_service.script({"status": 500}, {"status": 400, "body": {"error": "bad"}})
    port = free_port()
    worker = workers.start(worker_env(notifications_service, WORKER_METRICS_PORT=f"127.0.0.1:{port}"))

    wait_until(
        lambda: (
            OutboxMessage.objects.filter(sent=True).count() == 5
            and OutboxMessage.objects.filter(failed_at__isnull=False).count() == 1
        ),
        timeout=60,
        message="five messages are sent and one failed",
    )
    scrape = Scrape(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
    worker.send_signal(signal.SIGTERM)

    assert scrape.value(ATTEMPTS, topic=TOPIC, outcome="delivered") == 5
    assert scrape.value(ATTEMPTS, topic=TOPIC, outcome="retried") == 1
    assert scrape.value(ATTEMPTS, topic=TOPIC, outcome="failed") == 1
    # The backlog is the web's to report, from the database: not duplicated per worker.
    assert not scrape.has("events_face_outbox_pending")
    assert worker.wait(timeout=30) == 0, workers.output(worker)
    assert f"metrics on http://127.0.0.1:{port}/metrics" in workers.output(worker)


def test_a_bad_metrics_port_stops_the_worker_naming_the_variable(workers, notifications_service):
    code, output = workers.run(worker_env(notifications_service, WORKER_METRICS_PORT="metrics"))

    assert code != 0
    assert "WORKER_METRICS_PORT must be a port" in output


def test_the_worker_logs_one_json_line_per_message_with_its_outcome(workers, notifications_service):
    messages = make_messages(3)
    notifications_service.script({"status": 503})  # one message is retried later

    code, output = workers.run(worker_env(notifications_service, LOG_FORMAT="json"), "--once")

    assert code == 0, output
    records = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    outcomes = {record["message_id"]: record for record in records if "message_id" in record}
    assert set(outcomes) == {str(message.id) for message in messages}
    assert sorted(record["outcome"] for record in outcomes.values()) == ["delivered", "delivered", "retried"]
    for record in outcomes.values():
        assert record["topic"] == TOPIC and record["attempt"] == 1
        assert record["status_code"] == (201 if record["outcome"] == "delivered" else 503)
        assert record["level"] == ("INFO" if record["outcome"] == "delivered" else "WARNING")
        assert record["message"].startswith(f"outbox message {record['message_id']} {record['outcome']}")
    assert any(record["message"].startswith("outbox batch: claimed=3 sent=2 retried=1") for record in records)
