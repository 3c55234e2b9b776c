"""Notifications-service emulator: the contract in `contract.md` beside it, runnable.

    python -m events_face.integrations notifications --port 8102 --token T

`POST /api/notifications` answers exactly as the contract says, in this order:
401 unless `Authorization: Bearer <token>`; 400 unless the body is a JSON object
with exactly `id` and `owner_id` (UUIDs), `email` and `message` (non-empty
strings); 409 if a notification with this `id` was accepted before; otherwise
201, and the notification is kept. `GET /api/notifications` returns the kept
notifications, in the order accepted, each with its `accepted_at`.

Faults, before any of that, to exercise a client's retries (command-line
options, or `POST /_control` with the same names in JSON):

- `fail_rate`: fraction of requests answered 500 (nothing is kept);
- `throttle_rate`, `retry_after`: fraction answered 429 with `Retry-After`;
- `drop_rate`: fraction whose connection is closed without an answer, *after*
  the notification was accepted: the client cannot tell, and its retry must
  get 409;
- `latency_ms`: added before every answer;
- `script`: a list of answers (`{"status": 403, "body": {...}, "headers": {...}}`
  or `{"drop": true}`) given to the next requests, one each, in order.

`GET /_control` shows the faults and counts answers by status;
`POST /_control {"reset": true}` also forgets every accepted notification.

The server is the standard library's threading HTTP server speaking HTTP/1.1
with keep-alive, answers in one write, and logs nothing per request, so that
it is a ceiling for a client's throughput, not its bottleneck.
"""

import argparse
import json
import signal
import sys
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from events_face.integrations.notifications.emulator_state import (
    Faults,
    NotificationsState,
    validation_errors,
)

NOTIFICATIONS_PATH = "/api/notifications"
CONTROL_PATH = "/_control"
MAX_BODY_BYTES = 64 * 1024


class NotificationsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: "NotificationsServer"

    # --- routing -------------------------------------------------------------------
    def do_POST(self) -> None:
        path = self.path.rstrip("/")
        if path == NOTIFICATIONS_PATH:
            self.notification_create()
        elif path == CONTROL_PATH:
            self.control_update()
        else:
            self.read_body()
            self.respond(404, {"error": "not found"})

    def do_GET(self) -> None:
        path = self.path.rstrip("/")
        if path == NOTIFICATIONS_PATH:
            with self.server.state.lock:
                accepted = list(self.server.state.accepted.values())
            self.respond(200, accepted)
        elif path == CONTROL_PATH:
            self.respond(200, self.server.state.control_json())
        else:
            self.respond(404, {"error": "not found"})

    # --- the contract ---------------------------------------------------------------
    def notification_create(self) -> None:
        state = self.server.state
        raw = self.read_body()
        if state.faults.latency_ms:
            time.sleep(state.faults.latency_ms / 1000)
        fault = state.pick_fault()
        if fault is not None and not fault.get("drop_after_accept"):
            if fault.get("drop"):
                return self.drop(state)
            state.count(fault["status"])
            return self.respond(fault["status"], fault.get("body", {}), fault.get("headers"))

        if self.headers.get("Authorization") != state.expected_authorization:
            state.count(401)
            return self.respond(401, {"error": "missing or invalid Bearer token"})
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        errors = validation_errors(body)
        if errors:
            state.count(400)
            return self.respond(400, {"error": "invalid notification", "fields": errors})
        if not state.accept(body):
            state.count(409)
            return self.respond(409, {"error": "duplicate_id", "id": body["id"]})
        if fault is not None:  # drop_after_accept: the answer is lost on the way back
            return self.drop(state)
        state.count(201)
        self.respond(201, {"id": body["id"], "status": "accepted"})

    def control_update(self) -> None:
        state = self.server.state
        try:
            changes = json.loads(self.read_body() or b"{}")
            with state.lock:
                state.faults.update(changes)
                if changes.get("reset"):
                    state.accepted.clear()
                    state.answers.clear()
        except (ValueError, TypeError) as exc:
            return self.respond(400, {"error": str(exc)})
        self.respond(200, state.control_json())

    # --- plumbing -------------------------------------------------------------------
    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length else b""

    def drop(self, state: NotificationsState) -> None:
        state.count("dropped")
        self.close_connection = True

    def respond(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        # Cyrillic as it is, not \u escapes, and a final newline so curl's output ends its line.
        payload = (json.dumps(body, ensure_ascii=False) + "\n").encode()
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
        ]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if self.close_connection:
            lines.append("Connection: close")
        # Status line, headers and body in one write: no Nagle/delayed-ACK stalls.
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class NotificationsServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], *, state: NotificationsState, verbose: bool):
        self.state = state
        self.verbose = verbose
        super().__init__(address, NotificationsHandler)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m events_face.integrations notifications",
        description="Emulate the notifications service on 127.0.0.1.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--token", required=True, help="the Bearer token to require")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction answered 500")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="fraction answered 429")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds on 429")
    parser.add_argument(
        "--drop-rate",
        type=float,
        default=0.0,
        help="fraction accepted but whose connection is then closed without an answer",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument("--seed", type=int, default=None, help="for reproducible faults")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    faults = Faults(
        fail_rate=args.fail_rate,
        throttle_rate=args.throttle_rate,
        retry_after=args.retry_after,
        drop_rate=args.drop_rate,
        latency_ms=args.latency_ms,
    )
    state = NotificationsState(token=args.token, faults=faults, seed=args.seed)
    server = NotificationsServer((args.host, args.port), state=state, verbose=args.verbose)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(
        f"notifications emulator on http://{args.host}:{args.port}{NOTIFICATIONS_PATH}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
