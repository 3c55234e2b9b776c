"""The negotiation's short way gives DRF's own answers, and everything else is DRF's."""

import pytest
from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from events_face.core.negotiation import CommonAcceptNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "text/html, */*;q=0.1",
    "application/xml",
    "application/*",
    "",
]
RENDERER_LISTS = [
    [JSONRenderer()],
    [JSONRenderer(), BrowsableAPIRenderer()],
    [BrowsableAPIRenderer(), JSONRenderer()],
]


def answer(negotiation, accept, renderers, query, format_suffix):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/events/" + query, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, format_suffix)
    except NotAcceptable:
        return "406"
    except Http404:  # a ?format= no renderer has
        return "404"
    return type(renderer), media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("renderers", RENDERER_LISTS, ids=["json", "json+browsable", "browsable+json"])
@pytest.mark.parametrize(
    ("query", "format_suffix"), [("", None), ("?format=json", None), ("?format=api", None), ("", "json")]
)
def test_the_same_answer_as_drf(accept, renderers, query, format_suffix):
    ours = answer(CommonAcceptNegotiation(), accept, renderers, query, format_suffix)
    assert ours == answer(DefaultContentNegotiation(), accept, renderers, query, format_suffix)


def test_an_api_answer_still_refuses_what_the_client_cannot_take(auth_client):
    response = auth_client.get("/api/registrations/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
