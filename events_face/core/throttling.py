"""The API's rate limits (`throttle_scope` "auth" and "registration"), kept in the `throttle` cache.

Every counter lives in the cache alias `throttle` (THROTTLE_CACHE_URL; by
default CACHE_URL's Redis server, next database number), never in `default`
with the rendered responses: response entries cannot push a counter out.

With the counters on Redis, a Redis that is down or slow must not turn sign-up,
login or registration into a 500: the limit is then not applied (the request
goes through) and a warning names CACHE_URL, at most once a minute per process.
An outage of the counters' store lifts the rate limit; it never stops the service.

Only POSTs are counted (`COUNTED_METHODS`): every throttled endpoint is a POST
that signs up, logs in or registers; a GET, DELETE or OPTIONS there changes
nothing (405), and must not use up a client's registrations.
"""

import logging
import time

from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)

WARNING_INTERVAL_SECONDS = 60.0
COUNTED_METHODS = frozenset({"POST"})


class ScopedCacheThrottle(ScopedRateThrottle):
    _last_warning = float("-inf")

    @property
    def cache(self):
        return caches["throttle"]

    def allow_request(self, request, view):
        if request.method not in COUNTED_METHODS:
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache backend's own errors (redis-py's, a socket's): any of them
            now = time.monotonic()
            if now - ScopedCacheThrottle._last_warning >= WARNING_INTERVAL_SECONDS:
                ScopedCacheThrottle._last_warning = now
                logger.warning(
                    "Rate limits not applied: the cache does not answer; check THROTTLE_CACHE_URL (default: CACHE_URL)",
                    exc_info=True,
                )
            return True
