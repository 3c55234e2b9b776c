"""Benchmark: the registration lifecycle's writes over HTTP, each next to a bare-INSERT floor.

On one hot event each, under concurrent clients, with gunicorn as `make serve`
runs it (gunicorn.conf.py, WEB_CONCURRENCY=2, DEBUG off; events_face/launcher.py),
on SQLite and PostgreSQL:

- confirmed registrations per second: `POST /api/events/{id}/register/` by
  signed-in users (JWT; `--clients` of them, taken in turn), on an event with
  seats for all;
- waiting-list joins per second: the same with `"waitlist": true`, on an event
  whose seats are all taken;
- cancellations that promote per second: `POST /api/registrations/cancel/<token>/`,
  the signed link each notification carries, no account, of confirmed
  registrations on a full event with a long waiting list: each one gives its
  seat to the first waiting. The link is the cheaper of the two real ways: the
  owner's `POST /api/registrations/{id}/cancel/` does the same and also reads
  the user's row and checks ownership (one query more; the link's HMAC costs
  microseconds).

The floor, measured in the same round, is a bare Django view with
`MIDDLEWARE = []` and no apps (`/floor/register/<event>/`, bench/floor_urls.py,
settings bench/floor_write_settings.py), served by the launcher the same way: it
reads the same JSON body and commits one INSERT of a registration-sized row
(every column of the product's registration, same types and widths), in
autocommit, into a table with only a primary key, and answers 201 with the
product's keys. Rounds interleave: floor, register, waitlist, cancel; each
figure is also given as a share of its round's floor. A warm-up round of
WARMUP_SECONDS per variant, on events of its own, goes first and is not reported.
Each round has new hot events, so no round starts with another's rows.

Every data set is made by bench/lifecycle_data.py: the product's `migrate`, then
`bulk_create` of rows the product writes itself (users, events, registrations,
the waiting list), nothing else. wrk drives every measurement (`-t2`, `--clients`
connections) with the same Lua script (bench/lifecycle.lua), which sends each
request a new e-mail address or a new cancel link and reads every answer: a write
counts only if its status is the expected one and its body says `confirmed`,
`waitlisted` or `cancelled`. Afterwards the databases are counted: the rows each
variant made match the writes counted (up to the requests still in flight when
wrk stopped), every cancellation promoted one person (none was cancelled while
still waiting), the seats taken equal the capacity, and the outbox holds one
message per change.

Rate limits: the servers keep the product's defaults except
REGISTRATION_THROTTLE_RATE and AUTH_THROTTLE_RATE (the cancel link's, per client
address), raised to BENCH_THROTTLE_RATE: one machine sending hundreds of writes
a second is the load being measured, not an abuse to refuse. The throttles still
run and count every request; with a one-second window their histories stay short.

    .venv/bin/python bench/lifecycle_http.py                   # both databases, 2 rounds of 10 s per figure
    .venv/bin/python bench/lifecycle_http.py --quick --database sqlite     # smoke test: 1 round of 2 s

Prints a Markdown table (written per second in each round, share of that round's
floor, and any other answers, never hidden) and the database checks; writes the
raw figures to var/bench_lifecycle_http.json. Servers are stopped and the scratch
PostgreSQL database dropped at the end, also on error or Ctrl-C (the SQLite file
stays in var/).
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.scratch_database import scratch_database_create, scratch_database_drop, server_environment  # noqa: E402
from bench.wrk import wrk_ensure, wrk_run  # noqa: E402
from events_face.launcher import gunicorn_start  # noqa: E402

DATABASE_NAME = "events_face_bench_lifecycle"
VAR_DIR = PROJECT_DIR / "var"
WORK_DIR = VAR_DIR / "bench_lifecycle_http"
RESULTS_PATH = VAR_DIR / "bench_lifecycle_http.json"
LUA_SCRIPT = PROJECT_DIR / "bench" / "lifecycle.lua"
WRK_THREADS = 2
# Before round 1, each variant runs this long on events of its own (round 0), unreported:
# new workers import and prepare what their first requests need.
WARMUP_SECONDS = 2
# Cancellations prepared per second of a run: above any rate this machine reaches
# (the floor's is below 2,500). A thread that runs out posts a link that answers 404,
# which the table shows.
PREPARED_CANCELS_PER_SECOND = 1_000
BENCH_THROTTLE_RATE = "1000000/s"
DATABASE_TITLES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


@dataclass(frozen=True)
class Variant:
    key: str
    title: str
    server: str  # "product" or "floor"
    kind: str  # lifecycle.lua's KIND: "register" or "cancel"
    status: int  # the answer that proves the write ...
    word: str  # ... and the registration status its body states
    waitlist: bool = False


VARIANTS = [
    Variant("floor", "floor: bare view, one INSERT (req/s)", "floor", "register", 201, "confirmed"),
    Variant("register", "confirmed registrations", "product", "register", 201, "confirmed"),
    Variant("waitlist", "waitlist joins", "product", "register", 201, "waitlisted", waitlist=True),
    Variant("cancel", "cancellations that promote", "product", "cancel", 200, "cancelled"),
]


@dataclass
class Dataset:
    database: str
    folder: Path = field(init=False)
    database_url: str = ""
    plan: dict = field(default_factory=dict)
    servers: dict = field(default_factory=dict)  # "product" / "floor" -> GunicornServer

    def __post_init__(self):
        self.folder = WORK_DIR / self.database

    def url(self, variant: Variant, round_no: int) -> str:
        event_id = self.plan["rounds"][round_no][variant.key]
        path = {
            "floor": f"/floor/register/{event_id}/",
            "register": f"/api/events/{event_id}/register/",
            "waitlist": f"/api/events/{event_id}/register/",
            "cancel": "/",  # the paths are the cancel links
        }[variant.key]
        return self.servers[variant.server].base_url + path


def data_run(env: dict, *arguments: str) -> dict:
    """bench/lifecycle_data.py with `arguments`; the JSON line it prints last."""
    done = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "bench" / "lifecycle_data.py"), *arguments],
        env=env,
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def servers_start(dataset: Dataset, env: dict) -> None:
    """The product, and the floor on the same database (ready when `/floor/` answers its file)."""
    for log in ("product.log", "floor.log"):
        (dataset.folder / log).unlink(missing_ok=True)  # gunicorn_start appends: one run's lines only
    dataset.servers["product"] = gunicorn_start(env, dataset.folder / "product.log")
    ready_body = dataset.folder / "floor_ready.json"
    ready_body.write_text("{}")
    dataset.servers["floor"] = gunicorn_start(
        {**env, "DJANGO_SETTINGS_MODULE": "bench.floor_write_settings", "BENCH_FLOOR_BODY": str(ready_body)},
        dataset.folder / "floor.log",
        ready_path="/floor/",
    )


def script_totals(lines: list[str]) -> dict:
    """lifecycle.lua's per-thread lines added up."""
    totals = {"written": 0, "other": 0, "exhausted": 0, "statuses": {}, "seconds": 0.0}
    for line in lines:
        if not line.startswith("lifecycle "):
            continue
        values = dict(part.split("=", 1) for part in line.split()[1:])
        for name in ("written", "other", "exhausted"):
            totals[name] += int(values[name])
        for pair in filter(None, values["statuses"].split(",")):
            status, count = pair.split(":")
            totals["statuses"][status] = totals["statuses"].get(status, 0) + int(count)
        totals["seconds"] = float(values["seconds"])
    return totals


