"""A calendar feed's URL is its credential: no log line of the real server holds its token.

gunicorn as deployed (`gunicorn.conf.py`), in both log formats: its access log,
its own lines and Django's (a 404 "Not Found: <path>" warning among them).
"""

import secrets

import httpx
import pytest

from events_face.launcher import gunicorn_start
from tests.support.factories import bearer, make_user
from tests.support.polling import wait_until
from tests.support.processes import command_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_feed_tokens_are_redacted_from_every_log_line(tmp_path, log_format):
    token = bearer(make_user())
    server = gunicorn_start(
        command_env(WEB_CONCURRENCY="1", LOG_FORMAT=log_format, LOG_LEVEL="INFO"),
        tmp_path / "access.log",
        error_log_path=tmp_path / "error.log",
    )
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            url = http.post("/api/calendar/token/", headers={"Authorization": token}).json()["url"]
            secret = url.rsplit("/", 1)[1].removesuffix(".ics")
            assert http.get(url).status_code == 200
            assert http.get(url, params={"x": "1"}, headers={"Referer": url}).status_code == 200
            unknown = secrets.token_urlsafe(32)
            assert http.get(f"/api/calendar/{unknown}.ics").status_code == 404
        # The last request's access line is written after its answer: wait for it.
        wait_until(
            lambda: server.log_path.read_text().count("/api/calendar/") >= 4,
            timeout=30,
            message="access lines",
        )
    finally:
        server.stop()

    logs = server.log_path.read_text() + server.error_log_path.read_text()
    assert secret not in logs and unknown not in logs
    assert logs.count("/api/calendar/[redacted].ics") >= 3
    assert "Not Found" in logs  # Django's own 404 line was written, redacted
