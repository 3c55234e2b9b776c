"""A refused access token says why: `token_expired` (refresh it) or `token_not_valid` (log in again),
in the error code and in WWW-Authenticate (RFC 6750), on the catalogue reads (which remember verified
tokens) and on every other endpoint alike."""

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from tests.support.factories import client_with_token, make_event, make_user
from tests.support.tokens import make_short_lived_access_token, token_expiry_wait

pytestmark = pytest.mark.django_db

# One endpoint of each authentication: the catalogue's (stateless, remembered) and the rest's.
ENDPOINTS = ["/api/events/", "/api/registrations/"]
EXPIRED_HEADER = 'Bearer realm="api", error="invalid_token", error_description="The access token expired"'
INVALID_HEADER = 'Bearer realm="api", error="invalid_token", error_description="The access token is invalid"'


def expired_token() -> str:
    return str(make_short_lived_access_token(make_user(), seconds=-5))


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_expired_token_is_told_apart(path):
    response = client_with_token(expired_token()).get(path)

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "token_expired",
        "message": "The access token has expired. Get a new one with the refresh token: POST /api/auth/token/refresh/.",
    }
    assert response.headers["WWW-Authenticate"] == EXPIRED_HEADER


def test_an_expired_token_says_so_in_russian():
    response = client_with_token(expired_token()).get("/api/events/", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.json()["error"]["code"] == "token_expired"
    assert response.json()["error"]["message"].startswith("Срок действия токена доступа истёк.")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("token", ["garbage", "a.b.c", "refresh"])
def test_a_token_that_is_not_a_valid_access_token_is_not_valid(path, token):
    if token == "refresh":
        token = str(RefreshToken.for_user(make_user()))

    response = client_with_token(token).get(path)

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
    token = make_short_lived_access_token(make_user())
    client = client_with_token(str(token))
    assert client.get("/api/events/").status_code == 200

    token_expiry_wait(token)
    response = client.get("/api/events/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"
    assert response.headers["WWW-Authenticate"] == EXPIRED_HEADER
