"""The local Redis server the shared-cache tests run against (TEST_REDIS_URL)."""

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
import redis
from django.core.cache.backends.redis import RedisCache

from events_face.launcher import free_port, port_wait

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> redis.Redis:
    """A client of the test Redis; skips the test without one, except under CI, where it fails."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}; .ci/run starts it")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


@contextlib.contextmanager
def own_redis_server() -> Iterator[subprocess.Popen]:
    """A redis-server of the test's own on a free port (`.port` set), never the shared one:
    a test may SIGSTOP it. Nothing is saved to disk. Killed at the end, stopped or not."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process.port = port
    try:
        port_wait(port, process=process)
        yield process
    finally:
        process.kill()  # SIGKILL ends a stopped process too
        process.wait()


class CountingRedisCache(RedisCache):
    """Django's Redis backend, counting the calls that reach it (all threads of the process)."""

    calls = 0

    def get(self, *args, **kwargs):
        CountingRedisCache.calls += 1
        return super().get(*args, **kwargs)

    def set(self, *args, **kwargs):
        CountingRedisCache.calls += 1
        return super().set(*args, **kwargs)
