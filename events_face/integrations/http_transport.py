"""One request to an upstream within a total deadline and a body cap (the first half of `http.py`).

- **A total deadline.** Connect, send, headers and the whole body must fit in
  `RequestLimits.deadline_seconds`. It is enforced underneath httpx: every
  socket operation of the request waits at most for what is left of the
  budget (`_DeadlineBackend`), so a server that trickles its headers or its
  body one byte at a time cannot hold a request past its deadline (httpx's
  own timeouts bound each read, not the request).
- **Cancellation.** A request given `cancelled` waits on its socket in slices
  of `CANCEL_CHECK_SECONDS` and raises `Cancelled` at the first slice after it
  turns true.
- **A capped body.** The body is streamed and kept up to
  `RequestLimits.max_body_bytes`; a larger one raises `BodyTooLarge` and the
  connection is dropped, whatever the body holds.
- **Compression we decode ourselves, within the cap.** We ask for
  `ACCEPT_ENCODING` (gzip, deflate) and decode the raw stream here, never
  through httpx (which decodes each chunk, and each stacked layer, whole before
  any size is checked: 6 GiB of zeros gzipped twice is 10 KB). Each call to
  zlib gets as output room only what is left of the cap plus one byte, so a
  decompression bomb costs at most the cap in memory. One encoding at most:
  a stacked `Content-Encoding` (`gzip, gzip`), one we did not ask for, or a
  compressed stream that is corrupt or cut short raise `UnreadableBody`.

Whatever answer arrives is a `Reply`, with its Retry-After read; what the
answer means, and whether to try again, is `http.py`'s to say. Clients import
all of it from `http.py`. Nothing here knows about Django.
"""

from __future__ import annotations

import contextvars
import functools
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore
import httpx

# Longest single wait on a socket, or between retries, while a stop may be asked for:
# bounds how late a cancellation is noticed.
CANCEL_CHECK_SECONDS = 0.25


class TransientFailure(Exception):
    """Worth another try: a 429/5xx answer, a timeout, a connection error."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeadlineExceeded(TransientFailure):
    """The request did not finish (connect, send, whole body) within its deadline."""


class TransportFailure(TransientFailure):
    """No answer: the connection could not be made, or broke."""


class UnreadableBody(Exception):
    """The answer's body cannot be read: encoded in a way we did not ask for, corrupt, or too large."""


class BodyTooLarge(UnreadableBody):
    """The answer's body is larger than the cap (decoded or not); it was not read or decoded past it."""


class Cancelled(Exception):
    """The caller asked to stop (e.g. on SIGTERM) while a request or a retry was waiting."""


# The content codings we ask for (`Accept-Encoding`) and decode, each within the body cap.
ACCEPT_ENCODING = "gzip, deflate"
_GZIP = zlib.MAX_WBITS | 16  # wbits: a gzip header and trailer
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS
# Coding name -> the zlib formats it may arrive in, tried in order ("deflate" is meant
# to be zlib-wrapped, but some servers send it raw).
_DECODABLE = {"gzip": (_GZIP,), "x-gzip": (_GZIP,), "deflate": (_ZLIB, _RAW_DEFLATE)}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True, slots=True)
class RequestLimits:
    # Connect + send + headers + whole body, in seconds.
    deadline_seconds: float
    # Largest body read (decoded bytes); a larger one is `BodyTooLarge`.
    max_body_bytes: int


@dataclass(frozen=True, slots=True)
class Reply:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"))


@dataclass(frozen=True, slots=True)
class _Budget:
    deadline: float  # time.monotonic()
    cancelled: Callable[[], bool] | None

    def check(self) -> float:
        """Seconds left; raises when none are, or when the caller asked to stop."""
        if self.cancelled is not None and self.cancelled():
            raise Cancelled("stopped while a request was in flight")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("deadline exceeded")
        return left


# The budget of the request this thread is making (None outside `request`).
_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("upstream_budget", default=None)


