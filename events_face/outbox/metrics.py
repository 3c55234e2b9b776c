"""The outbox's counters, incremented by the worker that records each attempt (`outcomes.py`).

A worker process serves them on WORKER_METRICS_PORT (`core/metrics.py`); the
backlog (pending, failed, oldest pending age) is read from the database by
`/api/metrics/` instead, so it is right however many workers run.
"""

from prometheus_client import Counter

# outcome: delivered (201/409), retried (rescheduled: 429, 5xx, no answer, 401/403),
# failed (given up or rejected; an operator requeues it).
ATTEMPTS = Counter(
    "events_face_outbox_attempts",
    "Delivery attempts of outbox messages, by topic and outcome (delivered, retried, failed).",
    ["topic", "outcome"],
)
