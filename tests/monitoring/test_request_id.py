"""Every request has an id: the client's X-Request-ID when well-formed, else a new one;
echoed in the response and carried by every log line of the request.

The log lines are written by a handler built as `settings.LOGGING` builds the
console's (the JSON formatter and the request-id filter), so what is checked is
what a log shipper reads. The same, through gunicorn and LOG_FORMAT=json, is in
`test_gunicorn_metrics.py`.
"""

import io
import json
import logging
import re
import uuid

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from events_face.monitoring.request_id import RequestIdFilter

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_log_lines():
    """The JSON lines the project's console handler writes, from every logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter_options = {
        key: value for key, value in settings.LOGGING["formatters"]["json"].items() if key != "()"
    }
    handler.setFormatter(JsonFormatter(**formatter_options))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_well_formed_request_id_is_kept_echoed_and_in_every_log_line(api_client, json_log_lines):
    response = api_client.get(f"/api/events/{uuid.uuid4()}/", HTTP_X_REQUEST_ID="lb-7f3a.2_x")

    assert response.status_code == 401
    assert response["X-Request-ID"] == "lb-7f3a.2_x"
    lines = json_log_lines()
    assert lines, "the 401 is logged by django.request"
    assert all(line["request_id"] == "lb-7f3a.2_x" for line in lines), lines
    assert any(line["logger"] == "django.request" and line["level"] == "WARNING" for line in lines)


def test_a_request_without_an_id_gets_a_new_one_in_its_response_and_its_log_lines(api_client, json_log_lines):
    first = api_client.get("/api/no-such-path/")
    second = api_client.get("/api/no-such-path/")

    assert GENERATED.fullmatch(first["X-Request-ID"]) and GENERATED.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert [line["request_id"] for line in json_log_lines()] == [
        first["X-Request-ID"],
        second["X-Request-ID"],
    ]


@pytest.mark.parametrize(
    "malformed",
    ["", "has space", "a" * 65, "semi;colon", "new\\nline", "caf\xe9", "<script>", "id\tx"],
)
def test_a_malformed_request_id_is_replaced_by_a_new_one(api_client, json_log_lines, malformed):
    response = api_client.get("/api/no-such-path/", HTTP_X_REQUEST_ID=malformed)

    assert GENERATED.fullmatch(response["X-Request-ID"])
    assert [line["request_id"] for line in json_log_lines()] == [response["X-Request-ID"]]


def test_the_longest_well_formed_id_is_64_characters(api_client):
    longest = "A-z.0_9" * 9 + "x"
    assert len(longest) == 64

    assert api_client.get("/api/health/", HTTP_X_REQUEST_ID=longest)["X-Request-ID"] == longest


def test_lines_logged_outside_a_request_carry_no_id(api_client, json_log_lines):
    api_client.get("/api/no-such-path/")

    logging.getLogger("events_face.test").warning("after the request")

    *_, after = json_log_lines()
    assert after["message"] == "after the request" and "request_id" not in after