def _bounded(
    operation: Callable[[float | None], Any], timeout: float | None, timed_out: type[Exception]
) -> Any:
    """Run a socket operation that is safe to repeat after a timeout (a read), within the budget.

    The operation waits at most for what is left of the request's deadline and of
    its own `timeout`, and, when the request can be cancelled, in slices.
    """
    budget = _budget.get()
    if budget is None:
        return operation(timeout)
    own_end = None if timeout is None else time.monotonic() + timeout
    while True:
        wait = budget.check()
        if budget.cancelled is not None:
            wait = min(wait, CANCEL_CHECK_SECONDS)
        if own_end is not None and own_end - time.monotonic() <= wait:
            return operation(max(own_end - time.monotonic(), 0.001))  # httpx's own timeout governs
        try:
            return operation(wait)
        except timed_out:
            continue  # the budget decides at the top of the loop


def _remaining(timeout: float | None) -> float | None:
    """For operations that cannot be repeated (connect, write): one wait, cut to the budget."""
    budget = _budget.get()
    if budget is None:
        return timeout
    left = budget.check()
    return left if timeout is None else min(timeout, left)


# --- the body, decoded within the cap ---------------------------------------------------------
def content_coding(header: str | None) -> str | None:
    """The one coding named by a `Content-Encoding` header: None for none (or identity).

    Raises `UnreadableBody` for stacked codings (`gzip, gzip`: every layer multiplies
    what a few bytes become) and for one we did not ask for in `ACCEPT_ENCODING`.
    """
    codings = [token.strip().lower() for token in (header or "").split(",")]
    codings = [coding for coding in codings if coding and coding != "identity"]
    if len(codings) > 1:
        raise UnreadableBody(f"the body has stacked content codings ({header!r}); we accept one at most")
    if not codings:
        return None
    if codings[0] not in _DECODABLE:
        raise UnreadableBody(
            f"the body is encoded as {codings[0]!r}, which we did not ask for (Accept-Encoding: {ACCEPT_ENCODING})"
        )
    return codings[0]


