"""Where the CPU went during the load: seconds per part of the deployment, read from /proc.

Every `interval` a thread reads the CPU time (user + system) of each process
in the deployment's process groups (a gunicorn master and its workers share
one) and of the PostgreSQL backends serving the run's database, keeping each
process's latest figure; what a part used is that less what its processes had
used when the meter started (a process started since, such as a restarted
server, counts from its start). A process that exits keeps the last figure
read, so a part is short by at most `interval` per exited process. This
process (the load generator and the harness) is measured too. Linux only;
elsewhere the figures are empty.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: str) -> tuple[int, float] | None:
    """(process group, CPU seconds) of a process, or None if it is gone."""
    try:
        text = (PROC / pid / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (command) "; the command may hold spaces
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_database(pid: str) -> str | None:
    try:
        title = (PROC / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    # A backend's title: "postgres: 15/main: USER DATABASE HOST(PORT) STATE".
    parts = title.split()
    return parts[3] if title.startswith("postgres: ") and len(parts) > 3 else None


class CpuMeter:
    def __init__(self, *, groups: Callable[[], dict[int, str]], database: str, interval: float = 1.0) -> None:
        self.groups = groups  # process group id -> part name, as the deployment has it now
        self.database = database
        self.interval = interval
        self.latest: dict[int, tuple[str, float]] = {}  # pid -> (part, CPU seconds)
        self.baseline: dict[int, float] = {}
        self.own_start = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-cpu", daemon=True)
        self.available = PROC.is_dir()

    def start(self) -> None:
        if self.available:
            self.read()
            self.baseline = {pid: seconds for pid, (_, seconds) in self.latest.items()}
            self.own_start = time.process_time()
            self._thread.start()

    def read(self) -> None:
        groups = self.groups()
        for entry in PROC.iterdir():
            if not entry.name.isdigit():
                continue
            stat = _stat(entry.name)
            if stat is None:
                continue
            group, seconds = stat
            part = groups.get(group)
            if part is None and _postgres_database(entry.name) == self.database:
                part = "postgresql (this database's backends)"
            if part is not None:
                self.latest[int(entry.name)] = (part, seconds)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.read()

    def stop(self) -> dict[str, float]:
        """Read once more, stop, and return CPU seconds per part."""
        if not self.available:
            return {}
        self._stop.set()
        self._thread.join()
        self.read()
        totals: dict[str, float] = defaultdict(float)
        for pid, (part, seconds) in self.latest.items():
            totals[part] += seconds - self.baseline.get(pid, 0.0)
        totals["load generator and harness (this process)"] = time.process_time() - self.own_start
        return dict(sorted(totals.items(), key=lambda item: -item[1]))
