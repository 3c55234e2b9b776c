"""A small fake upstream: a real threaded HTTP server on 127.0.0.1 whose answers a test writes.

    with FakeUpstream(handler) as server:   # handler(request) -> Answer (or None: drop)
        ... server.url("/api/events/") ...
        server.requests                     # every request received, in order

An `Answer` can trickle its body (`trickle_seconds` between bytes) and stream a
body larger than memory should hold (`repeat`); `bytes_sent` records how much of
it went out before the client hung up. `gzip_bomb` builds a small body that
decodes to a huge one (serve it with the matching `Content-Encoding`).
"""

from __future__ import annotations

import functools
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None  # when the answer was finished or the client hung up


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds between two bytes of the body (0: all at once).
    trickle_seconds: float = 0.0
    # The body is sent this many times over (a large body without holding it).
    repeat: int = 1
    # False: no Content-Length; the body ends when the connection closes.
    declare_length: bool = True


class FakeUpstream:
    def __init__(self, handler: Callable[[Received], Answer]) -> None:
        self.handler = handler
        self.requests: list[Received] = []
        self.bytes_sent = 0
        self._lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(
                    method=self.command,
                    path=self.path,
                    headers=dict(self.headers),
                    body=self.rfile.read(length) if length else b"",
                )
                with upstream._lock:
                    upstream.requests.append(received)
                answer = upstream.handler(received)
                try:
                    self._answer(answer)
                except OSError:
                    pass  # the client hung up
                finally:
                    received.ended = time.monotonic()
                    self.close_connection = True

            def _answer(self, answer: Answer) -> None:
                self.send_response(answer.status)
                # Every connection ends after one answer, and says so: a client that was not
                # told would pool it, and its next request could race the close.
                headers = {"Content-Type": "application/json", **answer.headers, "Connection": "close"}
                if answer.declare_length:
                    headers.setdefault("Content-Length", str(len(answer.body) * answer.repeat))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.flush()
                for _ in range(answer.repeat):
                    if answer.trickle_seconds:
                        for index in range(len(answer.body)):
                            self.wfile.write(answer.body[index : index + 1])
                            self.wfile.flush()
                            upstream._count(1)
                            time.sleep(answer.trickle_seconds)
                    else:
                        self.wfile.write(answer.body)
                        upstream._count(len(answer.body))

            def log_message(self, format: str, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def _count(self, sent: int) -> None:
        with self._lock:
            self.bytes_sent += sent

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> FakeUpstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


# --- compressed answers -----------------------------------------------------------------------
def gzipped(data: bytes) -> bytes:
    """`data` as one gzip member."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return compressor.compress(data) + compressor.flush()


@functools.cache
def gzip_bomb(decoded_bytes: int, *, layers: int = 2) -> bytes:
    """`decoded_bytes` zeros gzipped `layers` times over: a few KB that decode to all of it
    (as `Content-Encoding: gzip, gzip` for two layers). Built a MiB at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1024 * 1024)
    parts = []
    for start in range(0, decoded_bytes, len(zeros)):
        parts.append(compressor.compress(zeros[: decoded_bytes - start]))
    body = b"".join(parts) + compressor.flush()
    for _ in range(layers - 1):
        body = gzipped(body)
    return body
