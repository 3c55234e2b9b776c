"""The events-provider client: pages of raw records, one at a time, over one `httpx.Client`.

Guarantees:

- `pages()` follows `next` exactly as given until it is null and yields each
  page as it arrives; it holds one page at a time, whatever the number of pages.
- Transient failures (5xx, 429, timeouts, connection errors) are retried up to
  `max_retries` times per page. The wait before a retry is the response's
  `Retry-After` when it has one, else exponential backoff with jitter capped
  at `max_backoff`. When the retries run out, `ProviderUnavailable`.
- 401/403 raise `ProviderAuthError` at once (an expired token is not transient).
  Any other status, a body that is not JSON, or a body not of the contract's
  shape raises `ProviderBadPage`. All of these are `ProviderError`.
- Records are not validated here (see `records.py`): a page is "a list of
  things", so one bad record never costs the page.

Nothing here knows about Django.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

# Above this a Retry-After is taken as a misconfiguration, not an instruction to sleep for hours.
RETRY_AFTER_LIMIT = 600.0


class ProviderError(Exception):
    """The provider could not give us a usable page; the sync run fails with this message."""


class ProviderAuthError(ProviderError):
    pass


class ProviderBadPage(ProviderError):
    pass


class ProviderUnavailable(ProviderError):
    pass


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ProviderPage:
    url: str
    records: list[Any]
    next_url: str | None


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_LIMIT)


class EventsProviderClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: float = 30.0,
        max_retries: int = 5,
        max_backoff: float = 30.0,
    ) -> None:
        self.base_url = base_url
        self.max_retries = max_retries
        self.max_backoff = max_backoff
        self._http = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
        )

    def __enter__(self) -> EventsProviderClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def pages(self, *, changed_since: date | None = None) -> Iterator[ProviderPage]:
        """Every page of events changed on `changed_since` or later (all events if None)."""
        params = {"changed_at": changed_since.isoformat()} if changed_since else None
        page = self._fetch(self.base_url, params)
        yield page
        while page.next_url is not None:
            page = self._fetch(page.next_url, None)
            yield page

    # --- one page, with retries ------------------------------------------------------------
    def _wait(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return error.retry_after
        backoff = min(self.max_backoff, 0.5 * 2 ** (retry_state.attempt_number - 1))
        return backoff * random.uniform(0.5, 1.0)

    def _fetch(self, url: str, params: dict[str, str] | None) -> ProviderPage:
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            response = retrying(self._get, url, params)
        except _Transient as exc:
            raise ProviderUnavailable(
                f"{exc} (gave up after {self.max_retries + 1} attempts)"
            ) from None
        return self._page(response)

    def _get(self, url: str, params: dict[str, str] | None) -> httpx.Response:
        try:
            response = self._http.get(url, params=params)
        except httpx.TimeoutException as exc:
            raise _Transient(f"timed out requesting {url}: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"could not reach the provider at {url}: {exc!r}") from exc
        status = response.status_code
        if status in {401, 403}:
            raise ProviderAuthError(
                f"The provider refused the token ({status} at {url}): EVENTS_PROVIDER_TOKEN "
                "is missing, wrong or expired. Set a fresh token and run again."
            )
        if status == 429 or status >= 500:
            raise _Transient(
                f"provider answered {status} at {url}",
                retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status != 200:
            raise ProviderBadPage(f"provider answered {status} at {url}: {response.text[:200]!r}")
        return response

    def _page(self, response: httpx.Response) -> ProviderPage:
        url = str(response.request.url)
        try:
            body = json.loads(response.content)
        except ValueError:
            raise ProviderBadPage(
                f"the page at {url} is not JSON "
                f"({response.headers.get('Content-Type', 'no content type')}): {response.text[:120]!r}"
            ) from None
        if not isinstance(body, dict) or not isinstance(body.get("results"), list) or "next" not in body:
            raise ProviderBadPage(
                f"the page at {url} is not of the contract's shape "
                "(an object with a `results` list and `next`)"
            )
        next_url = body["next"]
        if next_url is not None and not (isinstance(next_url, str) and is_http_url(next_url)):
            raise ProviderBadPage(f"the page at {url} has a `next` that is not an absolute URL: {next_url!r}")
        return ProviderPage(url=url, records=body["results"], next_url=next_url)
