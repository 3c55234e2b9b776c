"""The endpoints that load the token's user (`AccessTokenUserAuthentication`): the row is read
as plain SQL, and every case it does not answer gets SimpleJWT's own refusal."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken

from tests.support.factories import client_with_token, make_user

pytestmark = pytest.mark.django_db


def test_the_token_s_user_is_the_whole_user():
    user = make_user("grace")
    user.first_name = "Grace"
    user.save()

    response = client_with_token(str(AccessToken.for_user(user))).get("/api/auth/me")

    assert response.status_code == 200
    assert response.json()["username"] == "grace" and response.json()["email"] == "grace@example.com"


def test_a_deactivated_user_is_refused_at_once():
    user = make_user()
    client = client_with_token(str(AccessToken.for_user(user)))
    assert client.get("/api/auth/me").status_code == 200
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)

    response = client.get("/api/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_inactive"


def test_a_deleted_user_is_refused():
    user = make_user()
    token = str(AccessToken.for_user(user))
    user.delete()

    response = client_with_token(token).get("/api/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_not_found"
