"""The floors' bare Django views: `/floor/` answers fixed bytes, `/floor/register/<event>/` commits one INSERT.

`/floor/` (bench/event_list_http.py, settings bench.floor_settings): the bytes
are the service's own page 1, saved by the benchmark to the file named by
BENCH_FLOOR_BODY, read once per process on the first request. What the floor
costs is Django itself: the WSGI handler, URL resolution and an HttpResponse,
with no middleware, auth, query or rendering.

`/floor/register/<event>/` (bench/lifecycle_http.py, settings
bench.floor_write_settings): what a registration must do at the least. It
reads the JSON body the product's register endpoint reads, and commits one
INSERT of a registration row, every column of the product's
`events_registration` given as the product gives it (a new id, the event of
the path, a user id, the name and address of the body, a six-digit code,
language, status, two timestamps, NULL for the rest), in autocommit: the
statement is its own transaction, one round trip on PostgreSQL. It answers
201 with a body of the product's 201's keys. The row goes into
`bench_floor_registration`, which the benchmark makes with the registration
table's columns, types and widths and its primary key, and nothing else
(bench/lifecycle_data.py; FLOOR_COLUMNS is checked against the model there):
the product's secondary indexes, unique constraints and foreign keys are
choices the product made, and the floor pays none of them.
"""

import json
import os
import secrets
import uuid
from functools import cache
from pathlib import Path

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone

FLOOR_TABLE = "bench_floor_registration"
# Every column of events_registration, in the model's order (bench/lifecycle_data.py checks it).
FLOOR_COLUMNS = (
    "id",
    "event_id",
    "user_id",
    "full_name",
    "email",
    "confirmation_code",
    "idempotency_key",
    "language",
    "status",
    "created_at",
    "confirmed_at",
    "cancelled_at",
    "checked_in_at",
    "checked_in_by_id",
    "check_in_key",
    "reminded_at",
)
FLOOR_INSERT = (
    f"INSERT INTO {FLOOR_TABLE} ({', '.join(FLOOR_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(FLOOR_COLUMNS))})"
)
# The product stores the caller's id; the floor has no caller, so it stores a fixed one.
FLOOR_USER_ID = 1
# DRF's JSONRenderer writes compact JSON; the floor's body is written the same way.
COMPACT = {"separators": (",", ":")}


@cache
def _floor_body() -> bytes:
    return Path(os.environ["BENCH_FLOOR_BODY"]).read_bytes()


def floor(request):
    return HttpResponse(_floor_body(), content_type="application/json")


def _uuid_value(value: uuid.UUID):
    """What the product's UUIDField sends: the UUID itself to PostgreSQL, 32 hex digits to SQLite."""
    return value if connection.features.has_native_uuid_field else value.hex


def floor_register(request, event_id: str):
    fields = json.loads(request.body)
    registration_id, event = uuid.uuid4(), uuid.UUID(event_id)
    now = timezone.now()
    moment = connection.ops.adapt_datetimefield_value(now)
    code = f"{secrets.randbelow(10**6):06d}"
    row = [
        _uuid_value(registration_id),
        _uuid_value(event),
        FLOOR_USER_ID,
        fields["full_name"],
        fields["email"],
        code,
        None,
        "en",
        "confirmed",
        moment,
        moment,
        None,
        None,
        None,
        None,
        None,
    ]
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_INSERT, row)
    body = {
        "id": str(registration_id),
        "event": str(event),
        "event_name": "Floor",
        "full_name": fields["full_name"],
        "email": fields["email"],
        "status": "confirmed",
        "waitlist_position": None,
        "created_at": now.isoformat(),
        "confirmed_at": now.isoformat(),
        "cancelled_at": None,
    }
    return JsonResponse(body, status=201, json_dumps_params=COMPACT)


urlpatterns = [path("floor/", floor), path("floor/register/<str:event_id>/", floor_register)]
