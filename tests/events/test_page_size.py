"""`page_size` is enforced within the bounds the schema declares: outside them, a 400.

The bounds are read from the generated schema, so the schema and the
behaviour cannot drift apart again (a page size over the maximum used to be
silently capped while the schema declared `maximum: 100`).
"""

import pytest
import yaml
from django.core.cache import cache

from tests.support.factories import make_event

pytestmark = pytest.mark.django_db

LISTS = ["/api/events/", "/api/registrations/"]


def declared_bounds(api_client, path: str) -> tuple[int, int]:
    schema = yaml.safe_load(api_client.get("/api/schema/").content)
    (parameter,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "page_size"]
    return parameter["schema"]["minimum"], parameter["schema"]["maximum"]


def assert_page_size_refused(response):
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == ["page_size"]


def test_both_lists_declare_the_same_bounds(api_client):
    assert declared_bounds(api_client, LISTS[0]) == declared_bounds(api_client, LISTS[1]) == (1, 100)


@pytest.mark.parametrize("path", LISTS)
def test_a_page_size_above_the_declared_maximum_is_400(auth_client, path):
    _, maximum = declared_bounds(auth_client, path)

    assert auth_client.get(path, {"page_size": maximum}).status_code == 200
    assert_page_size_refused(auth_client.get(path, {"page_size": maximum + 1}))
    assert_page_size_refused(auth_client.get(path, {"page_size": 10**30}))


@pytest.mark.parametrize("path", LISTS)
def test_a_page_size_below_the_declared_minimum_is_400(auth_client, path):
    minimum, _ = declared_bounds(auth_client, path)

    assert auth_client.get(path, {"page_size": minimum}).status_code == 200
    assert_page_size_refused(auth_client.get(path, {"page_size": minimum - 1}))


def test_the_declared_maximum_is_a_full_page(auth_client):
    _, maximum = declared_bounds(auth_client, "/api/events/")
    for _ in range(maximum + 1):
        make_event()

    page = auth_client.get("/api/events/", {"page_size": maximum}).json()

    assert len(page["results"]) == maximum
    assert page["next"] is not None


def test_a_refused_page_size_is_not_cached(auth_client, settings):
    # The per-process cache (the default), where what is stored can be looked at.
    settings.API_CACHE_SECONDS = 3600
    make_event()
    cache.clear()

    first = auth_client.get("/api/events/", {"page_size": 101})
    again = auth_client.get("/api/events/", {"page_size": 101})

    assert_page_size_refused(first)
    assert_page_size_refused(again)
    assert not any(":catalogue:" in key for key in cache._cache)
