"""The event list and detail cache keys leave the language out: nothing in a cached body is
translated, and errors, which are, are never cached. So a page cached for one language cannot
give another language's text to a client."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events_face.events.models import Event
from tests.support.factories import make_event, make_venue

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def catalogue():
    venue = make_venue(name="Hall A")
    events = [make_event(name="Compilers", venue=venue, capacity=10)]
    events += [make_event(status=status) for status in Event.Status.values]
    return events


def urls(events) -> list[str]:
    return [
        "/api/events/?page_size=3",
        "/api/events/?status=all&ordering=-event_time",
        *(f"/api/events/{event.id}/" for event in events),
    ]


def test_no_page_or_detail_holds_text_that_depends_on_the_language(auth_client, settings, catalogue):
    settings.API_CACHE_SECONDS = 0  # every answer rendered afresh, in the request's language

    for url in urls(catalogue):
        english, russian = auth_client.get(url, **EN), auth_client.get(url, **RU)

        assert english.status_code == russian.status_code == 200
        assert english.content == russian.content, url


def test_a_page_cached_for_an_english_client_is_what_a_russian_client_would_have_been_given(
    auth_client, settings, catalogue
):
    settings.API_CACHE_SECONDS = 3600
    for url in urls(catalogue):
        english = auth_client.get(url, **EN)

        with CaptureQueriesContext(connection) as queries:
            russian = auth_client.get(url, **RU)

        assert len(queries) == 1, "served from the cache (only the catalogue version was read)"
        assert russian.content == english.content
        assert russian.headers["Content-Language"] == "ru"
        assert "Accept-Language" in russian.headers["Vary"]


def test_errors_are_never_cached_so_each_client_gets_its_own_language(auth_client, settings):
    settings.API_CACHE_SECONDS = 3600
    for url, english, russian in [
        ("/api/events/?venue=nope", "Must be a valid UUID.", "Значение должно быть корректным UUID."),
        (f"/api/events/{uuid.uuid4()}/", "No event with this id.", "События с таким идентификатором нет."),
    ]:
        answers = [auth_client.get(url, **headers).json()["error"] for headers in [EN, RU, EN]]

        assert len({answer["code"] for answer in answers}) == 1
        assert english in str(answers[0]) and russian in str(answers[1]) and english in str(answers[2])