def client_cpu_seconds() -> float:
    """CPU time of this process's finished children: wrk's, read around each run."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(dataset: Dataset, variant: Variant, round_no: int, args) -> dict:
    plan = dataset.plan
    links = plan["rounds"][round_no]["links"] if variant.kind == "cancel" else "-"
    tokens = plan["tokens"] if variant.kind == "register" else "-"
    cpu_before = client_cpu_seconds()
    result = wrk_run(
        dataset.url(variant, round_no),
        headers={},
        duration=args.duration if round_no else WARMUP_SECONDS,
        connections=args.clients,
        threads=WRK_THREADS,
        script=LUA_SCRIPT,
        script_args=(
            variant.kind,
            str(variant.status),
            variant.word,
            tokens,
            f"{dataset.database}-{round_no}-{variant.key}",
            "true" if variant.waitlist else "false",
            links,
            str(WRK_THREADS),
        ),
    )
    client_cpu = client_cpu_seconds() - cpu_before
    totals = script_totals(result.pop("script_output"))
    if not totals["seconds"]:
        raise RuntimeError(f"{variant.key}: lifecycle.lua printed no totals")
    result.update(totals)
    result.update(
        round=round_no,
        database=dataset.database,
        variant=variant.key,
        written_per_second=totals["written"] / totals["seconds"],
        client_cpu_share=client_cpu / totals["seconds"],  # of one core
    )
    return result


def progress_line(result: dict) -> str:
    others = ", ".join(f"{status} x{count}" for status, count in sorted(result["statuses"].items()))
    round_name = f"round {result['round']}" if result["round"] else "warm-up"
    return (
        f"{round_name:<8} {result['database']:<10} {result['variant']:<9}"
        f"{result['written_per_second']:>8,.0f}/s  p50 {result['p50_ms'] or 0:.1f} ms"
        f"  p99 {result['p99_ms'] or 0:.1f} ms  {result['of_floor']:.0%} of floor  answers: {others}"
        + (f"  ({result['other']} not written!)" if result["other"] else "")
    )


def autoanalyze_note(database_url: str) -> str:
    """Whether PostgreSQL's autovacuum (not the benchmark) analysed the registrations during the run."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        analyzed = connection.execute(
            "SELECT last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'events_registration'"
        ).fetchone()
        autovacuum = connection.execute("SELECT current_setting('autovacuum')").fetchone()[0]
    moment = analyzed[0].isoformat(timespec="seconds") if analyzed and analyzed[0] else None
    return f"PostgreSQL (autovacuum {autovacuum}): " + (
        f"autovacuum analysed events_registration at {moment}."
        if moment
        else "events_registration was never analysed."
    )


