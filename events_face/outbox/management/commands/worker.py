"""`manage.py worker`: deliver outbox messages until stopped.

    python manage.py worker                   # run until SIGTERM / Ctrl-C
    python manage.py worker --once            # deliver what is due now, then exit
    python manage.py worker --requeue-failed  # put failed messages back in the queue

Any number of workers may run side by side, on one machine or many; the
rules that make that safe are in `events_face/outbox/delivery.py`.

SIGTERM or SIGINT: no new request starts, the requests in flight finish (each
by its deadline, OUTBOX_HTTP_DEADLINE_SECONDS), messages not yet sent are released for
the next worker, and the process exits 0 (`core/stopping.py`). A second signal
acts as usual (SIGTERM kills it at once), which is also safe: its leases expire
and the messages are sent again.

With WORKER_METRICS_PORT set, a running worker (not `--once`) serves its
counters there for Prometheus (`outbox/metrics.py`).
"""

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.utils import timezone

from events_face.config.checks import OUTBOX_TAG
from events_face.core.metrics import metrics_server_start
from events_face.core.stopping import stop_on_signals
from events_face.outbox.delivery import batch_start
from events_face.outbox.schedules import scheduled_messages_write
from events_face.outbox.senders import Senders, registered_senders
from events_face.outbox.services import outbox_requeue_failed
from events_face.outbox.wakeup import wakeup_for_database

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Deliver outbox messages to the notifications service until stopped."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="deliver the messages due now, then exit")
        parser.add_argument(
            "--requeue-failed",
            action="store_true",
            help="put every failed message back in the queue, then exit",
        )

    def handle(self, *args, once: bool, requeue_failed: bool, **options) -> None:
        if requeue_failed:
            count = outbox_requeue_failed()
            self.stdout.write(f"{count} failed message(s) put back in the queue.")
            return
        self.check_configuration()
        if settings.WORKER_METRICS_PORT and not once:
            host, port = metrics_server_start(
                address=settings.WORKER_METRICS_PORT, setting="WORKER_METRICS_PORT"
            )
            logger.info("outbox worker metrics on http://%s:%d/metrics", host, port)

        stopping = threading.Event()
        with stop_on_signals(stopping, what="the requests in flight"):
            self.deliver(stopping, once=once)

    def deliver(self, stopping: threading.Event, *, once: bool) -> None:
        lease_owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        concurrency = settings.OUTBOX_CONCURRENCY
        batch_size = settings.OUTBOX_BATCH_SIZE
        wakeup = wakeup_for_database(stopping=stopping)
        due_before = timezone.now() if once else None
        logger.info(
            "outbox worker %s delivering to the senders of %s (batch %d, %d in flight)",
            lease_owner,
            ", ".join(sorted(registered_senders())),
            batch_size,
            concurrency,
        )
        with (
            Senders() as senders,
            ThreadPoolExecutor(concurrency, thread_name_prefix="outbox-send") as executor,
        ):
            batch_options = {
                "senders": senders,
                "executor": executor,
                "lease_owner": lease_owner,
                "limit": batch_size,
                "stopping": stopping,
                "due_before": due_before,
            }
            try:
                while not stopping.is_set():
                    try:
                        # Messages due at a moment (reminders) join the queue first.
                        scheduled_messages_write(now=timezone.now())
                        self.deliver_until_idle(batch_options, stopping)
                    except DatabaseError:
                        # Whatever was in flight stays leased and is sent again later.
                        logger.exception("outbox worker: database error; retrying after a poll")
                        connection.close()
                    if once:
                        break
                    wakeup.wait(settings.OUTBOX_POLL_INTERVAL)
            finally:
                wakeup.close()
        logger.info("outbox worker %s stopped", lease_owner)

    def deliver_until_idle(self, batch_options: dict, stopping: threading.Event) -> None:
        batch = batch_start(**batch_options)
        while batch is not None:
            # Claim the next batch while this one is on the wire, so the senders
            # never wait for the database (delivery.py, rule 3).
            upcoming = None
            if batch.full and not stopping.is_set():
                upcoming = batch_start(**batch_options)
            logger.info("%s", batch.finish())
            batch = upcoming

    def check_configuration(self) -> None:
        for topic, sender in registered_senders().items():
            missing = [name for name in sender.required_settings if not getattr(settings, name)]
            if missing:
                raise CommandError(
                    f"{', '.join(missing)} not set: the worker needs them to deliver "
                    f"{topic!r} messages (see .env.example)."
                )
        if os.environ.get("OUTBOX_MAX_ATTEMPTS"):
            # Replaced by a time horizon: say so rather than ignore it silently.
            logger.warning(
                "OUTBOX_MAX_ATTEMPTS is no longer read: a message is retried for "
                "OUTBOX_RETRY_HORIZON_HOURS (%g) of passing trouble; remove it from the environment.",
                settings.OUTBOX_RETRY_HORIZON_HOURS,
            )
        # The worker's own system checks, even where the command is called without them
        # (call_command): events_face.E005, a lease outlasts the requests made under it.
        self.check(tags=[OUTBOX_TAG])
