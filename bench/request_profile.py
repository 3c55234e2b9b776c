"""In-process profile: where one API request's time goes, handler to response.

The WSGI application is called directly (no server, no sockets), so what is
timed is Django's handler, the middleware chain, the dispatch and the view:
the framework's share that bench/event_list_http.py sees from outside. For each
case it prints microseconds per request and the share of time spent under each
layer (cumulative, from cProfile), e.g. the middleware classes, DRF's dispatch,
the view's own work.

    .venv/bin/python bench/request_profile.py                     # SQLite, 10,000 events
    DATABASE_URL=postgres://... .venv/bin/python bench/request_profile.py --events 10000

The data is made by bench/event_list_data.py in a scratch database (migrate +
bulk_create), as for the HTTP benchmark. Cases: page 1 warm (cache on), page 1
cold (API_CACHE_SECONDS=0, one process per setting), and a registration (each
request a new e-mail, into one event with room).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.scratch_database import bench_environment, scratch_database_create, scratch_database_drop  # noqa: E402

DATABASE_NAME = "events_face_bench_profile"


def environ_make(method: str, path: str, query: str, token: str, body: bytes = b"") -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": "application/json" if body else "",
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def request_run(application, environ_for) -> int:
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(int(status.split()[0]))

    response = application(environ_for(), start_response)
    for _chunk in response:
        pass
    response.close()
    return statuses[0]


def package_of(filename: str) -> str:
    """Whose code a profiled function is: the product's, a library's, or the interpreter's."""
    if "/site-packages/" in filename:
        return filename.split("/site-packages/")[1].split("/")[0].removesuffix(".py")
    if "/events_face/" in filename:
        return "events_face." + filename.split("/events_face/")[1].split("/")[0].removesuffix(".py")
    return "python (standard library, builtins)"


def layers_report(profile: cProfile.Profile, requests: int, top: int) -> dict:
    """Own time by package (sums to the whole), and the heaviest functions by cumulative time."""
    stats = pstats.Stats(profile)
    by_package: dict[str, float] = {}
    for (filename, _line, _name), values in stats.stats.items():
        by_package[package_of(filename)] = by_package.get(package_of(filename), 0.0) + values[2]
    order = 2 if os.environ.get("BENCH_PROFILE_ORDER") == "own" else 3
    heaviest = sorted(stats.stats.items(), key=lambda item: item[1][order], reverse=True)[:top]
    return {
        "own_by_package": sorted(
            ((name, seconds / requests * 1e6) for name, seconds in by_package.items()),
            key=lambda pair: pair[1],
            reverse=True,
        ),
        "cumulative": [
            (
                f"{Path(filename).parent.name}/{Path(filename).name}:{line} {name}",
                values[order] / requests * 1e6,
            )
            for (filename, line, name), values in heaviest
        ],
    }


def case_measure(name: str, environ_for, expected: int, requests: int, top: int) -> dict:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    for _ in range(200):  # warm: imports, connections, caches
        status = request_run(application, environ_for)
        if status != expected:
            raise SystemExit(f"{name}: answered {status}, expected {expected}")
    # CPU time, not wall time: the machine is shared, and another process's turn on the
    # CPU is not this request's cost. (The database's own work is in this process too:
    # SQLite is a library; with PostgreSQL the server's share is not counted.)
    began = time.process_time()
    for _ in range(requests):
        request_run(application, environ_for)
    plain = (time.process_time() - began) / requests * 1e6
    # Counted, not timed, so they hold on a noisy machine: what the database is sent (each
    # execute is one round trip with PostgreSQL, several statements in one included, and so
    # is each COMMIT) and the Python function calls a request makes.
    sent = database_calls_count(lambda: [request_run(application, environ_for) for _ in range(100)])
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for _ in range(requests):
        request_run(application, environ_for)
    profile.disable()
    return {
        "case": name,
        "us_per_request": plain,
        "executes_per_request": sent["executes"] / 100,
        "commits_per_request": sent["commits"] / 100,
        "calls_per_request": pstats.Stats(profile).total_calls / requests,
        **layers_report(profile, requests, top),
    }


def database_calls_count(run) -> dict[str, int]:
    """The executes and commits `run` sends on the default connection."""
    from django.db import connection

    counts = {"executes": 0, "commits": 0}

    def counted(execute, sql, params, many, context):
        counts["executes"] += 1
        return execute(sql, params, many, context)

    commit = connection._commit

    def counted_commit():
        counts["commits"] += 1
        return commit()

    connection._commit = counted_commit
    try:
        with connection.execute_wrapper(counted):
            run()
    finally:
        del connection._commit
    return counts


def child(case: str, requests: int, top: int, token: str, event_id: str) -> None:
    import django

    django.setup()
    if case in ("list_warm", "list_cold"):
        result = case_measure(
            case,
            lambda: environ_make("GET", "/api/events/", "page_size=10", token),
            200,
            requests,
            top,
        )
    else:
        counter = iter(range(10**9))

        def registration():
            body = json.dumps({"full_name": "Bench Person", "email": f"p{next(counter)}@example.com"})
            return environ_make("POST", f"/api/events/{event_id}/register/", "", token, body.encode())

        result = case_measure(case, registration, 201, requests, top)
    print(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--top", type=int, default=25, help="functions listed by cumulative time")
    parser.add_argument("--cases", default="list_warm,list_cold,registration")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--event-id", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests, args.top, args.token, args.event_id)
        return 0
    url = scratch_database_create(DATABASE_NAME, vendor=args.database)
    env = bench_environment(
        url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        # The registrations are one user's: no per-user or per-address limit in the way.
        REGISTRATION_THROTTLE_RATE="1000000/second",
        REGISTRATION_ADDRESS_RATE="1000000/second",
        JWT_ACCESS_TOKEN_LIFETIME_MINUTES="600",
    )
    try:
        loaded = subprocess.run(
            [sys.executable, str(PROJECT_DIR / "bench" / "event_list_data.py"), "--events", str(args.events)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        data = json.loads(loaded.stdout.strip().splitlines()[-1])
        event_id = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup();"
                "from events_face.events.models import Event;"
                "e = Event.objects.filter(name__isnull=False).order_by('event_time').last();"
                "Event.objects.filter(pk=e.pk).update(capacity=None, registration_deadline=None);"
                "print(e.pk)",
            ],
            env={**env, "PYTHONPATH": str(PROJECT_DIR)},
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for case in args.cases.split(","):
            extra = {"API_CACHE_SECONDS": "0"} if case == "list_cold" else {}
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    case,
                    "--requests",
                    str(args.requests),
                    "--top",
                    str(args.top),
                    "--token",
                    data["token"],
                    "--event-id",
                    event_id,
                ],
                env={**env, **extra},
                capture_output=True,
                text=True,
            )
            if out.returncode:
                sys.exit(f"{case} failed:\n{out.stderr}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"\n### {args.database}, {case}: {result['us_per_request']:.0f} µs a request (CPU, unprofiled)\n"
                f"\n{result['executes_per_request']:g} executes and {result['commits_per_request']:g} commits "
                f"a request; {result['calls_per_request']:,.0f} Python function calls a request (profiled)\n"
            )
            print("| own time, by package (profiled) | µs a request |\n|---|---:|")
            for label, micros in result["own_by_package"]:
                print(f"| {label} | {micros:.0f} |")
            print("\n| heaviest functions, cumulative (profiled) | µs a request |\n|---|---:|")
            for label, micros in result["cumulative"]:
                print(f"| `{label}` | {micros:.0f} |")
    finally:
        scratch_database_drop(DATABASE_NAME, vendor=args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
