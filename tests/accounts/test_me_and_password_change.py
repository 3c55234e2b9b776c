"""`GET /api/auth/me` shows the caller's account; `POST /api/auth/password/` changes the password
(Django's validators), ends every other session (their refresh tokens are blacklisted) and gives the
caller a new pair. Through HTTP, on a real database."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.support.factories import client_with_token, make_user

PASSWORD = "correct-horse-battery-9"  # make_user's
NEW_PASSWORD = "a-new-and-longer-passphrase-7"


def login(client: APIClient, username: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/auth/login", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.mark.django_db
def test_me_shows_the_callers_account(api_client):
    user = make_user("ada")
    pair = login(api_client, "ada")

    response = client_with_token(pair["access"]).get("/api/auth/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": "ada",
        "email": "ada@example.com",
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }


@pytest.mark.django_db
def test_me_shows_null_for_an_account_without_an_email(api_client):
    get_user_model().objects.create_user(username="root", password=PASSWORD)

    response = client_with_token(login(api_client, "root")["access"]).get("/api/auth/me/")

    assert response.json()["email"] is None


@pytest.mark.django_db
def test_me_needs_a_token(api_client):
    response = api_client.get("/api/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_a_password_change_ends_every_other_session_and_keeps_the_callers(api_client):
    make_user("ada")
    laptop, phone = login(api_client, "ada"), login(api_client, "ada")

    response = client_with_token(phone["access"]).post(
        "/api/auth/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    for old in (laptop, phone):
        refused = api_client.post("/api/auth/token/refresh/", {"refresh": old["refresh"]}, format="json")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "token_not_valid"
    assert (
        api_client.post("/api/auth/token/refresh/", {"refresh": fresh["refresh"]}, format="json").status_code
        == 200
    )
    assert client_with_token(fresh["access"]).get("/api/auth/me").status_code == 200
    # The new password logs in; the old one no longer does.
    login(api_client, "ada", NEW_PASSWORD)
    old_login = api_client.post("/api/auth/login", {"username": "ada", "password": PASSWORD}, format="json")
    assert old_login.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, message", [(None, "The current password is wrong."), ("ru", "Текущий пароль неверен.")]
)
def test_a_wrong_current_password_changes_nothing(api_client, language, message):
    make_user("ada")
    pair = login(api_client, "ada")
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}

    response = client_with_token(pair["access"]).post(
        "/api/auth/password/",
        {"old_password": "wrong", "new_password": NEW_PASSWORD},
        format="json",
        **headers,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_password"
    assert response.json()["error"]["fields"] == {"old_password": [message]}
    assert (
        api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code
        == 200
    )


@pytest.mark.django_db
@pytest.mark.parametrize("new_password", ["short1", "password", "12345678901", "ada-example-com"])
def test_a_weak_new_password_is_refused_with_djangos_validators(api_client, new_password):
    make_user("ada")
    pair = login(api_client, "ada")

    response = client_with_token(pair["access"]).post(
        "/api/auth/password/", {"old_password": PASSWORD, "new_password": new_password}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["fields"]["new_password"]
    login(api_client, "ada")  # the old password still works


@pytest.mark.django_db
def test_a_password_change_needs_both_fields_and_a_token(api_client):
    make_user("ada")
    client = client_with_token(login(api_client, "ada")["access"])

    missing = client.post("/api/auth/password/", {}, format="json")
    anonymous = api_client.post(
        "/api/auth/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )

    assert missing.status_code == 400
    assert set(missing.json()["error"]["fields"]) == {"old_password", "new_password"}
    assert anonymous.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_a_password_change_leaves_no_old_session(live_server):
    """Each request in its own server thread and connection: only the row lock orders them."""
    make_user("ada")
    base = live_server.url
    sessions = [
        httpx.post(f"{base}/api/auth/login", json={"username": "ada", "password": PASSWORD}).json()
        for _ in range(4)
    ]
    barrier = Barrier(len(sessions) + 1)

    def refresh(session) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(f"{base}/api/auth/token/refresh/", json={"refresh": session["refresh"]})

    def change() -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(
                f"{base}/api/auth/password/",
                json={"old_password": PASSWORD, "new_password": NEW_PASSWORD},
                headers={"Authorization": f"Bearer {sessions[0]['access']}"},
            )

    with ThreadPoolExecutor(max_workers=len(sessions) + 1) as pool:
        changed = pool.submit(change)
        refreshed = list(pool.map(refresh, sessions))

    assert changed.result().status_code == 200
    survivors = [changed.result().json()["refresh"]]
    survivors += [r.json()["refresh"] for r in refreshed if r.status_code == 200]
    # Whatever order the database chose, only the password change's own pair still refreshes.
    answers = [
        httpx.post(f"{base}/api/auth/token/refresh/", json={"refresh": token}).status_code
        for token in survivors
    ]
    assert answers == [200] + [401] * (len(survivors) - 1)
