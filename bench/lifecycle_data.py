"""The lifecycle benchmark's data: hot events made ready before a run, and counted after it.

Run by bench/lifecycle_http.py in a subprocess, with DATABASE_URL, SECRET_KEY,
PUBLIC_BASE_URL and JWT_ACCESS_TOKEN_LIFETIME_MINUTES set to what its servers use
(the cancel links and tokens made here must verify there):

    .venv/bin/python bench/lifecycle_data.py prepare --folder var/bench_lifecycle_http/sqlite --rounds 2 --clients 16 --cancels 10016
    .venv/bin/python bench/lifecycle_data.py check --folder var/bench_lifecycle_http/sqlite

`prepare` runs the product's `migrate`, then writes with `bulk_create` only rows the
product itself writes (users, events as the sync mirrors them, registrations as
`registration_create` and `waitlist_promote` leave them), and nothing else: no
ANALYZE, no index. The prepared registrations have no outbox messages (theirs
would have been sent long ago). For each round it makes one hot event per variant:

- register: capacity REGISTER_CAPACITY, empty: every registration is confirmed
  (a capacity is set, so each one counts the seats taken, as on a real hot event);
- waitlist: WAITLIST_CAPACITY seats, all confirmed: every registration with
  `"waitlist": true` joins the waiting list;
- cancel: CANCEL_CAPACITY seats, all confirmed, and `--cancels` people waiting.
  Its cancel links go to a file, in the order they can be used: the confirmed
  first, then the waiting in their order of promotion. Each cancellation of a
  confirmed registration promotes the first waiting, so the n-th link past the
  confirmed ones names someone the n-th cancellation promoted, long before it is
  sent (CANCEL_CAPACITY requests earlier). `--cancels` links in all: each of them
  promotes someone;
- floor: only an id, for the floor's rows (`bench_floor_registration`, made
  here with the registration table's columns and primary key; bench/floor_urls.py).

Round 0 is the warm-up's: its figures are not reported, its rows are checked.
It also makes `--clients` users, writes their access tokens to a file, and writes
the plan (every id and file) to `plan.json` in `--folder`, also printed as one
JSON line. `check` prints one JSON line: per round and variant what the database
holds (registrations by status; for cancel, the promoted and any cancelled while
still waiting; for the floor, its rows), and the outbox messages per topic.
"""

import argparse
import json
import os
import random
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))  # run as a script: events_face must be importable

from bench.floor_urls import FLOOR_COLUMNS, FLOOR_TABLE  # noqa: E402

REGISTER_CAPACITY = 1_000_000  # seats: never full during a run
WAITLIST_CAPACITY = 100
CANCEL_CAPACITY = 1_000  # well above the requests in flight (--clients), see the docstring
SEAT_PREFIX = "seat"  # e-mail addresses of the prepared confirmed registrations
WAITING_PREFIX = "waiting"  # ... and of the prepared waiting ones
BATCH = 2000  # rows per INSERT; within SQLite's parameter limit
VARIANTS = ("floor", "register", "waitlist", "cancel")


def floor_table_create() -> None:
    """`bench_floor_registration`: the registration table's columns (names, types, widths,
    NULL or NOT NULL) and its primary key, read from the model; no other index, constraint
    or foreign key. Refuses if bench/floor_urls.py's FLOOR_COLUMNS no longer names them all."""
    from django.db import connection

    from events_face.events.models import Registration

    fields = Registration._meta.concrete_fields
    columns = tuple(field.column for field in fields)
    if columns != FLOOR_COLUMNS:
        raise SystemExit(f"bench/floor_urls.py FLOOR_COLUMNS is out of date: the model has {columns}")
    quote = connection.ops.quote_name
    definitions = ", ".join(
        f"{quote(field.column)} {field.db_type(connection)}"
        + (" PRIMARY KEY" if field.primary_key else "")
        + ("" if field.null else " NOT NULL")
        for field in fields
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quote(FLOOR_TABLE)}")
        cursor.execute(f"CREATE TABLE {quote(FLOOR_TABLE)} ({definitions})")


def users_create(count: int, folder: Path) -> tuple[list, Path]:
    """`count` users (no password: nothing logs in) and a file of their access tokens."""
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    users = [get_user_model().objects.create_user(f"bench{n}", password=None) for n in range(count)]
    tokens = folder / "tokens.txt"
    tokens.write_text("".join(f"{AccessToken.for_user(user)}\n" for user in users))
    return users, tokens


def event_create(*, name: str, capacity: int):
    from django.utils import timezone

    from events_face.events.models import Event

    now = timezone.now()
    return Event.objects.create(
        id=uuid.uuid4(),
        name=name,
        event_time=now + timedelta(days=30),
        status=Event.Status.PUBLISHED,
        capacity=capacity,
        provider_changed_at=now,
    )


