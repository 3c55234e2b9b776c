"""Sign-up, login, token refresh with rotation, logout with blacklisting."""

import pytest
from django.contrib.auth import get_user_model

from tests.support.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def register(client, **overrides):
    body = {"username": "ada", "email": "ada@example.com", "password": PASSWORD, **overrides}
    return client.post("/api/auth/register", body, format="json")


def test_registering_returns_a_working_token_pair(api_client):
    response = register(api_client)

    assert response.status_code == 201
    assert set(response.json()) == {"access", "refresh"}
    assert get_user_model().objects.filter(username="ada", email="ada@example.com").exists()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api_client.get("/api/events/").status_code == 200


def test_registering_stores_a_hashed_password(api_client):
    register(api_client)

    user = get_user_model().objects.get(username="ada")
    assert user.password != PASSWORD
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("password", ["short1", "password", "12345678901"])
def test_a_weak_password_is_rejected_with_django_validators_messages(api_client, password):
    response = register(api_client, password=password)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["fields"]["password"]
    assert not get_user_model().objects.exists()


def test_a_username_taken_in_another_case_is_rejected(api_client):
    make_user("Ada")

    response = register(api_client, username="ada")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "username_taken"
    assert "username" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ada", "password": PASSWORD},
        {"username": "ada", "email": "not-an-email", "password": PASSWORD},
        {"username": "a d a", "email": "ada@example.com", "password": PASSWORD},
        {"username": ["ada"], "email": "ada@example.com", "password": PASSWORD},
        {"username": "ada\x00", "email": "ada@example.com", "password": PASSWORD},
    ],
)
def test_invalid_sign_up_input_gets_field_errors(api_client, body):
    response = api_client.post("/api/auth/register", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "path", ["/api/auth/login", "/api/auth/login/", "/api/auth/token/", "/api/auth/token"]
)
def test_login_and_token_return_a_pair_for_the_right_password(api_client, path):
    make_user("grace", password=PASSWORD)

    response = api_client.post(path, {"username": "grace", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_login_with_a_wrong_password_is_401(api_client):
    make_user("grace", password=PASSWORD)

    response = api_client.post("/api/auth/login", {"username": "grace", "password": "nope"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_refresh_rotates_and_blacklists_the_old_refresh_token(api_client):
    pair = register(api_client).json()

    rotated = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    replayed = api_client.post("/api/auth/token/refresh", {"refresh": pair["refresh"]}, format="json")

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != pair["refresh"]
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "token_not_valid"


def test_logout_blacklists_the_refresh_token(api_client):
    pair = register(api_client).json()

    logout = api_client.post("/api/auth/logout", {"refresh": pair["refresh"]}, format="json")
    refresh = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    second_logout = api_client.post("/api/auth/logout/", {"refresh": pair["refresh"]}, format="json")

    assert logout.status_code == 204
    assert refresh.status_code == 401
    assert second_logout.status_code == 401


def test_logout_with_a_garbage_token_is_401_and_without_one_400(api_client):
    garbage = api_client.post("/api/auth/logout", {"refresh": "not-a-token"}, format="json")
    missing = api_client.post("/api/auth/logout", {}, format="json")

    assert garbage.status_code == 401
    assert missing.status_code == 400
    assert "refresh" in missing.json()["error"]["fields"]


def test_an_access_token_cannot_be_used_as_a_refresh_token(api_client):
    pair = register(api_client).json()

    response = api_client.post("/api/auth/token/refresh/", {"refresh": pair["access"]}, format="json")

    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/api/events/", "/api/registrations/"])
def test_api_needs_a_token(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_forged_access_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer abc.def.ghi")

    response = api_client.get("/api/events/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_too_many_login_attempts_from_one_address_are_throttled(api_client):
    make_user("grace", password=PASSWORD)
    attempts = [
        api_client.post("/api/auth/login", {"username": "grace", "password": f"guess{i}"}, format="json")
        for i in range(21)
    ]

    assert [r.status_code for r in attempts[:20]] == [401] * 20
    assert attempts[20].status_code == 429
    assert attempts[20].json()["error"]["code"] == "throttled"
    assert int(attempts[20].headers["Retry-After"]) > 0
    # Even the right password waits until the window has passed.
    right = api_client.post("/api/auth/login", {"username": "grace", "password": PASSWORD}, format="json")
    assert right.status_code == 429


def test_a_forged_forwarded_for_header_does_not_dodge_the_limit(api_client):
    statuses = [
        api_client.post(
            "/api/auth/login",
            {"username": "nobody", "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
        ).status_code
        for i in range(21)
    ]

    assert statuses[-1] == 429


def test_refreshing_the_token_of_a_deleted_user_is_401(api_client):
    pair = register(api_client).json()
    get_user_model().objects.get(username="ada").delete()

    response = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_refreshing_the_token_of_a_deactivated_user_is_401(api_client):
    pair = register(api_client).json()
    get_user_model().objects.filter(username="ada").update(is_active=False)

    response = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


@pytest.mark.parametrize("authorization", ["Bearer abc.def.ghi", "Bearer", "Basic Zm9vOmJhcg=="])
def test_logout_ignores_a_bad_authorization_header(api_client, authorization):
    pair = register(api_client).json()
    api_client.credentials(HTTP_AUTHORIZATION=authorization)

    response = api_client.post("/api/auth/logout", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204


def test_logout_ignores_the_access_token_of_a_deleted_user(api_client):
    pair = register(api_client).json()
    get_user_model().objects.get(username="ada").delete()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")

    response = api_client.post("/api/auth/logout", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204


SPACED_PASSWORD = "  spaced pass 123  "


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/token/"])
def test_a_password_with_surrounding_spaces_logs_in_exactly_as_signed_up(api_client, path):
    assert register(api_client, password=SPACED_PASSWORD).status_code == 201

    exact = api_client.post(path, {"username": "ada", "password": SPACED_PASSWORD}, format="json")
    trimmed = api_client.post(path, {"username": "ada", "password": SPACED_PASSWORD.strip()}, format="json")

    assert exact.status_code == 200
    assert set(exact.json()) == {"access", "refresh"}
    assert trimmed.status_code == 401
    assert trimmed.json()["error"]["code"] == "no_active_account"
