"""The scale-out soak, shortened: the production topology under load while processes die.

PostgreSQL and Redis; two gunicorn servers (two workers each), three outbox
workers, `sync_events --watch 5` against the provider emulator while it changes
events, the notifications emulator answering 10% of requests with 500. Eight
users sign up, log in, browse and register for ~20 s while one worker is
SIGKILLed and started again, one web server and the sync are restarted. Then,
from the database and the emulators' records: every registration has exactly
one notification accepted, the capacity-limited event is not overbooked and no
(event, e-mail) is registered twice, no 5xx outside the web server's restart,
and the mirror equals the provider. The full run, with its figures, is
`bench/scale_out.py` (docs/benchmarks.md); nothing here is timed.

Every process of the deployment connects through a real PgBouncer in transaction
pooling mode (`SOAK_POOL_SIZE` server connections for all of them), with the direct
route (DATABASE_DIRECT_URL) beside it, as docs/deployment.md deploys many web hosts.
Under CI PgBouncer must be installed (.ci/run installs it); elsewhere, without it,
the processes connect directly.
"""

import json
import os
from collections.abc import Iterator

import pytest
from django.db import connection

from tests.support.pgbouncer import PgBouncer, pgbouncer_binary, pgbouncer_start, pooled_database_urls
from tests.support.redis_server import REDIS_URL, redis_or_skip
from tests.support.scale_out.report import report_text
from tests.support.scale_out.soak import SoakPlan, soak_run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the scale-out topology is PostgreSQL's (SKIP LOCKED workers, LISTEN/NOTIFY, the advisory "
        "sync lock); run the suite with DATABASE_URL=postgres://... to include it",
    ),
]

# Server connections PgBouncer keeps for the whole deployment: 2 servers x 2 workers, 3 outbox
# workers (each with its delivery threads) and the sync open more than three times as many clients.
SOAK_POOL_SIZE = 4


@pytest.fixture
def shared_cache_url() -> str:
    redis_or_skip()
    return REDIS_URL


@pytest.fixture
def database_route() -> Iterator[dict[str, str]]:
    """DATABASE_URL and DATABASE_DIRECT_URL of the deployment: through PgBouncer when it is installed."""
    if pgbouncer_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is not installed; .ci/run installs it (apt-get install pgbouncer)")
        print("pgbouncer is not installed: the deployment connects to PostgreSQL directly")
        yield {}
        return
    bouncer: PgBouncer = pgbouncer_start(pool_size=SOAK_POOL_SIZE)
    try:
        yield pooled_database_urls(bouncer)
    finally:
        bouncer.stop()


def test_the_deployment_loses_nothing_under_load_while_processes_restart(
    tmp_path, shared_cache_url, database_route
):
    plan = SoakPlan(
        database_url=database_route.get("DATABASE_URL", ""),
        database_direct_url=database_route.get("DATABASE_DIRECT_URL", ""),
        duration=20, clients=8, think_seconds=0.05, provider_events=200, capacity=5,
        cache_url=shared_cache_url,
        # Other tests use this Redis database at the same time. Nothing they left can
        # answer this run: cached pages are keyed by the fresh servers' ports and the
        # fresh database's catalogue version.
        flush_cache=False,
        # Early enough that a web server booting on a busy machine is back before the load ends.
        worker_kill_at=0.2, web_restart_at=0.35, sync_restart_at=0.6,
        drain_timeout=45, converge_timeout=30,
    )  # fmt: skip

    result = soak_run(plan, log_dir=tmp_path, say=print)

    report = report_text(result)
    print(report)
    proofs = result["proofs"]

    def failure(name: str) -> str:
        return f"{report}\n\n{name}: {json.dumps(proofs[name]['details'], indent=2, default=str)}\nlogs: {tmp_path}"

    assert proofs["notifications"]["ok"], failure("notifications")
    assert proofs["bookings"]["ok"], failure("bookings")
    assert proofs["answers"]["ok"], failure("answers")
    assert proofs["sync"]["ok"], failure("sync")
    # The proofs are not empty: each situation they speak of happened.
    bookings = proofs["bookings"]["details"]
    assert bookings["capacity_event_registrations"] == plan.capacity, report
    assert bookings["capacity_event_full_409"] > 0, report
    statuses = {row["endpoint"]: row["statuses"] for row in result["load"]["endpoints"]}
    assert statuses["POST .../register/ (same e-mail again)"].get("409"), report
    assert result["outbox"]["emulator_answers"].get("500"), report  # seeded: the 9th request gets one
    assert result["sync"]["mutations"] > 0 and result["sync"]["updated"] > 0, report
    assert sorted(event["fault"] for event in result["timeline"]) == [
        "sync_restart",
        "web_restart",
        "worker_kill",
    ]
