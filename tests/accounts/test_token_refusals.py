"""A refused access token says why: `token_expired` (refresh it) or `token_not_valid` (log in again),
in the error code and in WWW-Authenticate (RFC 6750), on the catalogue reads (which remember verified
tokens) and on every other endpoint alike."""

import time
from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.django_db

# One endpoint of each authentication: the catalogue's (stateless, remembered) and the rest's.
ENDPOINTS = ["/api/events/", "/api/registrations/"]
EXPIRED_HEADER = 'Bearer realm="api", error="invalid_token", error_description="The access token expired"'
INVALID_HEADER = 'Bearer realm="api", error="invalid_token", error_description="The access token is invalid"'


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def expired_token() -> str:
    token = AccessToken.for_user(make_user())
    token.set_exp(lifetime=timedelta(seconds=-5))
    return str(token)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_expired_token_is_told_apart(path):
    response = client_with(expired_token()).get(path)

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "token_expired",
        "message": "The access token has expired. Get a new one with the refresh token: POST /api/auth/token/refresh/.",
    }
    assert response.headers["WWW-Authenticate"] == EXPIRED_HEADER


def test_an_expired_token_says_so_in_russian():
    response = client_with(expired_token()).get("/api/events/", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.json()["error"]["code"] == "token_expired"
    assert response.json()["error"]["message"].startswith("Срок действия токена доступа истёк.")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("token", ["garbage", "a.b.c", "refresh"])
def test_a_token_that_is_not_a_valid_access_token_is_not_valid(path, token):
    if token == "refresh":
        token = str(RefreshToken.for_user(make_user()))

    response = client_with(token).get(path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert response.headers["WWW-Authenticate"] == INVALID_HEADER


@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_token_at_all_names_no_error(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_remembered_token_is_told_expired_once_it_expires():
    make_event()
    token = AccessToken.for_user(make_user())
    # Whole seconds; wait for the clock to pass "exp" rather than a fixed time.
    token.set_exp(lifetime=timedelta(seconds=3))
    client = client_with(str(token))
    assert client.get("/api/events/").status_code == 200

    time.sleep(max(0.0, token["exp"] - time.time()) + 0.5)
    response = client.get("/api/events/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"
    assert response.headers["WWW-Authenticate"] == EXPIRED_HEADER