def checks_problems(dataset: Dataset, counts: dict, measurements: list[dict], clients: int) -> list[str]:
    """What the database says against what the clients were told; [] when every write is accounted for."""
    problems = []
    capacities = dataset.plan["capacities"]

    def expect(what: str, value: int, low: int, high: int | None = None) -> None:
        high = low if high is None else high
        if not low <= value <= high:
            span = f"{low:,}" if low == high else f"{low:,} to {high:,}"
            problems.append(f"{dataset.database}: {what} is {value:,}, expected {span}")

    for result in (m for m in measurements if m["database"] == dataset.database):
        held = counts["rounds"][result["round"]][result["variant"]]
        written = result["written"]
        # Requests in flight when wrk stopped may have committed, unanswered: up to one per client.
        label = f"round {result['round']} {result['variant']}"
        if result["variant"] == "floor":
            expect(f"{label}: floor rows", held["rows"], written, written + clients)
        elif result["variant"] == "register":
            expect(f"{label}: confirmed", held["confirmed"], written, written + clients)
            expect(f"{label}: waitlisted", held["waitlisted"], 0)
        elif result["variant"] == "waitlist":
            expect(f"{label}: confirmed", held["confirmed"], capacities["waitlist"])
            expect(f"{label}: waitlisted", held["waitlisted"], written, written + clients)
        else:
            expect(f"{label}: cancelled", held["cancelled"], written, written + clients)
            expect(f"{label}: promoted", held["promoted"], held["cancelled"])
            expect(f"{label}: cancelled while waiting", held["cancelled_while_waiting"], 0)
            expect(f"{label}: confirmed", held["confirmed"], capacities["cancel"])
    rounds = counts["rounds"]
    outbox = counts["outbox"]
    for topic, variant, status in [
        ("registration.created", "register", "confirmed"),
        ("registration.waitlisted", "waitlist", "waitlisted"),
        ("registration.cancelled", "cancel", "cancelled"),
        ("registration.promoted", "cancel", "promoted"),
    ]:
        made = sum(held[variant][status] for held in rounds)
        expect(f"outbox messages {topic}", outbox.get(topic, 0), made)
    return problems


