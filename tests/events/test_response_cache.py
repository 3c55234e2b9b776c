"""The event list and detail: ETags, 304s, and a server-side cache that is never stale.

Each correctness rule of `events/response_cache.py` runs against the
zero-config per-process cache and against a real Redis server.
"""

import io
import os
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from events_face.events.models import Event, Venue
from tests.support.factories import bearer, make_event, make_user, make_venue
from tests.support.sync import sync_process

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(params=["locmem", "redis"])
def response_cache(request, settings):
    """The response cache under test: per process (the default) or shared, in Redis."""
    if request.param == "redis":
        if not redis_available():
            if os.environ.get("CI"):
                pytest.fail(f"Redis is not reachable at {REDIS_URL}; .ci/run starts it")
            pytest.skip(f"no Redis at {REDIS_URL}")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                # Keys of this test only: other runs may share the server.
                "KEY_PREFIX": uuid.uuid4().hex,
            }
        }
    settings.API_CACHE_SECONDS = 3600
    return request.param


def page_names(response) -> list[str]:
    return [item["name"] for item in response.json()["results"]]


def queries_for(client, url: str, **headers) -> tuple:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return response, [query["sql"] for query in queries.captured_queries]


@pytest.mark.django_db
class TestValidators:
    def test_list_and_detail_carry_an_etag_and_a_short_private_max_age(self, auth_client, response_cache):
        event = make_event()
        for url in ["/api/events/", f"/api/events/{event.id}/"]:
            response = auth_client.get(url)
            assert response.status_code == 200
            assert response["ETag"].startswith('"') and len(response["ETag"]) > 10
            assert response["Cache-Control"] == "private, max-age=5"

    @pytest.mark.parametrize("cache_seconds", [3600, 0])
    def test_a_matching_if_none_match_answers_304_without_a_body(self, auth_client, settings, cache_seconds):
        settings.API_CACHE_SECONDS = cache_seconds
        event = make_event()
        for url in ["/api/events/?page_size=5", f"/api/events/{event.id}"]:
            etag = auth_client.get(url)["ETag"]

            unchanged = auth_client.get(url, HTTP_IF_NONE_MATCH=etag)
            other = auth_client.get(url, HTTP_IF_NONE_MATCH='"something-else"')

            assert unchanged.status_code == 304 and unchanged.content == b""
            assert unchanged["ETag"] == etag
            assert other.status_code == 200 and other["ETag"] == etag

    def test_the_etag_changes_with_the_content(self, auth_client, response_cache):
        event = make_event(name="Before")
        etag = auth_client.get("/api/events/")["ETag"]
        Event.objects.filter(pk=event.pk).update(name="After")

        response = auth_client.get("/api/events/", HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 200 and page_names(response) == ["After"]


@pytest.mark.django_db
class TestQueries:
    def test_a_cold_page_is_two_queries_a_warm_one_is_one_and_no_user_row_is_read(
        self, auth_client, response_cache
    ):
        make_event()
        cold, cold_queries = queries_for(auth_client, "/api/events/?page_size=10")
        warm, warm_queries = queries_for(auth_client, "/api/events/?page_size=10")

        assert cold.status_code == warm.status_code == 200 and cold.content == warm.content
        assert len(cold_queries) == 2, cold_queries  # the catalogue version, the page
        assert len(warm_queries) == 1, warm_queries  # the catalogue version
        assert not any("auth_user" in sql for sql in cold_queries + warm_queries)

    def test_with_the_cache_off_a_page_is_one_query(self, auth_client, settings):
        settings.API_CACHE_SECONDS = 0
        make_event()
        for _ in range(2):
            response, queries = queries_for(auth_client, "/api/events/")
            assert response.status_code == 200 and len(queries) == 1, queries

    def test_a_broken_cache_costs_a_render_not_the_request(self, auth_client, settings):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:9/0",
            }
        }
        settings.API_CACHE_SECONDS = 3600
        make_event(name="Still served")

        response = auth_client.get("/api/events/")

        assert response.status_code == 200 and page_names(response) == ["Still served"]


