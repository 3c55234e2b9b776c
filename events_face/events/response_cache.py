"""Rendered event list and detail responses: cached, and validated with ETags.

A response is cached under a key made of the catalogue version
(`CatalogueVersion`, bumped by database triggers in every transaction that
writes events or venues), the request's scheme and host (the `next` and
`previous` links are absolute) and the request as the view understood it: its
validated, canonical filters, page size and cursor (`key_parts`), never the raw
query string. So:

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

What one client can make the cache hold is bounded by the catalogue, not by
what it can type (tests/events/test_response_cache_bounds.py):

- Unknown parameters and spellings of one request (parameter order, `status=a,b`
  or `b,a` or repeated, a default spelled out) are one key: the view builds the
  key, and the page's links, from the canonical filter alone.
- A request with no bounded canonical form is served but never cached: a name
  search (free text), dates outside `CACHED_DATES_BACK`/`CACHED_DATES_AHEAD`
  around today. A venue or a cursor is stored only when it names a venue or an
  event the catalogue holds (asked in the same query as the version): forged
  cursors and random venue ids are served, not stored.

- Every canonical key is still a key: `page_size` alone has 100 values. So each
  catalogue version admits at most `MAX_ENTRIES_PER_VERSION` new entries (a
  counter in the cache beside them, living as long as an entry can); past it,
  pages are served and not stored. Popular pages are stored first; what the
  cache holds is at most about twice that many entries per live version.

A cache that fails (Redis down or hung) is skipped for
RESPONSE_CACHE_BREAK_SECONDS by this process (a circuit breaker: one request
pays the socket timeout, the next ones do not), with one warning a minute.

The body's hash is its ETag; `If-None-Match` with it answers 304 without a
body, cached or not. `API_CACHE_SECONDS=0` turns the server-side cache off. A
cache that fails costs a render, not the request.
"""

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response

from events_face.core.pagination import Cursor
from events_face.events.models import CatalogueVersion, Event, Venue

logger = logging.getLogger(__name__)

# How long a client may reuse a response without asking again.
CLIENT_MAX_AGE = 5  # seconds

# Date filters are cached only this close to today: each date is a key of its own,
# and millions of them are valid. Further out, a page is rendered (an index range read).
CACHED_DATES_BACK = timedelta(days=31)
CACHED_DATES_AHEAD = timedelta(days=366)

# New entries each catalogue version may store: 2,000 pages of at most ~30 KB
# (100 events) each is ~60 MB for a version, whatever clients ask.
MAX_ENTRIES_PER_VERSION = 2000

# At most one "cache unavailable" warning per process in this interval.
WARNING_INTERVAL_SECONDS = 60.0


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
_VENUE_EXISTS_SQL = f"SELECT 1 FROM {Venue._meta.db_table} WHERE id = %s"
_EVENT_AT_SQL = f"SELECT 1 FROM {Event._meta.db_table} WHERE id = %s AND event_time = %s"


def catalogue_version(*, venue_id: uuid.UUID | None = None, cursor: Cursor | None = None) -> tuple[int, bool]:
    """The current catalogue version (0 before the first write), and whether the catalogue
    holds the venue and the event the cursor names (every cursor we give names one).

    Read on every cached request, in one query: plain SQL, since building the ORM
    query would cost several times what the database does. Only a page whose venue
    and cursor the catalogue holds is stored, so what is stored is bounded by it.
    """
    selects, params = [f"({_VERSION_SQL})"], []
    if venue_id is not None:
        selects.append(f"EXISTS ({_VENUE_EXISTS_SQL})")
        params.append(Venue._meta.pk.get_db_prep_value(venue_id, connection))
    if cursor is not None:
        selects.append(f"EXISTS ({_EVENT_AT_SQL})")
        params += [
            Event._meta.pk.get_db_prep_value(cursor.row_id, connection),
            Event._meta.get_field("event_time").get_db_prep_value(cursor.moment, connection),
        ]
    with connection.cursor() as db:
        db.execute(f"SELECT {', '.join(selects)}", params)
        version, *held = db.fetchone()
    return version or 0, all(held)


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


def dates_are_cacheable(*dates: date | None, today: date) -> bool:
    """Whether these filter dates lie in the window whose pages are cached."""
    return all(
        moment is None or today - CACHED_DATES_BACK <= moment <= today + CACHED_DATES_AHEAD
        for moment in dates
    )


class CircuitBreaker:
    """Per process: after a cache failure, skip the cache for RESPONSE_CACHE_BREAK_SECONDS.

    Without it, a hung Redis makes every request wait the socket timeout.
    Threads of a process share it; a race only lets one more call through.
    """

    open_until = float("-inf")
    last_warning = float("-inf")

    @classmethod
    def is_open(cls) -> bool:
        return time.monotonic() < cls.open_until

    @classmethod
    def trip(cls, action: str) -> None:
        now = time.monotonic()
        cls.open_until = now + settings.RESPONSE_CACHE_BREAK_SECONDS
        if now - cls.last_warning >= WARNING_INTERVAL_SECONDS:
            cls.last_warning = now
            logger.warning(
                "Response cache unavailable (%s); skipping it for %ss; check CACHE_URL",
                action,
                settings.RESPONSE_CACHE_BREAK_SECONDS,
                exc_info=True,
            )


def _admitted(version: int) -> bool:
    """Whether this version may store one more entry (`MAX_ENTRIES_PER_VERSION`)."""
    budget = f"catalogue-budget:{version}"
    cache.add(budget, 0, timeout=settings.API_CACHE_SECONDS + 1)
    return cache.incr(budget) <= MAX_ENTRIES_PER_VERSION


def _key(request, parts: Hashable, *, version: int) -> str:
    fingerprint = hashlib.blake2b(repr((request.scheme, request.get_host(), parts)).encode(), digest_size=20)
    return f"catalogue:{version}:{fingerprint.hexdigest()}"


def cached_response(
    request,
    build: Callable[[datetime], RenderedResponse],
    *,
    key_parts: Hashable | None,
    venue_id: uuid.UUID | None = None,
    cursor: Cursor | None = None,
) -> HttpResponse:
    """The response `build(now)` renders for this request, from the cache when it holds a valid one.

    `key_parts`: the request's canonical form (the view's parsed, validated input;
    repr-stable values only), or None for a request not to cache. A page for a
    `venue_id` or a `cursor` the catalogue does not hold is not stored.
    `build` may raise (bad input): nothing is cached then.
    """
    now = timezone.now()
    if settings.API_CACHE_SECONDS <= 0 or key_parts is None or CircuitBreaker.is_open():
        return build(now).http_response(request, now=now)

    version, held = catalogue_version(venue_id=venue_id, cursor=cursor)
    key = _key(request, key_parts, version=version)
    try:
        rendered = cache.get(key)
    except Exception:  # the cache backend's own errors (redis-py's, a socket's): any of them
        CircuitBreaker.trip("read")
        return build(now).http_response(request, now=now)
    if rendered is None or rendered.valid_until <= now:
        rendered = build(now)
        if rendered.valid_until > now and held:
            timeout = (rendered.valid_until - now).total_seconds()
            try:
                if _admitted(version):
                    cache.set(key, rendered, timeout=max(1, int(timeout) + 1))
            except Exception:
                CircuitBreaker.trip("write")
    return rendered.http_response(request, now=now)
