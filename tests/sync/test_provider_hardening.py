"""The sync against a provider that misbehaves on purpose: a small fake server on 127.0.0.1.

Each test is one defect of issue 8 (the token sent to another origin, endless
pagination, trickled or huge pages, JSON nested too deep), made impossible here.
"""

import json
import signal
import subprocess
import uuid

import pytest

from events_face.events.models import Event
from tests.support.fake_upstream import Answer, FakeUpstream
from tests.support.polling import wait_until
from tests.support.processes import command_env, manage
from tests.support.sync import sync

pytestmark = pytest.mark.django_db

TOKEN = "provider-secret-token"
EVENT = {
    "name": "Workshop",
    "place": None,
    "event_time": "2030-12-01T19:00:00+03:00",
    "registration_deadline": None,
    "status": "published",
    "changed_at": "2025-11-01T10:00:00+03:00",
}


def page(next_url: str | None, count: int = 1) -> Answer:
    records = [{**EVENT, "id": str(uuid.uuid4())} for _ in range(count)]
    return Answer(body=json.dumps({"next": next_url, "previous": None, "results": records}).encode())


@pytest.fixture
def point_at(settings):
    def point(server: FakeUpstream) -> None:
        settings.EVENTS_PROVIDER_URL = server.url("/api/events/")
        settings.EVENTS_PROVIDER_TOKEN = TOKEN
        settings.SYNC_MAX_RETRIES = 1
        settings.SYNC_BACKOFF_MAX = 0.05
        settings.SYNC_HTTP_DEADLINE_SECONDS = 10.0

    return point


# --- 1. the token never leaves the provider's origin ---------------------------------------------


@pytest.mark.parametrize("elsewhere", ["another port", "another host name for the same server"])
def test_a_next_link_to_another_origin_fails_the_run_and_nothing_is_sent_there(point_at, elsewhere):
    with FakeUpstream(lambda request: page(None)) as thief:
        if elsewhere == "another port":
            steal = thief.url("/steal")
            provider_answer = page(steal)
        with FakeUpstream(lambda request: provider_answer) as provider:
            if elsewhere != "another port":
                # localhost reaches the same server, but is not EVENTS_PROVIDER_URL's host.
                steal = f"http://localhost:{provider.port}/steal"
                provider_answer = page(steal)
            point_at(provider)

            result = sync("--all")

            assert result.run.status == "failed"
            assert steal in result.run.error and "EVENTS_PROVIDER_URL" in result.run.error
            assert [request.path for request in provider.requests] == ["/api/events/"]
        assert thief.requests == []
    assert Event.objects.count() == 1  # the first page, applied before the refusal, stays


# --- 2. pagination that never ends --------------------------------------------------------------------


def test_a_next_link_seen_twice_fails_the_run(point_at):
    served = []

    def answer(request):
        served.append(request.path)
        # A loop back to page 1; after 50 pages the fake gives up, so a client without
        # loop detection ends "successfully" instead of hanging the test.
        return page(None if len(served) > 50 else f"http://127.0.0.1:{provider.port}/api/events/")

    with FakeUpstream(answer) as provider:
        point_at(provider)

        result = sync("--all")

    assert result.run.status == "failed"
    assert "already fetched" in result.run.error and "/api/events/" in result.run.error
    assert len(served) == 1


def test_more_pages_than_sync_max_pages_fails_the_run(point_at, settings):
    served = []

    def answer(request):
        served.append(request.path)
        return page(
            None if len(served) > 50 else f"http://127.0.0.1:{provider.port}/api/events/?cursor={len(served)}"
        )

    with FakeUpstream(answer) as provider:
        point_at(provider)
        settings.SYNC_MAX_PAGES = 3

        result = sync("--all")

    assert result.run.status == "failed"
    assert "SYNC_MAX_PAGES" in result.run.error and "3" in result.run.error
    assert len(served) == 3 and result.run.pages == 3


# --- 3. a total deadline, and SIGTERM, whatever the provider does -----------------------------------------------


def trickling_page(padding: int = 10_000, seconds_per_byte: float = 1.0) -> Answer:
    """A valid, empty page, sent one byte at a time."""
    body = json.dumps({"next": None, "results": []}).encode() + b" " * padding
    return Answer(body=body, trickle_seconds=seconds_per_byte)


def test_a_page_trickled_past_the_deadline_fails_the_run(point_at, settings):
    # ~10 s for the whole page; every byte comes well within a read timeout of 2 s.
    with FakeUpstream(lambda request: trickling_page(padding=20, seconds_per_byte=0.2)) as provider:
        point_at(provider)
        settings.SYNC_HTTP_DEADLINE_SECONDS = 2.0

        result = sync("--all")

    assert result.run.status == "failed"
    assert "deadline" in result.run.error
    assert len(provider.requests) == 2  # the first try and SYNC_MAX_RETRIES=1 retry


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_a_sync_within_seconds_while_the_provider_trickles():
    with FakeUpstream(lambda request: trickling_page()) as provider:
        process = manage(
            "sync_events", "--all",
            env=command_env(
                EVENTS_PROVIDER_URL=provider.url("/api/events/"), EVENTS_PROVIDER_TOKEN=TOKEN,
                SYNC_HTTP_DEADLINE_SECONDS="3600", LOG_LEVEL="WARNING",
            ),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            wait_until(lambda: provider.bytes_sent > 0, timeout=60, message="the provider trickles a page")
            process.send_signal(signal.SIGTERM)
            # The page alone would take ~3 hours at this pace; the deadline is an hour.
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert process.returncode == 1
    assert "Stopped by a signal" in stderr


# --- 4. a capped page ---------------------------------------------------------------------------------------


def test_a_page_larger_than_sync_max_page_bytes_fails_the_run(point_at, settings):
    chunk = b" " * (256 * 1024)
    body = json.dumps({"next": None, "results": []}).encode()

    with FakeUpstream(lambda request: Answer(body=body + chunk * 40)) as provider:  # ~10 MiB
        point_at(provider)
        settings.SYNC_MAX_PAGE_BYTES = 1024 * 1024

        result = sync("--all")

    assert result.run.status == "failed"
    assert "SYNC_MAX_PAGE_BYTES" in result.run.error and "1,048,576" in result.run.error


def test_a_page_streamed_without_a_length_past_the_cap_fails_the_run(point_at, settings):
    body = json.dumps({"next": None, "results": []}).encode()
    # No Content-Length to refuse up front: only counting the streamed bytes can notice.
    answer = Answer(body=body + b" " * (256 * 1024), repeat=40, declare_length=False)  # ~10 MiB

    with FakeUpstream(lambda request: answer) as provider:
        point_at(provider)
        settings.SYNC_MAX_PAGE_BYTES = 1024 * 1024

        result = sync("--all")

    assert result.run.status == "failed"
    assert "SYNC_MAX_PAGE_BYTES" in result.run.error
    assert provider.bytes_sent < 40 * 256 * 1024, "the client stopped reading at the cap"


# --- 5. JSON nested deeper than the parser goes ----------------------------------------------------------------


def test_deeply_nested_json_is_a_bad_page_not_a_recursion_error(point_at):
    depth = 100_000
    body = b'{"next": null, "results": ' + b"[" * depth + b"]" * depth + b"}"

    with FakeUpstream(lambda request: Answer(body=body)) as provider:
        point_at(provider)

        result = sync("--all")

    assert result.run.status == "failed"
    assert "is not JSON" in result.run.error
    assert len(result.run.error) < 1000
