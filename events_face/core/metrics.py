"""Prometheus pieces every app shares: the throttled-requests counter, and the
metrics port of a long-running command (`worker`, `sync_events --watch`).

Where samples go depends on the process (README, Operations):

- gunicorn's workers count into files in one folder per server
  (prometheus-client's multiprocess mode, set up by `gunicorn.conf.py`), and
  `/api/metrics/` adds them up;
- every other process counts in its own memory: `worker` and
  `sync_events --watch` serve their counters on their own port
  (WORKER_METRICS_PORT, SYNC_METRICS_PORT), which Prometheus scrapes on each
  host, like any other exporter.
"""

from django.core.management.base import CommandError
from prometheus_client import Counter, disable_created_metrics, start_http_server

# `*_created` series double every counter and no dashboard here reads them
# (multiprocess mode never exports them anyway). Read at exposition time: every
# process that exposes metrics imports this module (the web through errors.py).
disable_created_metrics()

THROTTLED_REQUESTS = Counter(
    "events_face_throttled_requests",
    "Requests refused with 429 by a rate limit, by its scope (auth, registration).",
    ["scope"],
)


def metrics_server_start(*, address: str, setting: str) -> tuple[str, int]:
    """Serve this process's metrics over HTTP at `address`: "PORT" (every interface) or
    "HOST:PORT". Returns (host, port). A bad value, or a port in use, names `setting`."""
    host, _, port_text = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    try:
        port = int(port_text)
        if not 0 < port < 65536:
            raise ValueError(port)
    except ValueError:
        raise CommandError(
            f"{setting} must be a port (9101) or HOST:PORT (127.0.0.1:9101), not {address!r}."
        ) from None
    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        raise CommandError(f"{setting}: cannot listen on {host}:{port} ({exc}).") from None
    return host, port
