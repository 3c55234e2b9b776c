"""The event list benchmark's data: one scratch database filled the way the product would see it.

Run by `bench/event_list_http.py` in a subprocess, with DATABASE_URL, SECRET_KEY
and JWT_ACCESS_TOKEN_LIFETIME_MINUTES already set to what the servers will use:

    .venv/bin/python bench/event_list_data.py --events 10000

Runs the product's `migrate`, loads ~50 venues and N events with `bulk_create`
and nothing else (no ANALYZE, VACUUM or PRAGMA optimize: the database is
measured exactly as bulk_create leaves it), creates one user, and prints one
JSON line: an access token for that user, the size of the default list, the
cursor of the page 70% into it, and the rare word to search for.

The events: ~95% upcoming (2 days to 3 years ahead, on quarter hours, so many
share a start time), mostly `published`/`new`, some `registration_closed` /
`cancelled`, past ones `finished`; 30% have a registration deadline (some
passed). Names come from small word lists; every 1,000th carries RARE_WORD.
"""

import argparse
import inspect
import json
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))  # run as a script: events_face must be importable

RARE_WORD = "Zeppelin"
RARE_EVERY = 1000  # every 1,000th event carries RARE_WORD: 0.1%, at any size
DEEP_SHARE = 0.7
VENUES = 50
BATCH = 2000  # rows per INSERT; SQLite's parameter limit allows it
# No start time or deadline falls within this much of "now", so the default
# list, and the counts printed here, stay the same for a day of measuring.
MARGIN = timedelta(days=1)

CITIES = ["Lisbon", "Porto", "Berlin", "Lyon", "Turin", "Ghent", "Krakow", "Bergen", "Tartu", "Cork"]
PLACES = ["Hall", "Arena", "Theatre", "Club", "Gallery"]
ADJECTIVES = [
    "Autumn",
    "Spring",
    "Summer",
    "Winter",
    "Grand",
    "Open",
    "Late",
    "Early",
    "Little",
    "Northern",
    "Royal",
    "Modern",
    "Classic",
    "Urban",
    "Quiet",
]
TOPICS = [
    "Jazz",
    "Opera",
    "Poetry",
    "Comedy",
    "Chess",
    "Film",
    "Robotics",
    "Wine",
    "Design",
    "Folk",
    "Photography",
    "Science",
    "Ballet",
    "Startup",
    "Gaming",
]
KINDS = [
    "Festival",
    "Night",
    "Meetup",
    "Concert",
    "Workshop",
    "Conference",
    "Evening",
    "Marathon",
    "Fair",
    "Showcase",
    "Lecture",
    "Tour",
]
UPCOMING_STATUSES = [("published", 0.67), ("new", 0.20), ("registration_closed", 0.08), ("cancelled", 0.05)]


def event_name(rng: random.Random, *, rare: bool) -> str:
    topic = RARE_WORD if rare else rng.choice(TOPICS)
    name = f"{rng.choice(ADJECTIVES)} {topic} {rng.choice(KINDS)}"
    return f"{name} {rng.randint(1, 40)}" if rng.random() < 0.3 else name


def events_fill(count: int, *, seed: int = 1) -> None:
    from django.utils import timezone

    from events_face.events.models import Event, Venue

    rng = random.Random(seed)
    now = timezone.now().replace(second=0, microsecond=0)
    venues = Venue.objects.bulk_create(
        [Venue(id=uuid.UUID(int=rng.getrandbits(128)), name=f"{c} {p}") for c in CITIES for p in PLACES][
            :VENUES
        ]
    )
    statuses, weights = zip(*UPCOMING_STATUSES, strict=True)
    quarters_ahead = 3 * 365 * 24 * 4
    batch = []
    for number in range(count):
        if rng.random() < 0.05:
            event_time = now - timedelta(minutes=15 * rng.randint(4 * 24 * 2, 4 * 24 * 90))
            status = "finished" if rng.random() < 0.8 else "cancelled"
        else:
            event_time = now + MARGIN * 2 + timedelta(minutes=15 * rng.randint(0, quarters_ahead))
            status = rng.choices(statuses, weights)[0]
        deadline = None
        if rng.random() < 0.3:
            deadline = event_time - timedelta(hours=rng.randint(24, 30 * 24))
            if abs(deadline - now) < MARGIN:
                deadline -= 2 * MARGIN
        batch.append(
            Event(
                id=uuid.UUID(int=rng.getrandbits(128)),
                name=event_name(rng, rare=number % RARE_EVERY == RARE_EVERY // 2),
                event_time=event_time,
                registration_deadline=deadline,
                status=status,
                venue=rng.choice(venues) if rng.random() < 0.9 else None,
                capacity=rng.choice([None, 50, 100, 500]),
                provider_changed_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
            )
        )
        if len(batch) == BATCH * 5:
            Event.objects.bulk_create(batch, batch_size=BATCH)
            batch = []
    Event.objects.bulk_create(batch, batch_size=BATCH)


def cursor_after(event) -> str:
    """The cursor continuing the list after `event`, with either `encode_cursor` signature:
    `(moment, row_id, *, back)` now, `(row, *, time_field, back)` before."""
    from events_face.core.pagination import encode_cursor

    if next(iter(inspect.signature(encode_cursor).parameters)) == "row":
        return encode_cursor(event)
    return encode_cursor(event.event_time, event.id)


def default_list():
    """The list's default, in the order it is listed: the events open for registration now."""
    from django.utils import timezone

    from events_face.events.models import Event

    return Event.objects.open_for_registration(now=timezone.now()).order_by("event_time", "id")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import AccessToken

    began = time.monotonic()
    call_command("migrate", verbosity=0)
    events_fill(args.events)
    user = get_user_model().objects.create_user("bench", password=uuid.uuid4().hex)
    listed = default_list()
    open_events = listed.count()
    deep_index = int(open_events * DEEP_SHARE)
    before_deep = listed[deep_index - 1 : deep_index].get()
    print(f"  {args.events:,} events loaded in {time.monotonic() - began:.0f} s", file=sys.stderr)
    print(
        json.dumps(
            {
                "events": args.events,
                "open_events": open_events,
                "deep_index": deep_index,
                "deep_cursor": cursor_after(before_deep),
                "search": RARE_WORD.lower(),
                "search_matches": listed.filter(name__icontains=RARE_WORD).count(),
                "token": str(AccessToken.for_user(user)),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
