"""Benchmark: does a deep page of GET /api/events/ cost what page 1 costs?

Fills a scratch database with N events, then times, through the real API
view (JWT auth, serializer, keyset paginator), page 1 and the page that
starts at row DEPTH. As the baseline, measured in the same run on the same
data: the OFFSET/LIMIT pagination most list endpoints use (DRF's
PageNumberPagination / LimitOffsetPagination), at the same two depths.

    .venv/bin/python bench/event_list_pages.py                  # PostgreSQL
    .venv/bin/python bench/event_list_pages.py --database sqlite

Prints a Markdown table; the figures in docs/benchmarks.md come from it.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.scratch_database import scratch_database_create, scratch_database_drop  # noqa: E402

PG_NAME = "events_face_bench_list"


def configure(database: str) -> None:
    os.environ["DATABASE_URL"] = scratch_database_create(PG_NAME, vendor=database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(count: int) -> None:
    from django.db import connection

    from events_face.events.models import Event, Venue

    venues = Venue.objects.bulk_create(
        [Venue(id=uuid.uuid4(), name=f"Hall {i}") for i in range(50)]
    )
    start = datetime.now(UTC) + timedelta(days=1)
    batch = []
    for i in range(count):
        batch.append(
            Event(
                id=uuid.uuid4(),
                name=f"Event {i}",
                # Many ties on purpose: 4 events share each start time.
                event_time=start + timedelta(minutes=15 * (i // 4)),
                status="published" if i % 5 else "new",
                venue=venues[i % len(venues)] if i % 7 else None,
                provider_changed_at=start,
            )
        )
        if len(batch) == 5000:
            Event.objects.bulk_create(batch)
            batch = []
    Event.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(call, repeat: int) -> float:
    """Median milliseconds of `repeat` calls, after one warm-up."""
    call()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    configure(args.database)
    fill(args.events)

    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from events_face.events.pagination import encode_cursor
    from events_face.events.selectors import event_list
    from events_face.events.serializers import EventSerializer

    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    size = args.page_size
    before_deep = event_list()[args.depth - 1 : args.depth].get()
    deep_url = f"/api/events/?page_size={size}&cursor={encode_cursor(before_deep)}"

    def keyset(url: str):
        def call():
            response = client.get(url)
            assert response.status_code == 200 and len(response.json()["results"]) == size
        return call

    def offset(start: int):
        # What OFFSET pagination does: the same query, the same serializer.
        def call():
            rows = list(event_list()[start : start + size])
            assert len(EventSerializer(rows, many=True).data) == size
            event_list().count()  # page-number pagination also counts
        return call

    keyset_first = timed(keyset(f"/api/events/?page_size={size}"), args.repeat)
    keyset_deep = timed(keyset(deep_url), args.repeat)
    offset_first = timed(offset(0), args.repeat)
    offset_deep = timed(offset(args.depth), args.repeat)

    print(f"\n{args.database}, {args.events:,} events, page size {size}, depth {args.depth:,}, median of {args.repeat}\n")
    print(f"| pagination | page 1 (ms) | page at row {args.depth:,} (ms) | deep / first |")
    print("|---|---|---|---|")
    print(f"| keyset (this API, full request) | {keyset_first:.1f} | {keyset_deep:.1f} | {keyset_deep / keyset_first:.2f}x |")
    print(f"| OFFSET + COUNT (baseline, query + serializer only) | {offset_first:.1f} | {offset_deep:.1f} | {offset_deep / offset_first:.2f}x |")
    print(f"\nAt row {args.depth:,} the keyset page is {offset_deep / keyset_deep:.1f}x faster than OFFSET.")
    from django.db import connections

    connections.close_all()
    scratch_database_drop(PG_NAME, vendor=args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
