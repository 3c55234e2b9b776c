"""Rate-limit counters live in their own cache (`throttle`): response entries cannot push them out.

Against real Redis. A Redis under memory pressure with an LRU policy evicts
keys; if counters shared that store with rendered responses, a client could
flood the response cache and start its count again. With the counters in a
store of their own (noeviction), filling the response cache changes nothing.
The same holds for the per-process default, whose response cache culls a
third of its entries when full.
"""

import contextlib
import shutil
import subprocess
import uuid

import pytest
import redis
from django.core.cache import caches

from events_face.config.settings.cache import cache_from_url, default_throttle_cache_url
from events_face.core.throttling import ScopedCacheThrottle
from events_face.launcher import free_port
from tests.support.polling import wait_until
from tests.support.redis_server import REDIS_URL, redis_or_skip

pytestmark = pytest.mark.django_db

LIMIT = "3/min"
PAGE = "x" * 20_000  # bytes: about a rendered event page


def login(api_client):
    return api_client.post("/api/auth/login", {"username": "nobody", "password": "guess"}, format="json")


def fill_the_response_cache(megabytes: int) -> int:
    """Write `megabytes` of pages; returns how many were written."""
    cache = caches["default"]
    count = megabytes * 1024 * 1024 // len(PAGE)
    for i in range(count):
        # A noeviction server refuses what does not fit, as a full one does in production.
        with contextlib.suppress(redis.exceptions.OutOfMemoryError):
            cache.set(f"page-{i}", PAGE, timeout=600)
    return count


def pages_kept(count: int) -> int:
    cache = caches["default"]
    return sum(cache.get(f"page-{i}") is not None for i in range(count))


@pytest.fixture
def limited(settings, monkeypatch):
    """Use these caches, with AUTH_THROTTLE_RATE=LIMIT as a process would have it: DRF reads
    the rates once, when the throttle class is made, whichever test made it first."""

    def use(caches_config: dict) -> None:
        settings.CACHES = caches_config
        monkeypatch.setitem(ScopedCacheThrottle.THROTTLE_RATES, "auth", LIMIT)

    return use


@pytest.fixture
def private_redis(tmp_path):
    """Start a redis-server of this test's own (maxmemory is per server): its URL for given options."""
    if not shutil.which("redis-server"):
        pytest.skip("no redis-server binary")
    started = []

    def start(*options: str) -> str:
        port = free_port()
        process = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path), *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        started.append(process)
        client = redis.Redis(port=port, socket_connect_timeout=0.5)
        wait_until(lambda: _answers(client), timeout=30, message=f"redis-server on {port} answers")
        return f"redis://127.0.0.1:{port}/0"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def _answers(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


def test_filling_the_response_cache_of_an_lru_redis_does_not_evict_a_throttle_counter(
    limited, api_client, settings, private_redis
):
    responses = private_redis("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
    counters = private_redis("--maxmemory-policy", "noeviction")
    limited(
        {"default": cache_from_url(responses, location=""), "throttle": cache_from_url(counters, location="")}
    )
    assert [login(api_client).status_code for _ in range(3)] == [401, 401, 401]

    written = fill_the_response_cache(megabytes=16)

    # Redis's LRU is approximate (it samples keys): some page, not necessarily the first, went.
    assert pages_kept(written) < written, "the response cache did evict"
    assert login(api_client).status_code == 429


def test_a_counter_in_the_responses_lru_redis_is_evicted_which_is_why_they_are_apart(
    limited, api_client, settings, private_redis
):
    """The failure the separate alias prevents, shown on the same real server."""
    shared = private_redis("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
    config = cache_from_url(shared, location="")
    limited({"default": config, "throttle": config})
    assert [login(api_client).status_code for _ in range(3)] == [401, 401, 401]

    fill_the_response_cache(megabytes=16)

    assert login(api_client).status_code == 401


def test_on_the_shared_test_redis_counters_keep_their_own_database(api_client, settings, limited):
    """CACHE_URL redis://.../N: the counters default to another database; emptying the responses' leaves them.

    Keys are removed by this test's prefix, never by FLUSHDB: other tests share these databases."""
    responses = redis_or_skip()
    prefix = f"ef-test-{uuid.uuid4().hex}"
    response_url = f"{REDIS_URL}?key_prefix={prefix}"
    limited(
        {
            "default": cache_from_url(response_url, location=""),
            "throttle": cache_from_url(default_throttle_cache_url(response_url), location=""),
        },
    )
    counters = redis.Redis.from_url(default_throttle_cache_url(REDIS_URL))
    try:
        assert [login(api_client).status_code for _ in range(3)] == [401, 401, 401]
        assert list(counters.scan_iter(f"{prefix}:*")), "the counters are in their own database"

        for key in responses.scan_iter(f"{prefix}:*"):
            responses.delete(key)

        assert login(api_client).status_code == 429
    finally:
        for key in counters.scan_iter(f"{prefix}:*"):
            counters.delete(key)


def test_the_per_process_response_cache_culls_entries_but_not_the_counters(api_client, settings, limited):
    limited(
        {
            "default": cache_from_url("locmemcache://", location="cull-responses"),
            "throttle": cache_from_url("locmemcache://", location="cull-counters"),
        },
    )
    assert [login(api_client).status_code for _ in range(3)] == [401, 401, 401]

    for i in range(3 * 5000):  # three times MAX_ENTRIES: culled again and again
        caches["default"].set(f"page-{i}", "x", timeout=600)

    assert login(api_client).status_code == 429
