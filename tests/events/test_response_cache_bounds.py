"""What one client can make the shared response cache hold is bounded by the catalogue.

The attack of the security review: `?page_size=100&status=all&x=N` for N = 1, 2, ...
made one 29 KB entry per request in Redis. The key is now the request's canonical
form (validated filters, page size, cursor), so junk parameters and spellings share
one entry; requests with no bounded canonical form (name searches, far dates,
forged cursors, unknown venues) are served but never stored. Run against a real
Redis server, counting its keys.
"""

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from events_face.core.pagination import encode_cursor
from events_face.events import response_cache
from tests.support.factories import make_event, make_venue
from tests.support.redis_server import REDIS_URL, redis_or_skip

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache(settings):
    """The response cache in a real Redis, under a prefix of this test's own; its keys, counted."""
    client = redis_or_skip()
    prefix = uuid.uuid4().hex
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    settings.API_CACHE_SECONDS = 300

    def stored() -> int:
        return sum(1 for _ in client.scan_iter(match=f"{prefix}:*catalogue:*"))

    yield stored
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


@pytest.fixture
def catalogue():
    venue = make_venue(name="Hall")
    return [make_event(name=f"Event {i}", venue=venue, status="published") for i in range(5)]


def test_unknown_parameters_share_one_entry_and_leave_no_trace_in_the_links(
    auth_client, redis_cache, catalogue
):
    responses = [auth_client.get(f"/api/events/?page_size=2&status=all&x={n}") for n in range(30)]

    assert {response.status_code for response in responses} == {200}
    assert redis_cache() == 1
    assert len({response.content for response in responses}) == 1
    next_link = responses[0].json()["next"]
    assert parse_qs(urlsplit(next_link).query).keys() == {"page_size", "status", "cursor"}


def test_spellings_of_one_request_share_one_entry(auth_client, redis_cache, catalogue):
    spellings = [
        "/api/events/?status=new,published",
        "/api/events/?status=published,new",
        "/api/events/?status=new&status=published",
        "/api/events/?status=published&status=new&status=new",
        "/api/events/?page_size=20&status=new,published",
        "/api/events/?status=new,published&ordering=event_time",
        "/api/events/?ordering=event_time&page_size=20&status=published,new&utm_source=mail",
    ]
    responses = [auth_client.get(url) for url in spellings]

    assert {response.status_code for response in responses} == {200}
    assert len({response.content for response in responses}) == 1
    assert redis_cache() == 1


def test_all_absorbs_the_other_statuses(auth_client, redis_cache, catalogue):
    for url in [
        "/api/events/?status=all",
        "/api/events/?status=all,new",
        "/api/events/?status=new&status=all",
    ]:
        assert auth_client.get(url).status_code == 200

    assert redis_cache() == 1


def test_a_detail_is_one_entry_however_its_id_is_spelled(auth_client, redis_cache, catalogue):
    event = catalogue[0]
    for path in [str(event.id), str(event.id).upper(), event.id.hex, f"{event.id}/?x=1"]:
        assert auth_client.get(f"/api/events/{path}").status_code == 200

    assert redis_cache() == 1


def test_name_searches_are_served_but_not_stored(auth_client, redis_cache, catalogue):
    for n in range(10):
        response = auth_client.get(f"/api/events/?name=Event+{n}")
        assert response.status_code == 200

    assert [item["name"] for item in auth_client.get("/api/events/?name=event+3").json()["results"]] == [
        "Event 3"
    ]
    assert redis_cache() == 0


def test_forged_cursors_are_served_but_not_stored_and_issued_ones_are(auth_client, redis_cache, catalogue):
    moment = timezone.now() + timedelta(days=1)
    for _ in range(10):
        forged = encode_cursor(moment, uuid.uuid4())
        assert auth_client.get(f"/api/events/?page_size=2&cursor={forged}").status_code == 200
    assert redis_cache() == 0

    issued = auth_client.get("/api/events/?page_size=2").json()["next"]
    second = auth_client.get(issued)
    again = auth_client.get(issued + "&junk=1")

    assert second.status_code == 200 and second.content == again.content
    assert redis_cache() == 2  # the first page and the second


def test_unknown_venues_are_served_but_not_stored(auth_client, redis_cache, catalogue):
    for _ in range(10):
        assert auth_client.get(f"/api/events/?venue={uuid.uuid4()}").json()["results"] == []
    assert redis_cache() == 0

    venue = catalogue[0].venue_id
    assert len(auth_client.get(f"/api/events/?venue={venue}").json()["results"]) == 5
    assert redis_cache() == 1


def test_dates_far_from_today_are_served_but_not_stored(auth_client, redis_cache, catalogue):
    today = timezone.now().date()
    for days in range(10):
        far = today + timedelta(days=400 + days)
        assert auth_client.get(f"/api/events/?date_from={far}").status_code == 200
    assert redis_cache() == 0

    assert auth_client.get(f"/api/events/?date_from={today}").status_code == 200
    assert redis_cache() == 1


def test_a_version_stores_at_most_its_budget_of_entries_and_serves_the_rest(
    auth_client, redis_cache, catalogue, monkeypatch
):
    monkeypatch.setattr(response_cache, "MAX_ENTRIES_PER_VERSION", 3)

    responses = [auth_client.get(f"/api/events/?page_size={size}") for size in range(1, 11)]

    assert [len(r.json()["results"]) for r in responses] == [min(size, 5) for size in range(1, 11)]
    assert redis_cache() == 3
