"""Usernames and e-mail addresses identify one account each, whatever their case or Unicode form.

A username is stored NFKC-normalised and lowercased; an e-mail address
lowercased. Unique indexes on LOWER(username) and LOWER(email) in auth_user
(migration accounts/0001) decide between simultaneous sign-ups; login finds
the account the same way.
"""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from tests.support.factories import make_user

PASSWORD = "correct-horse-battery-9"
CLIENTS = 8

User = get_user_model()


def register(client, **overrides):
    body = {"username": "ada", "email": "ada@example.com", "password": PASSWORD, **overrides}
    return client.post("/api/auth/register", body, format="json")


def login(client, username, password=PASSWORD):
    return client.post("/api/auth/login", {"username": username, "password": password}, format="json")


def sign_up_together(url: str, bodies: list[dict]) -> list[httpx.Response]:
    barrier = Barrier(len(bodies))

    def post(body: dict) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(url, json=body)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


@pytest.mark.django_db(transaction=True)
def test_simultaneous_sign_ups_of_case_variants_make_exactly_one_account(live_server):
    names = ["EVEX", "evEx", "Evex", "eVEX", "evex", "EVEx", "ｅｖｅｘ", "ＥＶＥＸ"]
    bodies = [
        {"username": name, "email": f"evex{i}@example.com", "password": PASSWORD}
        for i, name in enumerate(names)
    ]

    responses = sign_up_together(f"{live_server.url}/api/auth/register", bodies)

    assert sorted(r.status_code for r in responses) == [201] + [400] * (CLIENTS - 1)
    for response in responses:
        if response.status_code == 400:
            assert response.json()["error"]["code"] == "username_taken"
            assert set(response.json()["error"]["fields"]) == {"username"}
    assert list(User.objects.values_list("username", flat=True)) == ["evex"]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_sign_ups_with_one_email_in_several_cases_make_exactly_one_account(live_server):
    bodies = [
        {
            "username": f"eve{i}",
            "email": "Eve@Example.com" if i % 2 else "eve@example.COM",
            "password": PASSWORD,
        }
        for i in range(CLIENTS)
    ]

    responses = sign_up_together(f"{live_server.url}/api/auth/register", bodies)

    assert sorted(r.status_code for r in responses) == [201] + [400] * (CLIENTS - 1)
    for response in responses:
        if response.status_code == 400:
            assert set(response.json()["error"]["fields"]) == {"email"}
    assert list(User.objects.values_list("email", flat=True)) == ["eve@example.com"]


@pytest.mark.django_db
def test_a_fullwidth_username_is_the_same_as_its_ascii_form(api_client):
    assert register(api_client, username="ada").status_code == 201

    response = register(api_client, username="ａｄａ", email="other@example.com")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"username"}
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed, stored", [("Ada", "ada"), ("ＡＤＡ", "ada"), ("Zoë", "zoë"), ("ÉLODIE", "élodie")]
)
def test_a_username_is_stored_normalised_and_lowercased(api_client, typed, stored):
    response = register(api_client, username=typed)

    assert response.status_code == 201
    assert User.objects.get().username == stored


@pytest.mark.django_db
def test_non_ascii_case_variants_are_one_username(api_client):
    assert register(api_client, username="Élodie").status_code == 201

    response = register(api_client, username="éLODIE", email="other@example.com")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"username"}


@pytest.mark.django_db
def test_a_username_that_normalises_to_forbidden_characters_is_rejected(api_client):
    # NFKC turns the vulgar fraction into "1⁄2", whose fraction slash is not allowed.
    response = register(api_client, username="ada½")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"username"}


@pytest.mark.django_db
def test_an_email_taken_in_another_case_is_rejected(api_client):
    assert register(api_client, email="Ada@Example.com").status_code == 201

    response = register(api_client, username="grace", email="ADA@example.COM")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "email_taken"
    assert set(response.json()["error"]["fields"]) == {"email"}


@pytest.mark.django_db
def test_an_email_longer_than_the_column_is_a_field_error(api_client):
    response = register(api_client, email=f"{'a' * 60}@{'b' * 60}.{'c' * 60}.{'d' * 60}.example.com")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"email"}


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["ada", "ADA", "Ada", "ａｄａ", "ＡＤＡ"])
def test_login_finds_the_account_in_any_case_and_width(api_client, typed):
    register(api_client, username="Ada")

    response = login(api_client, typed)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["Root", "root", "ROOT"])
def test_login_finds_an_account_created_elsewhere_with_capitals(api_client, typed):
    make_user("Root", password=PASSWORD)

    assert login(api_client, typed).status_code == 200


@pytest.mark.django_db
def test_login_with_a_wrong_password_in_another_case_is_still_401(api_client):
    register(api_client, username="ada")

    response = login(api_client, "ADA", password="not-the-password")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


@pytest.mark.django_db
def test_the_database_refuses_case_variants_written_past_the_api(api_client):
    make_user("Grace")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="GRACE", email="someone-else@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="hopper", email="GRACE@example.com")


@pytest.mark.django_db
def test_several_accounts_without_an_email_are_allowed(api_client):
    User.objects.create_user(username="first", email="")
    User.objects.create_user(username="second", email="")

    assert User.objects.filter(email="").count() == 2
