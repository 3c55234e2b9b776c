"""The catalogue's GETs answered past DRF's dispatch (`apis.CatalogueReadMixin`) answer exactly
what DRF's dispatch answers: the same status, body and headers, for good requests and bad.

Each request goes to the view twice: as it is, and through a subclass whose `dispatch`
is DRF's own. A subclass that refuses to build DRF's Request shows which requests take
the short way (a valid token and good input) and which do not (everything else).
"""

import uuid

import pytest
from django.test import RequestFactory
from django.utils import translation
from rest_framework.views import APIView

from events_face.events.apis import EventDetailApi, EventListApi
from tests.support.factories import bearer, make_event, make_user


class DRFRequestBuilt(Exception):
    pass


def through_drf(view_class):
    class ThroughDRF(view_class):
        def dispatch(self, request, *args, **kwargs):
            return APIView.dispatch(self, request, *args, **kwargs)

    return ThroughDRF.as_view()


def without_drf_request(view_class):
    class WithoutDRFRequest(view_class):
        def initialize_request(self, request, *args, **kwargs):
            raise DRFRequestBuilt()

    return WithoutDRFRequest.as_view()


def answer(view, request, **kwargs) -> tuple[int, bytes, dict]:
    with translation.override("ru"):  # a refusal's text is translated: both ways alike
        response = view(request, **kwargs)
        if hasattr(response, "render"):
            response.render()
    return response.status_code, response.content, dict(response.headers)


@pytest.fixture
def event(db):
    return make_event(capacity=10)


@pytest.fixture
def token(db):
    return bearer(make_user())


CASES = [
    # (view, path, query, kwargs, token?, the short way?)
    pytest.param(EventListApi, "/api/events/", {}, {}, True, True, id="list"),
    pytest.param(EventListApi, "/api/events/", {"page_size": "1"}, {}, True, True, id="list page size"),
    pytest.param(
        EventListApi,
        "/api/events/",
        {"status": "all", "ordering": "-event_time"},
        {},
        True,
        True,
        id="list filtered",
    ),
    pytest.param(EventListApi, "/api/events/", {"page_size": "0"}, {}, True, False, id="list bad page size"),
    pytest.param(EventListApi, "/api/events/", {"cursor": "garbage"}, {}, True, False, id="list bad cursor"),
    pytest.param(EventListApi, "/api/events/", {"status": "nonsense"}, {}, True, False, id="list bad filter"),
    pytest.param(EventListApi, "/api/events/", {}, {}, False, False, id="list no token"),
    pytest.param(EventDetailApi, "/api/events/{id}/", {}, {"event_id": "{id}"}, True, True, id="detail"),
    pytest.param(
        EventDetailApi, "/api/events/x/", {}, {"event_id": "not-an-id"}, True, False, id="detail bad id"
    ),
    pytest.param(
        EventDetailApi,
        "/api/events/x/",
        {},
        {"event_id": str(uuid.uuid4())},
        True,
        False,
        id="detail unknown",
    ),
]


@pytest.mark.parametrize(("view_class", "path", "query", "kwargs", "with_token", "short"), CASES)
def test_the_short_way_answers_what_drf_answers(
    settings, event, token, view_class, path, query, kwargs, with_token, short
):
    settings.API_CACHE_SECONDS = 0  # each answer rendered now: the same max-age
    path = path.format(id=event.id)
    kwargs = {key: value.format(id=event.id) for key, value in kwargs.items()}
    headers = {"HTTP_AUTHORIZATION": token} if with_token else {}

    def request():
        return RequestFactory().get(path, query, HTTP_ACCEPT_LANGUAGE="ru", **headers)

    as_it_is = answer(view_class.as_view(), request(), **kwargs)
    drf = answer(through_drf(view_class), request(), **kwargs)

    assert as_it_is == drf
    if short:
        assert as_it_is[0] == 200
        answer(without_drf_request(view_class), request(), **kwargs)  # no DRF Request built
    else:
        assert as_it_is[0] in (400, 401, 404)
        with pytest.raises(DRFRequestBuilt):
            answer(without_drf_request(view_class), request(), **kwargs)


def test_a_refused_token_takes_drf_s_way_with_its_www_authenticate(event):
    request = RequestFactory().get("/api/events/", HTTP_AUTHORIZATION="Bearer not.a.token")

    status, _, headers = answer(EventListApi.as_view(), request)

    assert status == 401
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]
