"""The catalogue version never goes back: TRUNCATE and `manage.py flush` leave no cached page behind.

Migration 0005. SQLite has no TRUNCATE statement (its flush is DELETE FROM each
table, which the row triggers of 0003 see), so the TRUNCATE test runs on
PostgreSQL only; the flush tests run on both.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from events_face.events import response_cache
from events_face.events.models import Event
from tests.support.factories import bearer, make_event, make_user, make_venue


def catalogue_version() -> int:
    version, _held = response_cache.catalogue_version()
    return version


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["results"]]


@pytest.fixture
def cached_pages(settings):
    settings.API_CACHE_SECONDS = 3600


# Committed rows, as an operator's TRUNCATE finds them (inside the writing transaction,
# PostgreSQL refuses it while the deferred foreign-key checks are pending).
@pytest.mark.django_db(transaction=True)
def test_truncate_of_events_and_venues_is_seen_by_the_next_request_and_the_old_etag(
    auth_client, cached_pages
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE statement")
    make_event(name="Deleted by TRUNCATE", venue=make_venue())
    before = auth_client.get("/api/events/")
    assert names(before) == ["Deleted by TRUNCATE"]
    assert names(auth_client.get("/api/events/")) == ["Deleted by TRUNCATE"]  # served from the cache
    version = catalogue_version()

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE events_event, events_venue CASCADE")

    assert catalogue_version() > version
    assert names(auth_client.get("/api/events/")) == []
    assert auth_client.get("/api/events/", HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_truncate_of_the_version_row_itself_does_not_take_the_version_back():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE statement")
    make_event()
    version = catalogue_version()

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE events_catalogueversion")

    assert catalogue_version() > version


@pytest.mark.django_db(transaction=True)
def test_after_flush_new_writes_never_meet_a_page_cached_before_it(cached_pages):
    def list_names() -> list[str]:  # as a user who exists now (flush deletes users too)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer(make_user()))
        return names(client.get("/api/events/"))

    make_event(name="Before the flush", venue=make_venue())
    for _ in range(3):  # a few more writes: the version the cached page is keyed on is not small
        Event.objects.update(name="Before the flush")
    assert list_names() == ["Before the flush"]
    version = catalogue_version()

    call_command("flush", "--no-input", stdout=io.StringIO())
    assert catalogue_version() > version
    event = make_event(name="After the flush")
    while catalogue_version() <= version + 10:  # were the version reset, it would pass the cached one here
        Event.objects.filter(pk=event.pk).update(name="After the flush")
        if catalogue_version() == version:
            assert list_names() == ["After the flush"]

    assert list_names() == ["After the flush"]
