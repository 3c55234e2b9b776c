"""Scale-out soak: the production topology under mixed load while processes die, with its proofs.

    .venv/bin/python bench/scale_out.py [--duration 60] [--clients 16] [--redis-url redis://127.0.0.1:6379/9]
    .venv/bin/python bench/scale_out.py --report var/bench_scale_out.json   # re-print and redraw a run

PostgreSQL (a database of its own, `--database`, created, migrated and dropped
here) and Redis (`--redis-url`: the cache of every web process, flushed at the
start, so give it a database number nobody else uses); two gunicorn servers
(`gunicorn -c gunicorn.conf.py`, two workers each), three `manage.py worker`,
`manage.py sync_events --watch 5` against the provider emulator while it
changes three events and adds one every 2 s, and the notifications emulator
answering 10% of requests with 500 (and every one after 100 ms). Virtual users
(threads with httpx) sign up, log in, browse, open events and register
(`tests/support/scale_out/load.py`). During the run one worker is SIGKILLed and
started again, one web server is restarted, and so is the sync. At the end the
run proves, from the database and the emulators' records, that every
registration got exactly one notification accepted, that the capacity-limited
event is not overbooked and no (event, e-mail) is registered twice, that no
request got a 5xx or no answer except from the restarting server, and that the
mirror equals the provider (`tests/support/scale_out/proofs.py`).

It prints throughput and p50/p99 per endpoint, the outbox lag (registration
created to notification accepted) and the proofs, writes the whole result as
JSON (`--json`) and draws a chart (`--chart`, with matplotlib from the `bench`
dependency group). Exit status 1 when a proof fails. The shortened version runs
in the suite: `tests/test_scale_out.py`. Results go to docs/benchmarks.md
(## Scale-out soak) by hand.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
from bench.scratch_database import POSTGRES_SERVER_URL, scratch_database_create, scratch_database_drop  # noqa: E402

DATABASE = "events_face_bench_scale_out"


def chart_draw(result: dict, path: Path) -> None:
    """Requests per second with the faults marked, and each registration's outbox lag."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    series = result["load"]["per_second"]
    seconds = list(range(len(series["requests"])))
    figure, (rates, lags) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, height_ratios=[3, 2])
    rates.plot(seconds, series["requests"], label="requests/s (all)", color="tab:blue")
    rates.plot(seconds, series["registrations"], label="registrations/s (201)", color="tab:green")
    rates.bar(seconds, series["failures"], label="5xx or no answer", color="tab:red", width=0.8)
    rates.bar(seconds, [count * 10 for count in series["sign_ups_and_logins"]], color="tab:orange", width=0.4,
              label="sign-ups and logins (password hashes) x10")  # fmt: skip
    for window in result["restart_windows"]:
        rates.axvspan(window["start"], window["end"], color="tab:red", alpha=0.08)
    for event in result["timeline"]:
        for axis in (rates, lags):
            axis.axvline(event["at"], color="grey", linestyle="--", linewidth=0.8)
        rates.annotate(event["fault"].replace("_", " "), (event["at"], rates.get_ylim()[1] * 0.97),
                       rotation=90, va="top", ha="right", fontsize=8, color="grey")  # fmt: skip
    rates.set_ylabel("per second")

    plan = result["plan"]
    rates.set_title(
        f"Scale-out soak: {plan['clients']} clients, {plan['web_servers']} web servers x 2 workers, "
        f"{plan['workers']} outbox workers, {result['cpus']} CPUs",
        fontsize=10,
    )
    points = result["outbox"]["lags"]
    lags.scatter([at for at, _ in points], [lag * 1000 for _, lag in points], s=6, color="tab:purple")
    lags.set_yscale("log")
    lags.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    lags.set_ylabel("outbox lag, ms (log)")
    lags.set_xlabel("seconds since the load started (x: when the registration was created)")
    figure.legend(*rates.get_legend_handles_labels(), loc="lower center", ncols=4, fontsize=8)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="virtual users (threads)")
    parser.add_argument("--think", type=float, default=0.0, help="seconds each user pauses after an action")
    parser.add_argument("--capacity", type=int, default=25, help="places of the capacity-limited event")
    parser.add_argument("--events", type=int, default=300, help="events the provider emulator starts with")
    parser.add_argument(
        "--web-reload",
        action="store_true",
        help="restart the web server with SIGHUP (a gunicorn reload) instead of SIGTERM and a new start",
    )
    parser.add_argument("--server-url", default=POSTGRES_SERVER_URL, help="PostgreSQL server (no database)")
    parser.add_argument("--database", default=DATABASE, help="scratch database name (dropped afterwards)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9", help="cache; FLUSHED at the start")
    parser.add_argument("--json", type=Path, default=PROJECT_DIR / "var" / "bench_scale_out.json")
    parser.add_argument("--chart", type=Path, default=None, help="draw the chart to this PNG")
    parser.add_argument(
        "--report", type=Path, default=None, help="print and draw an earlier run's JSON; run nothing"
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")
    if args.report:
        result = json.loads(args.report.read_text())
    else:
        result = run(args)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str))
        print(f"result: {args.json}")

    from tests.support.scale_out.report import report_text

    print(report_text(result))
    if args.chart:
        chart_draw(result, args.chart)
        print(f"chart: {args.chart}")
    return 0 if result["ok"] else 1


def run(args: argparse.Namespace) -> dict:
    os.environ["DATABASE_URL"] = scratch_database_create(args.database, server_url=args.server_url)
    os.chdir(PROJECT_DIR)
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    from tests.support.scale_out.soak import SoakPlan, soak_run

    try:
        call_command("migrate", verbosity=0)
        plan = SoakPlan(
            duration=args.duration, clients=args.clients, think_seconds=args.think, capacity=args.capacity,
            provider_events=args.events, cache_url=args.redis_url, flush_cache=True,
            web_restart_by_reload=args.web_reload,
        )  # fmt: skip
        log_dir = PROJECT_DIR / "var" / "scale_out" / time.strftime("%Y%m%d-%H%M%S")
        return soak_run(plan, log_dir=log_dir)
    finally:
        connection.close()
        scratch_database_drop(args.database, server_url=args.server_url)


if __name__ == "__main__":
    sys.exit(main())
