"""What /api/metrics/ exports in one process (runserver, tests): requests by route, method
and status, throttled requests, and one gauge per database statistic.

The counters live for the whole test process, so each test compares a scrape
taken before with one taken after. Several gunicorn workers are in
`test_gunicorn_metrics.py`; the worker's and the sync's own ports in their packages.
"""

import uuid
from dataclasses import fields
from datetime import timedelta

import pytest
from django.utils import timezone

from events_face.monitoring.metrics import GAUGE_HELP
from events_face.monitoring.selectors import service_metrics
from events_face.outbox.models import OutboxMessage
from events_face.sync.models import SyncRun
from tests.support.metrics import Scrape

pytestmark = pytest.mark.django_db

REQUESTS = "events_face_http_requests_total"
DURATION = "events_face_http_request_duration_seconds"


@pytest.fixture
def scrape(api_client, settings):
    settings.METRICS_TOKEN = "metrics-secret"

    def take() -> Scrape:
        response = api_client.get("/api/metrics/", HTTP_AUTHORIZATION="Bearer metrics-secret")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        return Scrape(response.content.decode())

    return take


def test_each_response_is_counted_and_timed_by_route_name_method_and_status(api_client, scrape):
    before = scrape()

    for _ in range(3):
        assert api_client.get("/api/health/").status_code == 200
    assert api_client.get(f"/api/events/{uuid.uuid4()}/").status_code == 401
    assert api_client.delete("/api/health").status_code == 405
    after = scrape()

    def added(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert added(REQUESTS, route="health", method="GET", status="200") == 3
    assert added(REQUESTS, route="event-detail", method="GET", status="401") == 1
    assert added(REQUESTS, route="health", method="DELETE", status="405") == 1
    assert added(f"{DURATION}_count", route="health", method="GET", status="200") == 3
    assert added(f"{DURATION}_bucket", route="health", method="GET", status="200", le="+Inf") == 3
    assert after.value(f"{DURATION}_sum", route="health", method="GET", status="200") > 0


def test_paths_no_route_knows_add_no_series_of_their_own(api_client, scrape):
    marker = uuid.uuid4().hex
    before = scrape()

    assert api_client.get(f"/api/no-such-{marker}/").status_code == 404
    assert api_client.get(f"/no-such-{marker}").status_code == 404
    assert api_client.generic(f"X{marker[:8]}", "/api/health/").status_code == 405
    after = scrape()

    assert marker not in after.text and marker[:8] not in after.text
    assert (
        after.value(REQUESTS, route="unmatched", status="404")
        - before.value(REQUESTS, route="unmatched", status="404")
        == 1
    )
    assert (
        after.value(REQUESTS, route="health", method="other")
        - before.value(REQUESTS, route="health", method="other")
        == 1
    )


def test_the_https_redirect_is_counted_too(api_client, settings, scrape):
    settings.SECURE_SSL_REDIRECT = True  # /api/metrics/ itself is exempt
    before = scrape()

    assert api_client.get("/api/events/").status_code == 301

    assert scrape().value(REQUESTS, status="301") - before.value(REQUESTS, status="301") == 1


def test_throttled_requests_are_counted_by_their_scope(api_client, scrape):
    before = scrape()

    answers = [
        api_client.post(
            "/api/auth/login", {"username": "nobody", "password": "wrong-password"}, format="json"
        ).status_code
        for _ in range(21)  # AUTH_THROTTLE_RATE: 20/min by default
    ]
    after = scrape()

    assert answers.count(429) == 1 and answers[-1] == 429
    throttled = "events_face_throttled_requests_total"
    assert after.value(throttled, scope="auth") - before.value(throttled, scope="auth") == 1
    assert (
        after.value(REQUESTS, route="auth-login", status="429")
        - before.value(REQUESTS, route="auth-login", status="429")
        == 1
    )


def test_every_field_of_the_service_metrics_is_a_gauge_with_its_own_help(scrape):
    # Every statistic present (none None): a pending message and a finished sync.
    now = timezone.now()
    OutboxMessage.objects.create(topic="t", payload={})
    SyncRun.objects.create(
        mode="all", started_at=now - timedelta(hours=1), finished_at=now, status="succeeded"
    )
    statistics = service_metrics()

    body = scrape().text

    for group in fields(statistics):
        for field in fields(getattr(statistics, group.name)):
            name = f"events_face_{group.name}_{field.name}"
            assert f"\n# TYPE {name} gauge\n" in body, name
            # A field added to the selectors needs its one line in GAUGE_HELP.
            assert f"{group.name}.{field.name}" in GAUGE_HELP, f"no help line for {name}"
            assert f"# HELP {name} {GAUGE_HELP[f'{group.name}.{field.name}']}" in body