class _BoundedDecoder:
    """Decodes one content coding chunk by chunk, never producing more than `limit` + 1 bytes in all.

    zlib's `max_length` bounds each call's output to what is left of the cap plus one
    byte; input it had no room for would wait in `unconsumed_tail`, but the room only
    runs out once the cap is passed, and the caller stops there (`BodyTooLarge`).
    Concatenated gzip members are decoded one after another, as gzip allows; any other
    bytes after the end of the compressed stream make it corrupt.
    """

    def __init__(self, coding: str, *, limit: int) -> None:
        self.coding = coding
        self.limit = limit
        self.produced = 0
        self._formats = _DECODABLE[coding]
        self._decoder = zlib.decompressobj(self._formats[0])
        self._first_call = True
        self._fed = False

    def decode(self, data: bytes) -> bytes:
        self._fed = self._fed or bool(data)
        output = bytearray()
        while data:
            if self._decoder.eof:  # the previous stream (gzip member) ended; the next starts here
                self._decoder = zlib.decompressobj(self._formats[0])
            chunk = self._decompress(data)
            self.produced += len(chunk)
            output += chunk
            if self.produced > self.limit:
                break  # the caller sees the cap passed and stops
            data = self._decoder.unconsumed_tail or (self._decoder.unused_data if self._decoder.eof else b"")
        return bytes(output)

    def _decompress(self, data: bytes) -> bytes:
        room = self.limit - self.produced + 1
        try:
            return self._decoder.decompress(data, room)
        except zlib.error as exc:
            if self._first_call and len(self._formats) > 1:
                # "deflate" is meant to be zlib-wrapped; some servers send it raw.
                self._formats = self._formats[1:]
                self._decoder = zlib.decompressobj(self._formats[0])
                return self._decompress(data)
            raise UnreadableBody(f"the {self.coding} body is corrupt ({exc})") from None
        finally:
            self._first_call = False

    def finish(self) -> None:
        """The body ended: its compressed stream must have ended too (an empty body is empty)."""
        if self._fed and not self._decoder.eof:
            raise UnreadableBody(f"the {self.coding} body ends before its compressed stream does")


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _bounded(lambda wait: self._stream.read(max_bytes, wait), timeout, httpcore.ReadTimeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own socket backend, with every wait bounded by the current request's budget."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(
            self._backend.connect_tcp(host, port, _remaining(timeout), local_address, socket_options)
        )

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _DeadlineStream(self._backend.connect_unix_socket(path, _remaining(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's CAs, or SSL_CERT_FILE/SSL_CERT_DIR), built once a
    process: loading the CA store costs 25 ms of CPU, and a worker builds a client per topic."""
    return httpx.create_ssl_context()


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport over `_DeadlineBackend` (httpx has no public way to pass a network
    backend, so the pool it builds is replaced by the same pool over ours)."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        super().__init__(verify=_ssl_context(), limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )


def client_create(*, headers: dict[str, str], max_connections: int = 1) -> httpx.Client:
    """An `httpx.Client` whose requests, made through `request`, obey this policy.

    No redirects are followed (a redirect is an answer outside the contracts),
    and no proxy is read from the environment. `Accept-Encoding` is ours
    (`ACCEPT_ENCODING`): `request` decodes only what it asked for.
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections, keepalive_expiry=30.0
    )
    return httpx.Client(
        headers={**headers, "Accept-Encoding": ACCEPT_ENCODING},
        transport=_DeadlineTransport(limits=limits),
        follow_redirects=False,
    )


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    limits: RequestLimits,
    params: dict[str, str] | None = None,
    content: bytes | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Reply:
    """One request within `limits`; any answer is a `Reply` (the caller classifies its status).

    Raises `DeadlineExceeded` or `TransportFailure` (both `TransientFailure`) when no
    whole answer arrived in time, `UnreadableBody` (`BodyTooLarge` among them), or `Cancelled`.
    """
    budget = _Budget(deadline=time.monotonic() + limits.deadline_seconds, cancelled=cancelled)
    token = _budget.set(budget)
    try:
        with client.stream(
            method, url, params=params, content=content, timeout=httpx.Timeout(limits.deadline_seconds)
        ) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limits.max_body_bytes:
                raise BodyTooLarge(
                    f"{method} {url} answered {response.status_code} with a body of {int(declared):,} bytes, "
                    f"more than the {limits.max_body_bytes:,} allowed"
                )
            body = _body_read(response, limits=limits, what=f"{method} {url} answered {response.status_code}")
            return Reply(
                url=str(response.url), status=response.status_code, headers=response.headers, body=body
            )
    except DeadlineExceeded:
        raise DeadlineExceeded(
            f"{method} {url} did not finish within its {limits.deadline_seconds:g} s deadline"
        ) from None
    except httpx.TimeoutException as exc:
        raise DeadlineExceeded(
            f"{method} {url} timed out ({type(exc).__name__}) within its {limits.deadline_seconds:g} s deadline"
        ) from None
    except httpx.TransportError as exc:
        raise TransportFailure(f"could not reach {url}: {type(exc).__name__}: {exc}") from None
    finally:
        _budget.reset(token)


def _body_read(response: httpx.Response, *, limits: RequestLimits, what: str) -> bytes:
    """The body as sent (`iter_raw`: httpx decodes nothing), decoded here within the cap.

    The cap holds for the bytes received and for the bytes decoded from them.
    """
    try:
        coding = content_coding(response.headers.get("Content-Encoding"))
    except UnreadableBody as exc:
        raise UnreadableBody(f"{what}: {exc}") from None
    decoder = None if coding is None else _BoundedDecoder(coding, limit=limits.max_body_bytes)
    received = 0
    body = bytearray()
    for chunk in response.iter_raw():
        received += len(chunk)
        if received > limits.max_body_bytes:
            raise BodyTooLarge(
                f"{what} with a body of more than {limits.max_body_bytes:,} bytes; stopped reading it"
            )
        try:
            body += chunk if decoder is None else decoder.decode(chunk)
        except UnreadableBody as exc:
            raise UnreadableBody(f"{what}: {exc}") from None
        if len(body) > limits.max_body_bytes:
            raise BodyTooLarge(
                f"{what} with a {coding} body that decodes to more than {limits.max_body_bytes:,} bytes; "
                "stopped decoding it"
            )
    if decoder is not None:
        try:
            decoder.finish()
        except UnreadableBody as exc:
            raise UnreadableBody(f"{what}: {exc}") from None
    return bytes(body)
