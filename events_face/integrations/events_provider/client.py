"""The events-provider client: pages of raw records, one at a time (contract: `contract.md`).

Guarantees:

- `pages()` follows `next` exactly as given until it is null and yields each
  page as it arrives; it holds one page at a time, whatever the number of pages.
- The token never leaves the provider's origin: a `next` link is followed only
  if its scheme, host and port are those of `base_url`; any other is refused
  (`ProviderBadPage`, naming it) before a byte is sent to it.
- A run ends: a URL seen twice in one `pages()` (a loop), or more than
  `max_pages` pages, raise `ProviderBadPage`.
- Every request follows `integrations/http.py`: a total deadline, a body capped
  at `max_page_bytes`, decoded size included (a larger page, or one whose
  compression we cannot read, is `ProviderBadPage`: the run fails), and, once
  `cancelled()` turns true, `ProviderStopped` within a fraction of a second.
- Transient failures (5xx, 429, deadline, connection errors) are retried per
  `retry` (`Retry-After` honoured); when the tries run out, `ProviderUnavailable`.
- 401/403 raise `ProviderAuthError` at once (an expired token is not transient).
  Any other status, a body that is not JSON (however deeply nested), or a body
  not of the contract's shape raises `ProviderBadPage`. All are `ProviderError`.
- Records are not validated here (`sync/records.py` does): a page is "a list of
  things", so one bad record never costs the page.

Nothing here knows about Django.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from events_face.integrations import http

DEFAULT_PORTS = {"http": 80, "https": 443}
# Longest Retry-After honoured: beyond it, a misconfiguration, not an order to sleep for hours.
RETRY_AFTER_LIMIT_SECONDS = 600.0


class ProviderError(Exception):
    """The provider could not give us a usable page; the sync run fails with this message."""


class ProviderAuthError(ProviderError):
    pass


class ProviderBadPage(ProviderError):
    pass


class ProviderUnavailable(ProviderError):
    pass


class ProviderStopped(ProviderError):
    pass


@dataclass(frozen=True, slots=True)
class ProviderPage:
    url: str
    records: list[Any]
    next_url: str | None


def is_http_url(url: str) -> bool:
    try:
        parts = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    return parts.scheme in DEFAULT_PORTS and bool(parts.host)


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in: what "same origin" compares."""
    parts = httpx.URL(url)
    return parts.scheme, parts.host, parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


def retry_policy(*, max_retries: int, max_backoff: float) -> http.RetryPolicy:
    return http.RetryPolicy(
        attempts=max_retries + 1,
        base_seconds=0.5,
        max_seconds=max_backoff,
        retry_after_limit_seconds=RETRY_AFTER_LIMIT_SECONDS,
    )


class EventsProviderClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: float = 30.0,
        retry: http.RetryPolicy | None = None,
        max_pages: int = 100_000,
        max_page_bytes: int = 32 * 1024 * 1024,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.base_url = base_url
        self.retry = retry or retry_policy(max_retries=5, max_backoff=30.0)
        self.max_pages = max_pages
        self.limits = http.RequestLimits(deadline_seconds=timeout, max_body_bytes=max_page_bytes)
        self.cancelled = cancelled
        self._token = token
        self._http = http.client_create(
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )

    def __enter__(self) -> EventsProviderClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def pages(self, *, changed_since: date | None = None) -> Iterator[ProviderPage]:
        """Every page of events changed on `changed_since` or later (all events if None)."""
        params = {"changed_at": changed_since.isoformat()} if changed_since else {}
        url: str | None = str(httpx.URL(self.base_url).copy_merge_params(params))
        seen: set[str] = set()
        while url is not None:
            self._check_next(url, seen)
            seen.add(url)
            page = self._fetch(url)
            yield page
            url = page.next_url

    def _check_next(self, url: str, seen: set[str]) -> None:
        if origin(url) != origin(self.base_url):
            raise ProviderBadPage(
                f"refused to follow {url}: not the provider's origin ({self.base_url}, "
                "EVENTS_PROVIDER_URL); the token is sent to no other host"
            )
        if url in seen:
            raise ProviderBadPage(f"the provider's pages loop: {url} was already fetched in this run")
        if len(seen) >= self.max_pages:
            raise ProviderBadPage(
                f"more than {self.max_pages:,} pages in one run (SYNC_MAX_PAGES); the next was {url}"
            )

    # --- one page, with retries ------------------------------------------------------------
    def _fetch(self, url: str) -> ProviderPage:
        try:
            reply = http.retrying(self.retry, cancelled=self.cancelled)(self._get, url)
        except http.TransientFailure as exc:
            raise ProviderUnavailable(f"{exc} (gave up after {self.retry.attempts} attempts)") from None
        except http.BodyTooLarge as exc:
            raise ProviderBadPage(f"{exc} (SYNC_MAX_PAGE_BYTES)") from None
        except http.UnreadableBody as exc:  # stacked or unasked-for compression, a corrupt stream
            raise ProviderBadPage(str(exc)) from None
        except http.Cancelled as exc:
            raise ProviderStopped(f"Stopped by a signal: {exc} ({url}).") from None
        return self._page(reply)

    def _get(self, url: str) -> http.Reply:
        reply = http.request(self._http, "GET", url, limits=self.limits, cancelled=self.cancelled)
        verdict = http.classify(reply.status, success={200})
        if verdict == http.Verdict.CONFIGURATION:
            raise ProviderAuthError(
                f"The provider refused the token ({reply.status} at {url}): EVENTS_PROVIDER_TOKEN "
                "is missing, wrong or expired. Set a fresh token and run again."
            )
        if verdict == http.Verdict.TRANSIENT:
            raise http.TransientFailure(
                f"provider answered {reply.status} at {url}", retry_after=reply.retry_after
            )
        if verdict == http.Verdict.REJECTED:
            raise ProviderBadPage(f"provider answered {reply.status} at {url}: {self._excerpt(reply.body)!r}")
        return reply

    def _excerpt(self, body: bytes) -> str:
        return http.excerpt(body, secrets=[self._token])

    def _page(self, reply: http.Reply) -> ProviderPage:
        url = reply.url
        try:
            body = json.loads(reply.body)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise ProviderBadPage(
                f"the page at {url} is not JSON "
                f"({reply.headers.get('Content-Type', 'no content type')}): {self._excerpt(reply.body)!r}"
            ) from None
        if not isinstance(body, dict) or not isinstance(body.get("results"), list) or "next" not in body:
            raise ProviderBadPage(
                f"the page at {url} is not of the contract's shape "
                "(an object with a `results` list and `next`)"
            )
        next_url = body["next"]
        if next_url is not None and not (isinstance(next_url, str) and is_http_url(next_url)):
            raise ProviderBadPage(
                f"the page at {url} has a `next` that is not an absolute URL: {http.excerpt(repr(next_url))}"
            )
        return ProviderPage(url=url, records=body["results"], next_url=next_url)
