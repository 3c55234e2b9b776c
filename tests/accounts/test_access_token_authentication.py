"""The catalogue reads remember verified tokens, but never past their expiry or for a forged copy."""

import time
from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.django_db


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_remembered_token_is_refused_once_it_expires():
    make_event()
    token = AccessToken.for_user(make_user())
    # Long enough for a slow first request (a busy machine) to fall inside it;
    # "exp" is whole seconds, so wait for the clock to pass it rather than a fixed time.
    token.set_exp(lifetime=timedelta(seconds=3))
    client = client_with(str(token))
    assert client.get("/api/events/").status_code == 200

    time.sleep(max(0.0, token["exp"] - time.time()) + 0.5)
    response = client.get("/api/events/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_a_forged_copy_of_a_remembered_token_is_refused():
    make_event()
    token = str(AccessToken.for_user(make_user()))
    assert client_with(token).get("/api/events/").status_code == 200
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"

    response = client_with(forged).get("/api/events/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