def registrations_fill(*, event, users: list, confirmed: int, waiting: int, rng: random.Random) -> None:
    """`confirmed` registrations with a seat and a code, then `waiting` on the waiting list."""
    from django.utils import timezone

    from events_face.events.models import Registration

    now = timezone.now()
    codes = rng.sample(range(10**6), confirmed)
    Registration.objects.bulk_create(
        (
            Registration(
                event=event,
                user=users[n % len(users)],
                full_name=f"Seated Guest {n}",
                email=f"{SEAT_PREFIX}-{n}@example.org",
                status=Registration.Status.CONFIRMED,
                confirmation_code=f"{codes[n]:06d}",
                confirmed_at=now,
                language="en",
            )
            for n in range(confirmed)
        ),
        batch_size=BATCH,
    )
    Registration.objects.bulk_create(
        (
            Registration(
                event=event,
                user=users[n % len(users)],
                full_name=f"Waiting Guest {n}",
                email=f"{WAITING_PREFIX}-{n}@example.org",
                status=Registration.Status.WAITLISTED,
                language="en",
            )
            for n in range(waiting)
        ),
        batch_size=BATCH,
    )


def cancel_links_write(*, event, count: int, path: Path) -> None:
    """The first `count` cancel links in the order they can be used (see the module docstring)."""
    from events_face.events.cancel_links import cancel_link
    from events_face.events.models import Registration

    seated = Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED)
    ids = list(seated.order_by("created_at", "id").values_list("id", flat=True))
    ids += list(Registration.objects.waiting_order().filter(event=event).values_list("id", flat=True))
    paths = [urlsplit(cancel_link(registration_id=registration_id)).path for registration_id in ids[:count]]
    path.write_text("".join(f"{link}\n" for link in paths))


def plan_prepare(*, folder: Path, rounds: int, clients: int, cancels: int) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    floor_table_create()
    users, tokens = users_create(clients, folder)
    rng = random.Random(1)
    plan = {
        "tokens": str(tokens),
        "capacities": {
            "register": REGISTER_CAPACITY,
            "waitlist": WAITLIST_CAPACITY,
            "cancel": CANCEL_CAPACITY,
        },
        "cancels": cancels,
        "rounds": [],
    }
    for round_no in range(rounds + 1):  # round 0: the warm-up
        register = event_create(name=f"Hot event {round_no}: registrations", capacity=REGISTER_CAPACITY)
        waitlist = event_create(name=f"Hot event {round_no}: waiting list", capacity=WAITLIST_CAPACITY)
        registrations_fill(event=waitlist, users=users, confirmed=WAITLIST_CAPACITY, waiting=0, rng=rng)
        cancel = event_create(name=f"Hot event {round_no}: cancellations", capacity=CANCEL_CAPACITY)
        registrations_fill(event=cancel, users=users, confirmed=CANCEL_CAPACITY, waiting=cancels, rng=rng)
        links = folder / f"cancel_links_{round_no}.txt"
        cancel_links_write(event=cancel, count=cancels, path=links)
        plan["rounds"].append(
            {
                "floor": str(uuid.uuid4()),
                "register": str(register.pk),
                "waitlist": str(waitlist.pk),
                "cancel": str(cancel.pk),
                "links": str(links),
            }
        )
    (folder / "plan.json").write_text(json.dumps(plan, indent=2))
    return plan


def event_counts(event_id: str) -> dict:
    """What one event's registrations hold now."""
    from django.db.models import Count

    from events_face.events.models import Registration

    rows = Registration.objects.filter(event_id=event_id)
    counts = dict.fromkeys(Registration.Status.values, 0)
    counts.update(rows.order_by().values_list("status").annotate(count=Count("id")))
    cancelled = rows.filter(status=Registration.Status.CANCELLED)
    counts["cancelled_while_waiting"] = cancelled.filter(confirmed_at__isnull=True).count()
    counts["promoted"] = rows.filter(
        email__startswith=f"{WAITING_PREFIX}-", confirmed_at__isnull=False
    ).count()
    return counts


def floor_rows(event_id: str) -> int:
    from django.db import connection

    event = uuid.UUID(event_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {connection.ops.quote_name(FLOOR_TABLE)} WHERE event_id = %s",
            [event if connection.features.has_native_uuid_field else event.hex],
        )
        return cursor.fetchone()[0]


def plan_check(folder: Path) -> dict:
    from django.db.models import Count

    from events_face.outbox.models import OutboxMessage

    plan = json.loads((folder / "plan.json").read_text())
    rounds = []
    for events in plan["rounds"]:
        counts = {variant: event_counts(events[variant]) for variant in ("register", "waitlist", "cancel")}
        counts["floor"] = {"rows": floor_rows(events["floor"])}
        rounds.append(counts)
    topics = dict(OutboxMessage.objects.order_by().values_list("topic").annotate(count=Count("id")))
    return {"rounds": rounds, "outbox": topics}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["prepare", "check"])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--cancels", type=int, default=10_000, help="cancellations prepared per round")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")
    import django

    django.setup()
    args.folder.mkdir(parents=True, exist_ok=True)
    if args.action == "prepare":
        result = plan_prepare(
            folder=args.folder, rounds=args.rounds, clients=args.clients, cancels=args.cancels
        )
    else:
        result = plan_check(args.folder)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
