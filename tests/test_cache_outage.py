"""A cache that does not answer (CACHE_URL's Redis down) lifts the rate limits and
stops nothing: sign-up, login and registration still answer, never a 500.

The cache here is Django's Redis backend pointed at a port where nothing listens:
the real client failing the real way.
"""

import logging
import os
import signal

import pytest

from events_face.core.throttling import ScopedCacheThrottle
from tests.support.factories import make_event
from tests.support.polling import wait_until
from tests.support.redis_server import CountingRedisCache, own_redis_server

pytestmark = pytest.mark.django_db

UNREACHABLE = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:9/0",
    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}
# The responses' cache and the rate-limit counters' (config/settings/cache.py).
UNREACHABLE_REDIS = {"default": UNREACHABLE, "throttle": {**UNREACHABLE, "LOCATION": "redis://127.0.0.1:9/1"}}


@pytest.fixture
def cache_down(settings, monkeypatch):
    settings.CACHES = UNREACHABLE_REDIS
    # The warning is written at most once a minute per process: another test in this
    # worker may have written it already, so each test starts as a fresh process would.
    monkeypatch.setattr(ScopedCacheThrottle, "_last_warning", float("-inf"))


def test_sign_up_and_login_go_through_without_the_rate_limit_and_name_CACHE_URL(
    api_client, cache_down, caplog
):
    credentials = {"username": "outage", "email": "outage@example.com", "password": "correct-horse-battery-9"}

    with caplog.at_level(logging.WARNING, logger="events_face.core.throttling"):
        signed_up = api_client.post("/api/auth/register", credentials, format="json")
        logged_in = api_client.post(
            "/api/auth/login", {"username": "outage", "password": credentials["password"]}, format="json"
        )

    assert signed_up.status_code == 201, signed_up.content
    assert logged_in.status_code == 200, logged_in.content
    assert "CACHE_URL" in caplog.text


def test_a_registration_goes_through(auth_client, cache_down):
    event = make_event(capacity=5)

    response = auth_client.post(
        f"/api/events/{event.id}/register/",
        {"full_name": "Ada Lovelace", "email": "ada@example.com"},
        format="json",
    )

    assert response.status_code == 201, response.content


# A Redis that hangs (SIGSTOP) rather than refuses: each call waits the socket timeout.
# The response cache then trips its circuit breaker: one request waits, the next ones
# skip the cache, and the log says so once. Calls reaching the cache client are counted
# (tests/support/redis_server.py), not wall time.

HUNG_REQUESTS = 10


@pytest.fixture
def hung_redis(settings):
    with own_redis_server() as server:
        settings.CACHES = {
            "default": {
                "BACKEND": "tests.support.redis_server.CountingRedisCache",
                "LOCATION": f"redis://127.0.0.1:{server.port}/0",
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            }
        }
        settings.API_CACHE_SECONDS = 300
        CountingRedisCache.calls = 0
        yield server


def test_a_hung_cache_is_skipped_after_the_first_timeout_and_warned_about_once(
    auth_client, hung_redis, settings, caplog
):
    settings.RESPONSE_CACHE_BREAK_SECONDS = 60
    make_event(name="Served anyway")
    assert auth_client.get("/api/events/").status_code == 200
    assert CountingRedisCache.calls == 2  # a miss, then the page stored

    os.kill(hung_redis.pid, signal.SIGSTOP)
    with caplog.at_level(logging.WARNING, logger="events_face.events.response_cache"):
        responses = [auth_client.get("/api/events/") for _ in range(1 + HUNG_REQUESTS)]

    assert [r.status_code for r in responses] == [200] * (1 + HUNG_REQUESTS)
    assert all(r.json()["results"][0]["name"] == "Served anyway" for r in responses)
    assert CountingRedisCache.calls == 3  # only the first request after the hang reached the cache
    warnings = [record for record in caplog.records if record.name == "events_face.events.response_cache"]
    assert len(warnings) == 1 and "CACHE_URL" in warnings[0].getMessage()


def test_the_cache_is_used_again_once_the_break_is_over(auth_client, hung_redis, settings):
    settings.RESPONSE_CACHE_BREAK_SECONDS = 0.5
    make_event()
    os.kill(hung_redis.pid, signal.SIGSTOP)
    assert auth_client.get("/api/events/").status_code == 200  # trips the breaker
    tripped_at = CountingRedisCache.calls
    os.kill(hung_redis.pid, signal.SIGCONT)

    wait_until(
        lambda: auth_client.get("/api/events/").status_code == 200 and CountingRedisCache.calls > tripped_at,
        timeout=30,
        message="a request reaches the cache again",
    )
    assert auth_client.get("/api/events/").status_code == 200
