"""Benchmark: GET /api/events/ over HTTP, next to a bare Django view, at 10,000 and 1,000,000 events.

For each database and size, a scratch database is filled by
bench/event_list_data.py (the product's `migrate`, then `bulk_create`; no
ANALYZE or anything else the product does not do), and two gunicorn servers
start as `make serve` starts them (gunicorn.conf.py, WEB_CONCURRENCY=2, DEBUG
off; events_face/launcher.py): the product with its response cache on (the
defaults) and off (API_CACHE_SECONDS=0). A third, started the same way with
DJANGO_SETTINGS_MODULE=bench.floor_settings, serves the floor, /floor/
(bench/floor_urls.py): a bare Django view with MIDDLEWARE = [] answering the
exact bytes of the service's page 1.

wrk (`-t2 -c16 --latency`) drives each in interleaved rounds: a round measures
the floor, then every variant, so each figure has a floor from the same round.
Variants: page 1 and the page 70% into the default list, and a selective
`name=` search, each warm (cache on, primed) and cold (cache off); page 1 with
If-None-Match on the cache-on server (304). Each is checked once beforehand
(status, number of results), so a broken URL cannot pass for a fast one.

    .venv/bin/python bench/event_list_http.py        # the full run: both databases, 10,000 and 1,000,000 events
    .venv/bin/python bench/event_list_http.py --database sqlite --sizes 2000,20000 --duration 2 --rounds 1

Prints Markdown tables (req/s, p50/p99, share of the floor; cost growth from
the smallest to the largest size; the issue's targets per round), writes the
raw figures to var/bench_event_list_http.json and a chart to
docs/img/event_list_http.png. Servers are stopped and scratch PostgreSQL
databases dropped at the end, also on error or Ctrl-C (SQLite files stay in var/).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.event_list_report import chart_draw, report_markdown  # noqa: E402
from bench.scratch_database import scratch_database_create, scratch_database_drop, server_environment  # noqa: E402
from bench.wrk import wrk_ensure, wrk_run  # noqa: E402
from events_face.launcher import gunicorn_start  # noqa: E402

PAGE_SIZE = 10
DATABASE_PREFIX = "events_face_bench_http"
VAR_DIR = PROJECT_DIR / "var"
LOG_DIR = VAR_DIR / "bench_event_list_http"
RESULTS_PATH = VAR_DIR / "bench_event_list_http.json"
CHART_PATH = PROJECT_DIR / "docs" / "img" / "event_list_http.png"
# Fresh connections, so both gunicorn workers (each with its own local cache) are likely primed.
PRIMING_REQUESTS = 4


@dataclass
class Variant:
    key: str
    server: str  # "on" or "off": the server with the response cache on or off
    path: str
    headers: dict = field(default_factory=dict)
    status: int = 200
    results: int | None = None  # the expected length of "results" in a 200


FLOOR = Variant("floor", "floor", "/floor/")


@dataclass
class Dataset:
    database: str
    size: int
    database_url: str = ""
    data: dict = field(default_factory=dict)
    servers: dict = field(default_factory=dict)  # "on"/"off"/"floor" -> GunicornServer
    variants: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    floor_body: bytes = b""

    @property
    def name(self) -> str:
        return f"{DATABASE_PREFIX}_{self.size}"

    @property
    def floor_path(self) -> Path:
        return VAR_DIR / f"{self.name}_{self.database}_floor.json"

    def url(self, variant: Variant) -> str:
        return self.servers[variant.server].base_url + variant.path

    def log_path(self, server: str) -> Path:
        return LOG_DIR / f"{self.database}_{self.size}_cache_{server}.log"

    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.data['token']}"}


# --- data and checks ----------------------------------------------------------------------------
def dataset_prepare(dataset: Dataset, env: dict) -> None:
    print(f"{dataset.database}: filling {dataset.size:,} events", flush=True)
    done = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "bench" / "event_list_data.py"), "--events", str(dataset.size)],
        env=env,
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    dataset.data = json.loads(done.stdout.strip().splitlines()[-1])


def dataset_variants(dataset: Dataset, client) -> None:
    """Save the floor's bytes (the service's page 1), then keep each variant that answers as expected."""
    data = dataset.data
    page_1 = f"/api/events/?page_size={PAGE_SIZE}"
    first = client.get(dataset.servers["on"].base_url + page_1, headers=dataset.auth())
    if first.status_code != 200:
        failure = [line for line in dataset.log_path("on").read_text().splitlines() if "Error" in line][-1:]
        dataset.notes.append(f"page 1 answered {first.status_code}, nothing measured; server log: {failure}")
        return
    dataset.floor_body = first.content
    dataset.floor_path.write_bytes(first.content)
    etag, cache_control = first.headers.get("ETag"), first.headers.get("Cache-Control")
    dataset.notes.append(
        f"page 1: {len(first.content):,} bytes, ETag {etag!r}, Cache-Control {cache_control!r}"
    )

    deep = f"{page_1}&cursor={data['deep_cursor']}"
    search = f"{page_1}&name={quote(data['search'])}"
    deep_results = min(PAGE_SIZE, data["open_events"] - data["deep_index"])
    search_results = min(PAGE_SIZE, data["search_matches"])
    candidates = [
        Variant(key, server, path, results=results)
        for key, path, results in [
            ("page1", page_1, PAGE_SIZE),
            ("deep", deep, deep_results),
            ("search", search, search_results),
        ]
        for key, server in [(f"{key}_warm", "on"), (f"{key}_cold", "off")]
    ]
    if etag:
        candidates.append(Variant("not_modified", "on", page_1, {"If-None-Match": etag}, status=304))
    else:
        dataset.notes.append("no ETag on page 1: the conditional request (304) is not measured")
    for variant in candidates:
        problem = variant_problem(dataset, variant, client)
        if problem:
            dataset.notes.append(f"{variant.key} not measured: {variant.path} {problem}")
        else:
            dataset.variants.append(variant)


def floor_start(dataset: Dataset, base_env: dict, client) -> None:
    """The floor's server, once page 1's bytes are saved; checked to answer them."""
    dataset.servers["floor"] = gunicorn_start(
        {**base_env, "DJANGO_SETTINGS_MODULE": "bench.floor_settings", "BENCH_FLOOR_BODY": str(dataset.floor_path)},
        dataset.log_path("floor"), ready_path=FLOOR.path,
    )  # fmt: skip
    if problem := variant_problem(dataset, FLOOR, client):
        raise RuntimeError(f"the floor {FLOOR.path} {problem}")


def variant_problem(dataset: Dataset, variant: Variant, client) -> str | None:
    answer = client.get(dataset.url(variant), headers={**dataset.auth(), **variant.headers})
    if answer.status_code != variant.status:
        return f"answered {answer.status_code}, expected {variant.status}: {answer.text[:200]}"
    if variant.status != 200:
        return None
    if variant is FLOOR:
        return None if answer.content == dataset.floor_body else "answered other bytes than page 1"
    try:
        count = len(answer.json()["results"])
    except (ValueError, KeyError, TypeError):
        return f"answered no list of results: {answer.text[:200]}"
    return None if count == variant.results else f"answered {count} results, expected {variant.results}"


# --- measuring ----------------------------------------------------------------------------------
def progress_line(result: dict) -> str:
    latency = " ".join(f"{q} {result[f'{q}_ms'] or 0:.1f} ms" for q in ("p50", "p99"))
    errors = result["non_2xx_3xx"] + result["socket_errors"]
    return (
        f"round {result['round']} {result['database']:<10} {result['size']:>9,} {result['variant']:<13}"
        f"{result['rps']:>9,.0f} req/s  {latency}  {result['of_floor']:.0%} of floor"
        + (f"  ({errors} errors!)" if errors else "")
    )


def measure(dataset: Dataset, variant: Variant, args, round_no: int, client) -> dict:
    if variant.key.endswith("_warm"):
        for _ in range(PRIMING_REQUESTS):
            client.get(dataset.url(variant), headers=dataset.auth())
    result = wrk_run(
        dataset.url(variant),
        headers={**dataset.auth(), **variant.headers},
        duration=args.duration,
        connections=args.connections,
    )
    result.update(round=round_no, database=dataset.database, size=dataset.size, variant=variant.key)
    return result


def autoanalyze_note(dataset: Dataset) -> str:
    """Whether PostgreSQL's autovacuum (not the benchmark) gathered statistics on the events during the run."""
    import psycopg

    with psycopg.connect(dataset.database_url) as connection:
        analyzed = connection.execute(
            "SELECT last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'events_event'"
        ).fetchone()
    moment = analyzed[0].isoformat(timespec="seconds") if analyzed and analyzed[0] else None
    return f"autovacuum analyzed events_event at {moment}" if moment else "events_event was never analyzed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated numbers of events")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    databases = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    sizes = sorted(int(size) for size in args.sizes.split(","))

    import httpx

    wrk_ensure()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    base_env = server_environment()
    # So `finally` cleans up on SIGTERM and on Ctrl-C, even if the caller started us with SIGINT ignored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    datasets = [Dataset(database, size) for database in databases for size in sizes]
    created, measurements = [], []
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        for dataset in datasets:
            dataset.database_url = scratch_database_create(dataset.name, vendor=dataset.database)
            created.append(dataset)
            env = {**base_env, "DATABASE_URL": dataset.database_url}
            dataset_prepare(dataset, env)
            for server, extra in [("on", {}), ("off", {"API_CACHE_SECONDS": "0"})]:
                dataset.servers[server] = gunicorn_start({**env, **extra}, dataset.log_path(server))
        with httpx.Client(timeout=60) as client:
            for dataset in datasets:
                dataset_variants(dataset, client)
                if dataset.floor_body:
                    floor_start(dataset, base_env, client)
                for note in dataset.notes:
                    print(f"  {dataset.database} {dataset.size:,}: {note}", flush=True)
            for round_no in range(1, args.rounds + 1):
                for dataset in (d for d in datasets if d.floor_body):
                    floor = None
                    for variant in [FLOOR, *dataset.variants]:
                        result = measure(dataset, variant, args, round_no, client)
                        floor = floor or result
                        result.update(floor_rps=floor["rps"], of_floor=result["rps"] / (floor["rps"] or 1))
                        measurements.append(result)
                        print(progress_line(result), flush=True)
            for dataset in (d for d in datasets if d.database == "postgresql"):
                dataset.notes.append(autoanalyze_note(dataset))
    finally:
        for dataset in datasets:
            for server in dataset.servers.values():
                server.stop()
        for dataset in created:
            if dataset.database == "postgresql":
                scratch_database_drop(dataset.name, vendor="postgresql")

    results = {
        "arguments": vars(args),
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "page_size": PAGE_SIZE,
        "datasets": [
            {
                "database": d.database,
                "size": d.size,
                "notes": d.notes,
                "data": {k: v for k, v in d.data.items() if k != "token"},
                "variants": {v.key: v.path for v in d.variants},
            }
            for d in datasets
        ],
        "measurements": measurements,
    }
    RESULTS_PATH.write_text(json.dumps(results, indent=2))
    print("\n" + report_markdown(results))
    CHART_PATH.parent.mkdir(parents=True, exist_ok=True)
    chart_draw(results, CHART_PATH)
    print(
        f"Raw results: {RESULTS_PATH.relative_to(PROJECT_DIR)}; chart: {CHART_PATH.relative_to(PROJECT_DIR)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
