"""Sync test helpers: the provider emulator as a test sees it, and `sync_events` in and out of process."""

from __future__ import annotations

import io
import subprocess
import time
from dataclasses import dataclass

import httpx
from django.core.management import CommandError, call_command

from events_face.launcher import Emulator
from events_face.sync import services, upsert
from events_face.sync.models import SyncRun
from tests.support.processes import command_env, manage

TOKEN = "provider-test-token"


def page_apply(*records: dict, mode: str = SyncRun.Mode.ALL) -> None:
    """Provider records applied as one page of a new sync run, as `sync_events` applies each page."""
    run = services.sync_run_start(mode=mode, since_date=None)
    upsert.sync_page_apply(run=run, records=list(records))


@dataclass
class Provider:
    """A running provider emulator and its control endpoints."""

    emulator: Emulator
    token: str = TOKEN

    @property
    def url(self) -> str:
        return f"{self.emulator.base_url}/api/events/"

    def _control(self, method: str, name: str, json: dict | None = None) -> dict:
        response = httpx.request(method, f"{self.emulator.base_url}/_control/{name}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def requests(self) -> list[dict]:
        """Data requests the emulator received, in order (path, query, status, time)."""
        return self._control("GET", "requests")["requests"]

    def queries(self) -> list[str]:
        return [request["query"] for request in self.requests()]

    def forget_requests(self) -> None:
        self._control("DELETE", "requests")

    def set_faults(self, **faults) -> None:
        self._control("POST", "faults", faults)

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def change(self, *, count: int = 0, ids: list[str] | None = None, add: int = 0) -> list[dict]:
        return self._control("POST", "events", {"change": count, "change_ids": ids or [], "add": add})[
            "events"
        ]

    def state(self) -> dict:
        return self._control("GET", "state")

    def records(self, *, changed_at: str | None = None) -> list[dict]:
        """Every record the provider serves, read as a client would (then forgotten from the log)."""
        records, url = [], self.url
        params = {"changed_at": changed_at} if changed_at else None
        with httpx.Client(headers={"Authorization": f"Bearer {self.token}"}, timeout=10) as client:
            while url:
                page = client.get(url, params=params).json()
                records += page["results"]
                url, params = page["next"], None
        self.forget_requests()
        return records


@dataclass
class SyncResult:
    run: SyncRun | None
    stdout: str
    stderr: str
    error: str | None  # the CommandError's message, when the command failed


def sync(*args: str) -> SyncResult:
    """Run `manage.py sync_events ARGS` in-process; return the run it recorded and its output."""
    stdout, stderr = io.StringIO(), io.StringIO()
    latest = SyncRun.objects.order_by("-pk").first()
    error = None
    try:
        call_command("sync_events", *args, stdout=stdout, stderr=stderr)
    except CommandError as exc:
        error = str(exc)
    run = SyncRun.objects.order_by("-pk").first()
    if run is not None and latest is not None and run.pk == latest.pk:
        run = None  # the command recorded no run
    return SyncResult(run=run, stdout=stdout.getvalue(), stderr=stderr.getvalue(), error=error)


def sync_process(provider: Provider, *args: str, **env: str) -> subprocess.Popen:
    """`manage.py sync_events ARGS` as a real process on the test database, output captured
    (log lines from WARNING up, unless `env` sets LOG_LEVEL)."""
    return manage(
        "sync_events", *args,
        env=command_env(
            EVENTS_PROVIDER_URL=provider.url, EVENTS_PROVIDER_TOKEN=TOKEN, **{"LOG_LEVEL": "WARNING", **env}
        ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for_requests(provider: Provider, count: int, timeout: float = 20.0) -> None:
    """Wait, at most `timeout`, until the provider has received `count` data requests."""
    deadline = time.monotonic() + timeout
    while len(provider.requests()) < count:
        assert time.monotonic() < deadline, f"the provider did not get {count} requests in {timeout}s"
        time.sleep(0.05)
