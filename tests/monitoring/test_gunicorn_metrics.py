"""The production web server as deployed: gunicorn with `gunicorn.conf.py`, two workers,
DEBUG=false, LOG_FORMAT=json, on the test database.

- one scrape of /api/metrics/ adds up the counters of both workers (each
  worker's own samples are read from its files in the multiprocess folder);
- throttled requests are counted, and the backlog follows a real `worker --once`;
- health and metrics answer plain HTTP, everything else is redirected to HTTPS;
- a non-ASCII Authorization header on /api/metrics/ is a 403;
- every log line of a request is JSON and carries the request's id.

One server serves the module's tests; each compares scrapes taken before and after.
"""

import json
import re
import secrets
import socket
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from events_face.launcher import GunicornServer, gunicorn_start
from tests.support.metrics import Scrape
from tests.support.outbox import make_messages, worker_env
from tests.support.polling import wait_until
from tests.support.processes import command_env, manage

METRICS_TOKEN = "gunicorn-test-metrics-token"
REQUESTS = "events_face_http_requests_total"
DURATION = "events_face_http_request_duration_seconds"


class Server:
    def __init__(self, gunicorn: GunicornServer, metrics_dir: Path) -> None:
        self.gunicorn = gunicorn
        self.metrics_dir = metrics_dir
        # A new connection for every request, so that any worker may take it. `http` probes
        # like a load balancer; `https` is a client whose request came through the proxy's HTTPS.
        self.http = httpx.Client(base_url=gunicorn.base_url, headers={"Connection": "close"}, timeout=30)
        self.https = httpx.Client(
            base_url=gunicorn.base_url,
            headers={"Connection": "close", "X-Forwarded-Proto": "https"},
            timeout=30,
        )

    def scrape(self) -> Scrape:
        response = self.http.get("/api/metrics/", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert response.status_code == 200, response.text
        return Scrape(response.text)

    def probe_requests_by_pid(self) -> dict[int, float]:
        """Each gunicorn worker's own count of PROBE_PATH's answers, from its counter file."""
        counts = {}
        for path in self.metrics_dir.glob("counter_*.db"):
            pid = int(re.fullmatch(r"counter_(\d+)\.db", path.name).group(1))
            counts[pid] = sum(
                sample.value
                for family in MultiProcessCollector.merge([str(path)])
                for sample in family.samples
                if sample.name == REQUESTS and sample.labels == PROBE_LABELS
            )
        return counts


# What the counting test requests: a path that nothing else asks for. Not /api/health/: the
# launcher's readiness probe gives up on a slow answer and asks again, and under load the
# request it gave up on is still served, and counted, in the middle of the test.
PROBE_PATH = "/api/not-a-page/"  # the JSON 404 of any unknown /api/ path (config/urls.py)
PROBE_LABELS = {"route": "events_face.core.errors.not_found", "method": "GET", "status": "404"}


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gunicorn")
    metrics_dir = folder / "metrics"
    env = command_env(
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="1",
        GUNICORN_METRICS_DIR=str(metrics_dir),
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        USE_X_FORWARDED_PROTO="true",
        METRICS_TOKEN=METRICS_TOKEN,
        LOG_FORMAT="json",
        AUTH_THROTTLE_RATE="2/min",
    )
    # gunicorn's access log (stdout) apart from everything else: its own log and Django's (stderr).
    gunicorn = gunicorn_start(
        env, folder / "gunicorn-access.log", error_log_path=folder / "gunicorn-error.log"
    )
    running = Server(gunicorn, metrics_dir)
    yield running
    running.http.close()
    running.https.close()
    gunicorn.stop()


def test_one_scrape_adds_up_the_requests_both_workers_served(server):
    before, served_before = server.scrape(), server.probe_requests_by_pid()

    # Which worker accepts a connection is the kernel's choice, and one worker may take every
    # one of them. So one worker is kept busy: it accepts a request whose headers have not ended
    # and waits for the rest (a sync worker reads one request at a time), and meanwhile the
    # other worker must answer the probes. Then the held request is finished and answered.
    held = socket.create_connection(("127.0.0.1", server.gunicorn.port), timeout=30)
    with held:
        held.sendall(f"GET {PROBE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n".encode())
        probes = 10
        for _ in range(probes):
            assert server.https.get(PROBE_PATH).status_code == 404
        held.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := held.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 404 "), answer[:200]
    sent = probes + 1
    served = {pid: count - served_before.get(pid, 0) for pid, count in server.probe_requests_by_pid().items()}
    after = server.scrape()

    assert sorted(count for count in served.values() if count) == [1, probes], served
    health = PROBE_LABELS
    assert after.value(REQUESTS, **health) - before.value(REQUESTS, **health) == sent
    assert after.value(f"{DURATION}_count", **health) - before.value(f"{DURATION}_count", **health) == sent
    assert (
        after.value(f"{DURATION}_bucket", le="+Inf", **health)
        - before.value(f"{DURATION}_bucket", le="+Inf", **health)
        == sent
    )
    assert after.has(f"{DURATION}_bucket", le="0.005", **health)


def test_throttled_requests_of_every_worker_are_counted(server):
    before = server.scrape()

    answers = [
        server.https.post(
            "/api/auth/login", json={"username": "nobody", "password": "not-this-one"}
        ).status_code
        for _ in range(8)
    ]
    after = server.scrape()

    # AUTH_THROTTLE_RATE=2/min, counted by each worker (no shared CACHE_URL here): at most 4 get through.
    throttled = answers.count(429)
    assert throttled >= 4 and set(answers) <= {401, 429}, answers
    name = "events_face_throttled_requests_total"
    assert after.value(name, scope="auth") - before.value(name, scope="auth") == throttled
    login_429 = {"route": "auth-login", "status": "429"}
    assert after.value(REQUESTS, **login_429) - before.value(REQUESTS, **login_429) == throttled


@pytest.mark.django_db(transaction=True)
def test_the_backlog_gauges_follow_a_real_worker(server, notifications_service):
    make_messages(5)

    assert server.scrape().value("events_face_outbox_pending") == 5
    worker = manage("worker", "--once", env=worker_env(notifications_service))
    assert worker.wait(timeout=60) == 0

    after = server.scrape()
    assert after.value("events_face_outbox_pending") == 0
    assert after.value("events_face_outbox_failed") == 0
    assert not after.has("events_face_outbox_oldest_pending_age_seconds")
    assert len(notifications_service.accepted()) == 5


def test_health_and_metrics_answer_plain_http_and_the_rest_is_redirected(server):
    health = server.http.get("/api/health/")
    other = server.http.get("/api/events/")

    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert other.status_code == 301 and other.headers["Location"].startswith("https://127.0.0.1")
    assert server.https.get("/api/events/").status_code == 401  # the same path, through HTTPS
    server.scrape()  # /api/metrics/ over plain HTTP: 200


def test_a_non_ascii_authorization_header_on_metrics_is_403(server):
    response = server.http.get("/api/metrics/", headers={"Authorization": b"Bearer \xe9"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_every_log_line_of_a_request_is_json_with_its_request_id(server):
    given = server.https.get("/api/no-such-path/", headers={"X-Request-ID": "probe-4f2a.1"})
    malformed = server.https.get("/api/no-such-path/", headers={"X-Request-ID": "not well formed!"})
    generated = server.https.get("/api/no-such-path/")

    ids = [response.headers["X-Request-ID"] for response in (given, malformed, generated)]
    assert ids[0] == "probe-4f2a.1"
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids[1:])
    error_log = server.gunicorn.error_log_path.read_text()
    assert "not well formed" not in error_log
    for request_id in ids:
        lines = [line for line in error_log.splitlines() if request_id in line]
        assert lines, f"no log line for {request_id}"
        for line in lines:
            record = json.loads(line)
            assert record["request_id"] == request_id
            assert (
                record["logger"] == "django.request" and record["message"] == "Not Found: /api/no-such-path/"
            )
        # gunicorn's access log line carries it too (written once the response is sent).
        wait_until(
            lambda request_id=request_id: any(
                json.loads(line).get("request_id") == request_id
                for line in server.gunicorn.log().splitlines()
            ),
            timeout=10,
            message="the access log line",
        )


def test_every_line_gunicorn_writes_is_json_too(server):
    response = server.https.get("/api/health/", headers={"X-Request-ID": "access-line-7"})
    assert response.status_code == 200

    wait_until(lambda: "access-line-7" in server.gunicorn.log(), timeout=10, message="the access line")
    access = [json.loads(line) for line in server.gunicorn.log().splitlines()]
    errors = [json.loads(line) for line in server.gunicorn.error_log_path.read_text().splitlines()]
    (line,) = [record for record in access if record.get("request_id") == "access-line-7"]
    assert line["logger"] == "gunicorn.access" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/health/", 200)
    assert isinstance(line["duration_ms"], int)
    # Start-up lines (gunicorn's own logger) are JSON as well.
    assert any(
        record["logger"] == "gunicorn.error" and "Listening at" in record["message"] for record in errors
    )
