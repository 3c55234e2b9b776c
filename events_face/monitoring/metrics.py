"""What `/api/metrics/` exports, built on prometheus-client.

Two kinds of series:

- **Counted as things happen**, in the process where they happen: requests
  and their latency (below, by `RequestMetricsMiddleware`), throttled requests
  (`core/metrics.py`), outbox attempts (`outbox/metrics.py`), sync runs, pages
  and records (`sync/metrics.py`). Under gunicorn every worker writes its
  samples to the server's multiprocess folder and a scrape adds them up; the
  worker and the sync serve theirs on their own ports (`core/metrics.py`).
- **Read from the database at scrape time**: the outbox backlog and the
  sync's freshness, one gauge per field of `selectors.service_metrics()`
  (`ServiceMetricsCollector`). They are the same whichever web process is
  asked, and need nothing from the processes that cause them.
"""

import logging
import os
from dataclasses import fields

from django.db import DatabaseError
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from events_face.monitoring.selectors import service_metrics

logger = logging.getLogger(__name__)

# Labels: `route` is the URL pattern's name (never the raw path, so a scan of
# random URLs adds no series), `method` one of the usual methods or "other".
HTTP_REQUESTS = Counter(
    "events_face_http_requests",
    "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "events_face_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by route, method and status.",
    ["route", "method", "status"],
)

# One line per field of the selectors' dataclasses: the gauge
# `events_face_<group>_<field>` (group: a field of `ServiceMetrics`). A field
# missing here is still exported, with its name as help; a test asks for a line.
GAUGE_HELP = {
    "outbox.pending": "Messages neither sent nor failed: waiting, leased or being retried.",
    "outbox.failed": "Messages that stopped retrying and wait for an operator.",
    "outbox.oldest_pending_age_seconds": "Age of the oldest pending message (absent when none is pending).",
    "sync.last_success_age_seconds": "Seconds since the last successful sync finished (absent before the first).",
    "sync.last_run_failed": "1 when the most recent finished sync run failed, else 0.",
    "sync.skipped_records": "Provider records skipped as invalid and not imported since (sync_events --all re-fetches them).",
}


class ServiceMetricsCollector:
    """The database's numbers as gauges, read once per scrape."""

    def collect(self):
        try:
            metrics = service_metrics()
        except DatabaseError as exc:
            # The counters are worth having exactly when the database is in trouble.
            logger.warning("metrics: database gauges left out, the database did not answer: %s", exc)
            return
        for group in fields(metrics):
            stats = getattr(metrics, group.name)
            for field in fields(stats):
                value = getattr(stats, field.name)
                if value is None:
                    continue
                key = f"{group.name}.{field.name}"
                yield GaugeMetricFamily(
                    f"events_face_{group.name}_{field.name}", GAUGE_HELP.get(key, key), value=float(value)
                )


class _ThisProcess:
    """The default registry as one collector: this process's own samples."""

    def collect(self):
        return REGISTRY.collect()


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def metrics_exposition() -> tuple[bytes, str]:
    """(body, content type) of a scrape: counters of every gunicorn worker (or of this
    process outside gunicorn), then the database's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_mode():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(ServiceMetricsCollector())
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4