def report_markdown(results: dict) -> str:
    """Written per second for each database and round, with its share of the round's floor."""
    columns = [(d, r) for d in results["databases"] for r in range(1, results["arguments"]["rounds"] + 1)]
    by_key = {(m["database"], m["round"], m["variant"]): m for m in results["measurements"]}
    head = " | ".join(f"{DATABASE_TITLES[d]} round {r}" for d, r in columns)
    lines = [
        f"| per second, share of the round's floor | {head} |",
        "|---|" + "---:|" * len(columns),
    ]
    for variant in VARIANTS:
        cells = []
        for database, round_no in columns:
            result = by_key.get((database, round_no, variant.key))
            if result is None:
                cells.append("")
                continue
            cell = f"{result['written_per_second']:,.0f}"
            if variant.key != "floor":
                cell += f" ({result['of_floor']:.0%})"
            if result["other"]:
                others = ", ".join(
                    f"{count:,} x {status}"
                    for status, count in sorted(result["statuses"].items())
                    if status != str(variant.status)
                )
                cell += f", **{result['other']:,} not written** ({others or 'wrong body'})"
            if result["socket_errors"]:
                cell += f", **{result['socket_errors']:,} socket errors**"
            cells.append(cell)
        lines.append(f"| {variant.title} | {' | '.join(cells)} |")
    latency = []
    for database, round_no in columns:
        parts = [
            f"{v.key} {by_key[(database, round_no, v.key)]['p50_ms']:.1f} / "
            f"{by_key[(database, round_no, v.key)]['p99_ms']:.1f}"
            for v in VARIANTS
            if (database, round_no, v.key) in by_key
        ]
        latency.append(f"{DATABASE_TITLES[database]} round {round_no}: " + ", ".join(parts))
    lines.append("")
    lines.append("p50 / p99 ms: " + "; ".join(latency) + ".")
    lines.append("")
    problems = results["problems"]
    lines.append(
        "Database checks: " + ("every write accounted for." if not problems else "; ".join(problems) + ".")
    )
    client = max(m["client_cpu_share"] for m in results["measurements"] if m["round"])
    load = "/".join(f"{value:.1f}" for value in results["load_average_before"])
    lines.append(f"wrk's own CPU: at most {client:.0%} of one core. Load average before the run: {load}.")
    lines += results["notes"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 round of 2 s per figure")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds = 2, 1
    if args.clients < WRK_THREADS:
        parser.error(f"--clients must be at least {WRK_THREADS}")
    databases = ["postgresql", "sqlite"] if args.database == "both" else [args.database]

    wrk_ensure()
    base_env = server_environment(
        PUBLIC_BASE_URL="http://127.0.0.1:8000",  # only the cancel links' paths are used
        REGISTRATION_THROTTLE_RATE=BENCH_THROTTLE_RATE,
        AUTH_THROTTLE_RATE=BENCH_THROTTLE_RATE,
    )
    # So `finally` cleans up on SIGTERM and on Ctrl-C, even if the caller started us with SIGINT ignored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    datasets = [Dataset(database) for database in databases]
    created, measurements, problems, counts, notes = [], [], [], {}, []
    load_before = os.getloadavg()
    cancels = args.duration * PREPARED_CANCELS_PER_SECOND + args.clients
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        for dataset in datasets:
            dataset.folder.mkdir(parents=True, exist_ok=True)
            dataset.database_url = scratch_database_create(DATABASE_NAME, vendor=dataset.database)
            created.append(dataset)
            env = {**base_env, "DATABASE_URL": dataset.database_url}
            print(f"{dataset.database}: preparing {args.rounds} round(s) of hot events", flush=True)
            dataset.plan = data_run(
                env, "prepare", "--folder", str(dataset.folder), "--rounds", str(args.rounds),
                "--clients", str(args.clients), "--cancels", str(cancels),
            )  # fmt: skip
            servers_start(dataset, env)
        for round_no in range(args.rounds + 1):  # 0: the warm-up
            for dataset in datasets:
                floor = None
                for variant in VARIANTS:
                    result = measure(dataset, variant, round_no, args)
                    floor = floor or result
                    result.update(
                        floor_per_second=floor["written_per_second"],
                        of_floor=result["written_per_second"] / (floor["written_per_second"] or 1),
                    )
                    measurements.append(result)
                    print(progress_line(result), flush=True)
        for dataset in datasets:
            env = {**base_env, "DATABASE_URL": dataset.database_url}
            counts[dataset.database] = data_run(env, "check", "--folder", str(dataset.folder))
            problems += checks_problems(dataset, counts[dataset.database], measurements, args.clients)
            problems += [
                f"{m['database']} round {m['round']} {m['variant']}: {m['exhausted']:,} requests found "
                "no prepared cancel link left (raise PREPARED_CANCELS_PER_SECOND)"
                for m in measurements
                if m["database"] == dataset.database and m["exhausted"]
            ]
            if dataset.database == "postgresql":
                notes.append(autoanalyze_note(dataset.database_url))
    finally:
        for dataset in datasets:
            for server in dataset.servers.values():
                server.stop()
        for dataset in created:
            if dataset.database == "postgresql":
                scratch_database_drop(DATABASE_NAME, vendor="postgresql")

    results = {
        "arguments": vars(args),
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "databases": databases,
        "capacities": datasets[0].plan["capacities"],
        "cancels_prepared_per_round": cancels,
        "measurements": measurements,
        "database_counts": counts,
        "problems": problems,
        "notes": notes,
    }
    RESULTS_PATH.write_text(json.dumps(results, indent=2))
    print("\n" + report_markdown(results))
    print(f"Raw results: {RESULTS_PATH.relative_to(PROJECT_DIR)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