@pytest.fixture
def staff_client(client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-1")
    client.force_login(admin)
    return client


def _set_capacity_in_admin(event: Event, staff_client) -> None:
    """The one field of an event the admin edits (the rest mirrors the provider)."""
    response = staff_client.post(f"/admin/events/event/{event.pk}/change/", {"capacity": "7"})
    assert response.status_code == 302, response.content[:2000]


WRITES = {
    "model save": lambda event, venue, _: (setattr(event, "name", "Renamed"), event.save()),
    "queryset update": lambda event, venue, _: Event.objects.filter(pk=event.pk).update(name="Renamed"),
    "new event": lambda event, venue, _: make_event(
        name="Renamed", event_time=event.event_time - timedelta(hours=1)
    ),
    "delete": lambda event, venue, _: (
        make_event(name="Renamed", event_time=event.event_time + timedelta(hours=1)),
        event.delete(),
    ),
    "venue rename": lambda event, venue, _: Venue.objects.filter(pk=venue.pk).update(name="Renamed"),
    "admin edit": lambda event, venue, staff: _set_capacity_in_admin(event, staff),
}


@pytest.mark.django_db
@pytest.mark.parametrize("write", WRITES)
def test_every_catalogue_write_is_visible_on_the_next_request(
    auth_client, staff_client, response_cache, write
):
    venue = make_venue(name="Hall")
    event = make_event(name="Original", venue=venue)
    before_list = auth_client.get("/api/events/").json()
    before_detail = auth_client.get(f"/api/events/{event.id}/").json()

    WRITES[write](event, venue, staff_client)

    if write == "admin edit":  # capacity shows in the detail only (and the seats it leaves)
        assert auth_client.get(f"/api/events/{event.id}/").json() == {
            **before_detail,
            "capacity": 7,
            "seats_left": 7,
        }
        return
    after_list = auth_client.get("/api/events/").json()
    assert after_list != before_list
    shown = {item["name"] for item in after_list["results"]} | {
        item["venue"]["name"] for item in after_list["results"] if item["venue"]
    }
    assert "Renamed" in shown
    if write not in ("new event", "delete"):
        assert auth_client.get(f"/api/events/{event.id}/").json() != before_detail


@pytest.mark.django_db
def test_cleanup_is_visible_on_the_next_request(auth_client, response_cache):
    past = make_event(name="Long over", event_time=timezone.now() - timedelta(days=30))
    url = "/api/events/?status=all&date_from=2000-01-01"
    assert "Long over" in page_names(auth_client.get(url))

    call_command("cleanup_events", "--days", "7", stdout=io.StringIO())

    assert not Event.objects.filter(pk=past.pk).exists()
    assert "Long over" not in page_names(auth_client.get(url))


@pytest.mark.django_db(transaction=True)
def test_a_change_synced_by_another_process_is_visible_on_the_next_request(provider, response_cache):
    first = sync_process(provider, "--all")
    assert first.wait(timeout=60) == 0, first.communicate()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(make_user()))
    url = "/api/events/?status=all&page_size=100"
    before = client.get(url).json()
    assert before["results"]
    assert client.get(url).json() == before  # now served from the cache

    changed = provider.change(count=3)
    second = sync_process(provider, "--all")
    assert second.wait(timeout=60) == 0, second.communicate()

    after = {item["id"]: item["name"] for item in client.get(url).json()["results"]}
    for record in changed:
        if record["id"] in after:
            assert after[record["id"]] == record["name"]
    assert after != {item["id"]: item["name"] for item in before["results"]}


@pytest.mark.django_db
def test_registration_open_is_never_true_past_the_deadline_however_long_the_cache_lives(
    auth_client, response_cache
):
    deadline = timezone.now() + timedelta(seconds=1.5)
    event = make_event(name="Closing soon", registration_deadline=deadline)
    list_url, detail_url = "/api/events/?status=all", f"/api/events/{event.id}/"

    listed = auth_client.get(list_url)
    detail = auth_client.get(detail_url)
    assert listed.json()["results"][0]["registration_open"] is True
    assert detail.json()["registration_open"] is True
    assert int(listed["Cache-Control"].rsplit("=", 1)[1]) <= 1

    time.sleep(max(0.0, (deadline - timezone.now()).total_seconds()) + 0.05)

    assert auth_client.get(list_url).json()["results"][0]["registration_open"] is False
    assert auth_client.get(detail_url).json()["registration_open"] is False
    assert auth_client.get("/api/events/").json()["results"] == []  # the default list drops it


@pytest.mark.django_db
def test_users_share_cached_catalogue_pages_but_never_their_own_registrations(response_cache):
    ada, bob = APIClient(), APIClient()
    ada.credentials(HTTP_AUTHORIZATION=bearer(make_user("ada")))
    bob.credentials(HTTP_AUTHORIZATION=bearer(make_user("bob")))
    event = make_event(name="Shared")

    adas_page = ada.get("/api/events/")
    bobs_page, bobs_queries = queries_for(bob, "/api/events/")
    assert bobs_page.content == adas_page.content and len(bobs_queries) == 1  # Ada's render, shared
    assert (
        ada.post(
            f"/api/events/{event.id}/register/",
            {"full_name": "Ada", "email": "ada@example.com"},
            format="json",
        ).status_code
        == 201
    )

    adas_registrations = ada.get("/api/registrations/").json()["results"]
    bobs_registrations = bob.get("/api/registrations/").json()["results"]

    assert [item["email"] for item in adas_registrations] == ["ada@example.com"]
    assert bobs_registrations == []
    assert ada.get("/api/registrations/").get("ETag") is None  # not a cached response
