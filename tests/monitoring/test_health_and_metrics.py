"""GET /api/health/ and GET /api/metrics/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events_face.outbox.models import OutboxMessage
from events_face.sync.models import SyncRun

pytestmark = pytest.mark.django_db


def test_health_is_public_and_ok_while_the_database_answers(api_client):
    response = api_client.get("/api/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def metric(body: str, name: str) -> float:
    [line] = [line for line in body.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[1])


def test_metrics_report_the_outbox_and_the_last_sync(api_client, settings):
    settings.METRICS_TOKEN = "metrics-secret"
    now = timezone.now()
    old = OutboxMessage.objects.create(topic="t", payload={})
    OutboxMessage.objects.filter(pk=old.pk).update(created_at=now - timedelta(minutes=10))
    OutboxMessage.objects.create(topic="t", payload={})
    OutboxMessage.objects.create(topic="t", payload={}, sent=True, sent_at=now)
    OutboxMessage.objects.create(topic="t", payload={}, failed_at=now)
    SyncRun.objects.create(
        mode="all",
        started_at=now - timedelta(hours=1),
        finished_at=now - timedelta(minutes=59),
        status="succeeded",
    )
    SyncRun.objects.create(
        mode="incremental",
        started_at=now - timedelta(minutes=5),
        finished_at=now - timedelta(minutes=4),
        status="failed",
    )

    response = api_client.get("/api/metrics/", HTTP_AUTHORIZATION="Bearer metrics-secret")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert metric(body, "events_face_outbox_pending") == 2
    assert metric(body, "events_face_outbox_failed") == 1
    assert 590 <= metric(body, "events_face_outbox_oldest_pending_age_seconds") <= 700
    assert 59 * 60 <= metric(body, "events_face_sync_last_success_age_seconds") <= 61 * 60
    assert metric(body, "events_face_sync_last_run_failed") == 1


def test_metrics_need_the_token_when_one_is_set(api_client, settings):
    settings.METRICS_TOKEN = "metrics-secret"

    assert api_client.get("/api/metrics/").status_code == 403
    assert api_client.get("/api/metrics/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


def test_metrics_are_off_in_production_without_a_token(api_client, settings):
    settings.METRICS_TOKEN = ""
    settings.DEBUG = False

    response = api_client.get("/api/metrics/")

    assert response.status_code == 404
    assert "METRICS_TOKEN" in response.json()["error"]["message"]


@pytest.mark.parametrize("authorization", ["Bearer \xe9", "Bearer metrics-secr\xe9t", "\xff\xfe"])
def test_a_non_ascii_authorization_header_on_metrics_is_403_not_500(api_client, settings, authorization):
    # WSGI gives every header as latin-1 text: a byte >= 0x80 becomes a non-ASCII character.
    settings.METRICS_TOKEN = "metrics-secret"

    response = api_client.get("/api/metrics/", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_non_ascii_metrics_token_is_matched_by_its_utf8_bytes(api_client, settings):
    settings.METRICS_TOKEN = "jeton-s\xe9cret"
    # What arrives when a client sends the token's UTF-8 bytes: each byte as one latin-1 character.
    on_the_wire = "Bearer jeton-s\xe9cret".encode().decode("latin-1")

    assert api_client.get("/api/metrics/", HTTP_AUTHORIZATION=on_the_wire).status_code == 200
    assert api_client.get("/api/metrics/", HTTP_AUTHORIZATION="Bearer jeton-s\xe9cret").status_code == 403


# --- production's HTTPS redirect spares the probes -----------------------------------------------------


@pytest.mark.parametrize("path", ["/api/health", "/api/health/", "/api/metrics", "/api/metrics/"])
def test_health_and_metrics_answer_plain_http_when_production_redirects_to_https(api_client, settings, path):
    # What DEBUG=false turns on; the exemptions are the settings' own.
    settings.SECURE_SSL_REDIRECT = True
    settings.METRICS_TOKEN = "metrics-secret"

    response = api_client.get(path, HTTP_AUTHORIZATION="Bearer metrics-secret")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/events/", "/api/health/extra", "/api/healthz", "/admin/", "/x/api/health/"]
)
def test_every_other_path_is_still_redirected_to_https(api_client, settings, path):
    settings.SECURE_SSL_REDIRECT = True

    response = api_client.get(path)

    assert response.status_code == 301
    assert response["Location"].startswith("https://")
