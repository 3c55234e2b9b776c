"""Simultaneous refreshes of one refresh token against a live server and a real database.

Each request runs in its own server thread with its own connection, so only
the database can decide which refresh wins: blacklisting the old token is an
insert that one transaction alone can make.
"""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.support.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 8
PASSWORD = "correct-horse-battery-9"


def refresh_together(url: str, refresh: str) -> list[httpx.Response]:
    barrier = Barrier(CLIENTS)

    def post(_) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(url, json={"refresh": refresh})

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(post, range(CLIENTS)))


def test_exactly_one_of_simultaneous_refreshes_of_one_token_succeeds(live_server):
    make_user("ada", password=PASSWORD)
    pair = httpx.post(
        f"{live_server.url}/api/auth/login", json={"username": "ada", "password": PASSWORD}
    ).json()

    responses = refresh_together(f"{live_server.url}/api/auth/token/refresh/", pair["refresh"])

    assert sorted(r.status_code for r in responses) == [200] + [401] * (CLIENTS - 1)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 401} == {"token_not_valid"}
    # Only the winner's new refresh token was issued, and it is the only one that works.
    assert OutstandingToken.objects.count() == 2
    assert BlacklistedToken.objects.filter(token__token=pair["refresh"]).count() == 1
    child = next(r.json()["refresh"] for r in responses if r.status_code == 200)
    again = httpx.post(f"{live_server.url}/api/auth/token/refresh/", json={"refresh": child})
    assert again.status_code == 200


def test_a_refresh_racing_a_logout_of_the_same_token_cannot_both_succeed(live_server):
    make_user("ada", password=PASSWORD)
    pair = httpx.post(
        f"{live_server.url}/api/auth/login", json={"username": "ada", "password": PASSWORD}
    ).json()
    barrier = Barrier(2)

    def post(path: str) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(f"{live_server.url}{path}", json={"refresh": pair["refresh"]})

    with ThreadPoolExecutor(max_workers=2) as pool:
        refreshed, logged_out = pool.map(post, ["/api/auth/token/refresh/", "/api/auth/logout"])

    assert sorted([refreshed.status_code, logged_out.status_code]) in ([200, 401], [204, 401])
