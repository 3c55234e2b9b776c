"""The notifications service (downstream) and the outbox worker that delivers to it."""

from events_face.config.environment import env

# --- The notifications service -----------------------------------------------------------
# Empty means "not configured": `make run` then starts the built-in emulator.
NOTIFICATIONS_URL = env.str("NOTIFICATIONS_URL", default="")
NOTIFICATIONS_TOKEN = env.str("NOTIFICATIONS_TOKEN", default="")
NOTIFICATIONS_OWNER_ID = env.str("NOTIFICATIONS_OWNER_ID", default="")
# The time zone a notification shows the event's time in (named in the text, "MSK", "UTC");
# an IANA name (checked: events_face.E002).
NOTIFICATIONS_TIME_ZONE = env.str("NOTIFICATIONS_TIME_ZONE", default="UTC")

# --- Outbox worker -------------------------------------------------------------------------
# Hours a message keeps being retried through passing trouble (5xx, 408, 425, 429, no answer),
# counted from the first of it; then it is failed for an operator (see outbox/outcomes.py).
OUTBOX_RETRY_HORIZON_HOURS = env.float("OUTBOX_RETRY_HORIZON_HOURS", default=72.0)
OUTBOX_POLL_INTERVAL = env.float("OUTBOX_POLL_INTERVAL", default=1.0)  # seconds
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=100)
OUTBOX_CONCURRENCY = env.int("OUTBOX_CONCURRENCY", default=16)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=60)
# Total deadline of one request in seconds (connect, send, the whole answer); a lease
# must outlast 3 of them (checked: events_face.E005).
# OUTBOX_HTTP_TIMEOUT is its old name, read while the new one is unset (events_face.W004).
LEGACY_OUTBOX_HTTP_TIMEOUT = env.float("OUTBOX_HTTP_TIMEOUT", default=None)
OUTBOX_HTTP_DEADLINE_SECONDS = env.float(
    "OUTBOX_HTTP_DEADLINE_SECONDS", default=LEGACY_OUTBOX_HTTP_TIMEOUT or 10.0
)
# Retry backoff: base * 2**(attempt-1) seconds with jitter, capped (Retry-After included).
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=1.0)
OUTBOX_RETRY_MAX_SECONDS = env.float("OUTBOX_RETRY_MAX_SECONDS", default=3600.0)
