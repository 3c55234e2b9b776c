"""CACHE_URL=redis://...: two web servers share throttle counters and rendered pages.

Two gunicorn servers (separate processes, ports and workers) run against the
test database and one real Redis, as two web machines behind a load balancer
would. Without Redis the tests are skipped, except under CI.
"""

import socket
import uuid

import httpx
import pytest
import redis
from django.db import connection

from events_face.config.settings.cache import default_throttle_cache_url
from events_face.events.models import Event
from events_face.launcher import gunicorn_start
from tests.support.catalogue import catalogue_write_unversioned
from tests.support.factories import bearer, make_event, make_user
from tests.support.processes import command_env, production_env
from tests.support.redis_server import REDIS_URL, redis_or_skip

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shared_redis():
    """(CACHE_URL with a key prefix of this test's own, a Redis client); the keys go afterwards."""
    client = redis_or_skip()
    prefix = f"ef-test-{uuid.uuid4().hex}"
    yield f"{REDIS_URL}?key_prefix={prefix}", client, prefix
    # The rate-limit counters default to the next database (config/settings/cache.py).
    for database in (client, redis.Redis.from_url(default_throttle_cache_url(REDIS_URL))):
        for key in database.scan_iter(f"{prefix}:*"):
            database.delete(key)


@pytest.fixture
def two_servers(shared_redis, tmp_path):
    """Two gunicorn servers with one worker each, one SECRET_KEY (a token works on both), one CACHE_URL."""
    cache_url, _, _ = shared_redis
    env = production_env(
        WEB_CONCURRENCY="1", CACHE_URL=cache_url, AUTH_THROTTLE_RATE="5/min", API_CACHE_SECONDS="3600"
    )
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(gunicorn_start(env, tmp_path / f"{name}.log"))
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_the_auth_rate_limit_counts_requests_to_both_servers_together(two_servers, shared_redis):
    a, b = two_servers
    statuses = []
    for attempt in range(8):
        server = (a, b)[attempt % 2]  # alternated, as a load balancer would
        response = httpx.post(
            f"{server.base_url}/api/auth/login", json={"username": "nobody", "password": "guess"}
        )
        statuses.append(response.status_code)

    # 5/min from this address in all: the sixth is refused, whichever server it reaches.
    assert statuses[:5] == [401] * 5, statuses
    assert statuses[5:] == [429] * 3, statuses
    _, _, prefix = shared_redis
    counters = redis.Redis.from_url(default_throttle_cache_url(REDIS_URL))
    assert any(b"throttle_auth" in key for key in counters.scan_iter(f"{prefix}:*")), (
        "counters live in the next database number, under the URL's key_prefix"
    )


def test_a_page_one_server_rendered_is_served_by_the_other(two_servers):
    a, b = two_servers
    event = make_event(name="Before")
    token = httpx.post(
        f"{a.base_url}/api/auth/register",
        json={"username": "ada", "email": "ada@example.com", "password": "analytical-engine-1843"},
    ).json()["access"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/events/{event.pk}/"

    rendered_by_a = httpx.get(a.base_url + url, headers=headers)
    assert rendered_by_a.json()["name"] == "Before"
    # The database now says "After", and the catalogue version did not move: only a cache still says "Before".
    event_id = Event._meta.pk.get_db_prep_value(event.pk, connection)
    catalogue_write_unversioned(
        f"UPDATE {Event._meta.db_table} SET name = %s WHERE id = %s", ["After", event_id]
    )

    # The same request (a cache key holds the host) sent to B, which never rendered it.
    same_request = {**headers, "Host": f"127.0.0.1:{a.port}"}
    from_b = httpx.get(b.base_url + url, headers=same_request)
    # Another host is another key (links are absolute); a junk parameter would not be.
    not_cached = httpx.get(b.base_url + url, headers={**headers, "Host": f"localhost:{a.port}"})
    unchanged = httpx.get(
        b.base_url + url, headers={**same_request, "If-None-Match": rendered_by_a.headers["ETag"]}
    )

    assert from_b.status_code == 200 and from_b.json()["name"] == "Before"
    assert from_b.headers["ETag"] == rendered_by_a.headers["ETag"]
    assert not_cached.json()["name"] == "After", "B reads the database itself when the cache has nothing"
    assert unchanged.status_code == 304


def test_a_redis_that_stops_answering_costs_a_page_a_moment_not_the_request(tmp_path):
    """A server that accepts connections and never answers: the page is rendered without the cache.

    The settings give Redis 1 s socket timeouts (redis-py's own default holds a request 5 s per
    cache call); whatever they are, a silent cache must not fail the catalogue.
    """
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # never accepted: a connection succeeds, and nothing is ever answered
    event = make_event(name="Still served")
    # Development settings (DEBUG on): the server checks tokens with the key this test signs them with.
    env = command_env(
        WEB_CONCURRENCY="1",
        CACHE_URL=f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
        API_CACHE_SECONDS="3600",
    )
    server = gunicorn_start(env, tmp_path / "gunicorn.log")
    try:
        response = httpx.get(
            f"{server.base_url}/api/events/{event.pk}/",
            headers={"Authorization": bearer(make_user())},
            timeout=60,
        )
    finally:
        server.stop()
        silent.close()

    assert response.status_code == 200 and response.json()["name"] == "Still served"
