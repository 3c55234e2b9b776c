"""Rendered event list and detail responses: cached, and validated with ETags.

A response is cached under a key made of the catalogue version
(`CatalogueVersion`, bumped by database triggers in every transaction that
writes events or venues), the request's scheme and host (the `next` and
`previous` links are absolute) and its sorted query parameters. So:

- A committed change is visible on the next request of every web process: each
  request reads the version first, then, on a miss, the rows. (Read in that
  order, an entry can only be newer than its key, never older.)
- An entry never outlives the earliest future moment among the rows it was
  built from (a start time or a deadline), the only way a stored event changes
  without a write: past it, `registration_open` or list membership may differ.
- A body holding `seats_left` (an event with a capacity) lives at most 5
  seconds (`apis.SEATS_LEFT_MAX_AGE`): registrations and cancellations write
  no event, so no version bump tells the cache; the count is that far behind
  at most, client reuse (max-age) included.
- Nothing in a key or a body depends on who asks: only the catalogue's public
  lists and details are cached, never the caller's registrations.
- Nor on the request's language: a body holds data only (names as the provider
  gives them, times, status codes, ids, links), no text we translate, and an
  error is raised by `build`, never cached. So the key leaves Accept-Language
  out (tests/events/test_response_cache_language.py holds bodies to it); a
  translated text in a cached body would have to add the language to the key.

The body's hash is its ETag; `If-None-Match` with it answers 304 without a
body, cached or not. `API_CACHE_SECONDS=0` turns the server-side cache off. A
cache that fails (Redis down) costs a render, not the request.
"""

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response

from events_face.events.models import CatalogueVersion

logger = logging.getLogger(__name__)

# How long a client may reuse a response without asking again.
CLIENT_MAX_AGE = 5  # seconds


@dataclass(frozen=True)
class RenderedResponse:
    body: bytes
    etag: str
    valid_until: datetime

    def http_response(self, request, *, now: datetime) -> HttpResponse:
        """A 200 with this body, or a bodiless 304 when the client's ETag matches."""
        response = HttpResponse(self.body, content_type="application/json")
        response["ETag"] = self.etag
        remaining = int((self.valid_until - now).total_seconds())
        response["Cache-Control"] = f"private, max-age={max(0, min(CLIENT_MAX_AGE, remaining))}"
        return get_conditional_response(request, etag=self.etag, response=response)


_VERSION_SQL = f"SELECT version FROM {CatalogueVersion._meta.db_table} WHERE id = 1"


def catalogue_version() -> int:
    """The current catalogue version (0 before the first write).

    Read on every cached request: plain SQL, since building the ORM query would
    cost several times what the database does.
    """
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
    return row[0] if row else 0


def render(
    payload: object, *, moments: Iterable[datetime | None], now: datetime, max_age: float | None = None
) -> RenderedResponse:
    """Serialise `payload`; valid until the earliest of `moments` still to come (or the cache's
    limit, or `max_age` seconds for a body holding what no catalogue write changes: seats left)."""
    body = orjson.dumps(payload, option=orjson.OPT_UTC_Z)
    seconds = settings.API_CACHE_SECONDS if max_age is None else min(settings.API_CACHE_SECONDS, max_age)
    limit = now + timedelta(seconds=seconds)
    valid_until = min([limit, *(moment for moment in moments if moment is not None and moment > now)])
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    return RenderedResponse(body=body, etag=etag, valid_until=valid_until)


def _key(request, *, version: int) -> str:
    query = sorted((name, values) for name, values in request.GET.lists())
    fingerprint = hashlib.blake2b(
        repr((request.scheme, request.get_host(), request.path, query)).encode(), digest_size=20
    )
    return f"catalogue:{version}:{fingerprint.hexdigest()}"


def cached_response(request, build: Callable[[datetime], RenderedResponse]) -> HttpResponse:
    """The response `build(now)` renders for this request, from the cache when it holds a valid one.

    `build` may raise (bad input): nothing is cached then.
    """
    now = timezone.now()
    if settings.API_CACHE_SECONDS <= 0:
        return build(now).http_response(request, now=now)

    key = _key(request, version=catalogue_version())
    try:
        rendered = cache.get(key)
    except Exception:
        logger.warning("Response cache unavailable; rendering without it", exc_info=True)
        return build(now).http_response(request, now=now)
    if rendered is None or rendered.valid_until <= now:
        rendered = build(now)
        if rendered.valid_until > now:
            timeout = (rendered.valid_until - now).total_seconds()
            try:
                cache.set(key, rendered, timeout=max(1, int(timeout) + 1))
            except Exception:
                logger.warning("Response cache unavailable; response not stored", exc_info=True)
    return rendered.http_response(request, now=now)
