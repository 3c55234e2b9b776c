"""An events-provider you can run: the contract in `contract.md` beside it, exactly.

    python -m events_face.integrations provider --port 8101 --events 300 --seed 1 --token T

What it guarantees:

- `GET /api/events/` (with or without the trailing slash) answers only to
  `Authorization: Bearer <token>` (401 otherwise), accepts `changed_at=YYYY-MM-DD`
  (events whose `changed_at`, on the provider's clock, is on that date or later)
  and pages with an opaque keyset cursor in absolute `next` URLs, ordered by
  (`changed_at`, `id`). An event changed while a client pages through moves to
  the end of the order and shows up again on a later page, as it would upstream.
- The data is realistic and the same for the same `--seed` and `--today`
  (`emulator_catalog.py`).
- Every data request is recorded (method, path, query, status, time) for tests.

Control endpoints (no auth; the emulator listens on loopback for tests and dev):

    GET    /_control/requests   what the data endpoint received, in order
    DELETE /_control/requests   forget them
    POST   /_control/events     {"change": N} or {"change_ids": [...]} or {"add": N}:
                                changes/adds events now (new `changed_at`); returns them
    GET    /_control/state      event count, page size, faults, ids served malformed
    POST   /_control/faults     set fault injection (same names as the --flags, see below)
    DELETE /_control/faults     no faults

Faults: `latency` (seconds per data request), `malformed_fraction` (that share of
records, chosen per event from the seed, broken in one of the ways the contract
lists), `error_rate`/`rate_limit_rate`/`not_json_rate` (random 500, 429 with
`Retry-After`, non-JSON pages), and a scripted `script`: a list of
`{"after": K, "times": T, "status": 500|429, "retry_after": S, "body": "not_json"|"wrong_shape"}`;
the rule applies to the T data requests that follow the first K it sees (T = -1: until cleared).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from events_face.integrations.events_provider.emulator_catalog import (
    PROVIDER_TZ,
    Catalog,
    decode_cursor,
    encode_cursor,
)

DATA_PATHS = {"/api/events/", "/api/events"}


@dataclass
class Fault:
    after: int = 0
    times: int = 1
    status: int = 500
    retry_after: int | None = None
    body: str = ""  # "", "not_json" or "wrong_shape"
    seen: int = 0  # data requests this rule has counted so far

    def take(self) -> bool:
        """Count one data request; true if this rule answers it."""
        self.seen += 1
        if self.seen <= self.after:
            return False
        return self.times < 0 or self.seen <= self.after + self.times


@dataclass
class Faults:
    latency: float = 0.0
    malformed_fraction: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    not_json_rate: float = 0.0
    script: list[Fault] = field(default_factory=list)

    @classmethod
    def from_json(cls, body: dict) -> Faults:
        faults = cls(**{k: float(v) for k, v in body.items() if k != "script"})
        faults.script = [
            Fault(**{k: v for k, v in rule.items() if k != "seen"}) for rule in body.get("script", [])
        ]
        return faults

    def as_json(self) -> dict:
        return {
            "latency": self.latency,
            "malformed_fraction": self.malformed_fraction,
            "error_rate": self.error_rate,
            "rate_limit_rate": self.rate_limit_rate,
            "not_json_rate": self.not_json_rate,
            "script": [vars(rule) for rule in self.script],
        }


class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many short-lived test clients connect at once; the default backlog of 5 is too small.
    request_queue_size = 128

    def __init__(self, address, *, catalog: Catalog, token: str, faults: Faults, verbose: bool) -> None:
        super().__init__(address, ProviderHandler)
        self.catalog = catalog
        self.token = token
        self.faults = faults
        self.verbose = verbose
        self.requests: list[dict] = []
        self.state_lock = threading.Lock()
        self.fault_rng = random.Random(catalog.seed + 1)


class ProviderHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ProviderServer

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if self.server.verbose:
            super().log_message(format, *args)

    # --- plumbing --------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, *, content_type="application/json", headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload, *, headers=None) -> None:
        # Text as it is, not \u escapes, and a final newline so curl's output ends its line.
        self._send(status, (json.dumps(payload, ensure_ascii=False) + "\n").encode(), headers=headers)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        if url.path in DATA_PATHS and method == "GET":
            return self._events(url)
        if url.path.startswith("/_control/"):
            return self._control(method, url.path.removeprefix("/_control/").strip("/"))
        self._send_json(404, {"detail": "Not found."})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    # --- the contract -------------------------------------------------------------------------
    def _events(self, url) -> None:
        server = self.server
        status = self._events_response(url)
        with server.state_lock:
            server.requests.append(
                {"method": "GET", "path": url.path, "query": url.query, "status": status, "time": time.time()}
            )

    def _events_response(self, url) -> int:
        server = self.server
        if self.headers.get("Authorization") != f"Bearer {server.token}":
            self._send_json(401, {"detail": "Authentication credentials were not provided or are invalid."})
            return 401
        with server.state_lock:
            faults = server.faults
            # Every rule counts every data request; the first that applies answers it.
            hits = [rule for rule in faults.script if rule.take()]
            rule = hits[0] if hits else None
            roll = server.fault_rng.random()
        if faults.latency:
            time.sleep(faults.latency)
        if rule is None:
            if roll < faults.error_rate:
                rule = Fault(status=500)
            elif roll < faults.error_rate + faults.rate_limit_rate:
                rule = Fault(status=429, retry_after=1)
            elif roll < faults.error_rate + faults.rate_limit_rate + faults.not_json_rate:
                rule = Fault(body="not_json")
        if rule is not None and rule.body == "not_json":
            self._send(200, b"<html><body>502 Bad Gateway</body></html>", content_type="text/html")
            return 200
        if rule is not None and rule.body == "wrong_shape":
            self._send_json(200, {"data": [], "next": None})
            return 200
        if rule is not None:
            headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
            self._send_json(rule.status, {"detail": HTTPStatus(rule.status).phrase}, headers=headers)
            return rule.status

        query = parse_qs(url.query)
        try:
            since = date.fromisoformat(query["changed_at"][0]) if "changed_at" in query else None
            after = decode_cursor(query["cursor"][0]) if "cursor" in query else None
        except (ValueError, KeyError, UnicodeDecodeError):
            self._send_json(400, {"detail": "Invalid changed_at or cursor."})
            return 400
        chunks, last = server.catalog.page(
            since=since, after=after, malformed_fraction=faults.malformed_fraction
        )
        next_url = "null"
        if last is not None:
            params = {"changed_at": since.isoformat()} if since else {}
            params["cursor"] = encode_cursor(last)
            host = self.headers.get("Host") or "{}:{}".format(*server.server_address[:2])
            next_url = json.dumps(f"http://{host}{url.path}?{urlencode(params)}")
        body = b'{"next":%s,"previous":null,"results":[%s]}\n' % (next_url.encode(), b",".join(chunks))
        self._send(200, body)
        return 200

    # --- control ----------------------------------------------------------------------------------
    def _control(self, method: str, name: str) -> None:
        server = self.server
        if name == "requests" and method == "GET":
            with server.state_lock:
                return self._send_json(200, {"requests": list(server.requests)})
        if name == "requests" and method == "DELETE":
            with server.state_lock:
                server.requests.clear()
            return self._send_json(200, {"requests": []})
        if name == "faults" and method in {"POST", "DELETE"}:
            try:
                faults = Faults.from_json(self._body()) if method == "POST" else Faults()
            except (TypeError, ValueError) as exc:
                return self._send_json(400, {"detail": str(exc)})
            with server.state_lock:
                server.faults = faults
            return self._send_json(200, faults.as_json())
        if name == "events" and method == "POST":
            body = self._body()
            changed = server.catalog.change(
                count=int(body.get("change", 0)), ids=body.get("change_ids"), add=int(body.get("add", 0))
            )
            return self._send_json(200, {"events": changed})
        if name == "state" and method == "GET":
            catalog = server.catalog
            with server.state_lock:
                faults = server.faults.as_json()
            return self._send_json(
                200,
                {
                    "events": len(catalog.events),
                    "page_size": catalog.page_size,
                    "faults": faults,
                    "malformed_ids": catalog.malformed_ids(server.faults.malformed_fraction),
                },
            )
        self._send_json(404, {"detail": "Unknown control endpoint."})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m events_face.integrations provider", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--events", type=int, default=300, help="number of events to generate")
    parser.add_argument("--seed", type=int, default=1, help="same seed (and --today), same data")
    parser.add_argument("--token", default="provider-dev-token", help="the Bearer token to accept")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="YYYY-MM-DD the data is generated around (default: today)",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each data request")
    parser.add_argument(
        "--malformed-fraction", type=float, default=0.0, help="share of records served broken"
    )
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of data requests answered 500")
    parser.add_argument(
        "--rate-limit-rate", type=float, default=0.0, help="share answered 429, Retry-After: 1"
    )
    parser.add_argument("--not-json-rate", type=float, default=0.0, help="share answered with an HTML page")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    today = args.today or datetime.now(PROVIDER_TZ).date()
    catalog = Catalog(events=args.events, seed=args.seed, today=today, page_size=args.page_size)
    faults = Faults(
        latency=args.latency,
        malformed_fraction=args.malformed_fraction,
        error_rate=args.error_rate,
        rate_limit_rate=args.rate_limit_rate,
        not_json_rate=args.not_json_rate,
    )
    server = ProviderServer(
        (args.host, args.port), catalog=catalog, token=args.token, faults=faults, verbose=args.verbose
    )
    print(
        f"events-provider emulator: http://{args.host}:{args.port}/api/events/ "
        f"({args.events} events, seed {args.seed}, page size {args.page_size})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
