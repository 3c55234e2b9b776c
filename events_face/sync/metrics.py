"""The sync's counters, incremented as a run applies pages and ends (`services.py`).

`sync_events --watch` serves them on SYNC_METRICS_PORT (`core/metrics.py`);
freshness (time since the last success, whether the last run failed) is read
from the database by `/api/metrics/` instead, so it survives restarts.
"""

from prometheus_client import Counter

# mode: incremental, all, date (SyncRun.Mode).
RUNS = Counter(
    "events_face_sync_runs",
    "Finished sync runs, by mode and outcome (succeeded, failed).",
    ["mode", "outcome"],
)
PAGES = Counter("events_face_sync_pages", "Provider pages applied, by mode.", ["mode"])
RECORDS = Counter(
    "events_face_sync_records",
    "Provider records applied, by mode and result (created, updated, unchanged, skipped as invalid, "
    "too_old: past the cleanup horizon, not imported).",
    ["mode", "result"],
)
