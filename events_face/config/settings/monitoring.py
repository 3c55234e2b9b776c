"""Metrics and logging: one log switch (LOG_FORMAT) for web, worker and sync."""

from events_face.config import environment
from events_face.config.environment import env

# --- Configured -----------------------------------------------------------------------
# Bearer token for /api/metrics/; unset: metrics are open with DEBUG on, off otherwise.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Where `worker` and `sync_events --watch` serve their own counters for Prometheus:
# "PORT" (every interface) or "HOST:PORT"; empty: not served (core/metrics.py).
WORKER_METRICS_PORT = env.str("WORKER_METRICS_PORT", default="")
SYNC_METRICS_PORT = env.str("SYNC_METRICS_PORT", default="")
# json: one JSON object a line (python-json-logger), for log shipping; text: for people.
# Default json when DEBUG is false; gunicorn.conf.py reads it through the same function.
LOG_FORMAT = environment.log_format()
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")

# --- Computed -------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Calendar feed URLs are credentials: no line may hold one (Django logs 404 paths).
        "secret_paths": {"()": "events_face.monitoring.log_redaction.SecretPathFilter"},
        # On the handler, so records of every logger (Django's, libraries') get the request's id.
        "request_id": {"()": "events_face.monitoring.request_id.RequestIdFilter"},
    },
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s",
            "defaults": {"request_id": "-"},
        },
        # Fields: timestamp (UTC, ISO 8601), level, logger, message, request_id in a request,
        # and whatever a call passes in `extra` (the worker's message_id, outcome, ...).
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "secret_paths"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Without its own handlers: Django's default one would print its records a second
        # time, unformatted, with DEBUG on. They reach the root's handler.
        "django": {"handlers": []},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
