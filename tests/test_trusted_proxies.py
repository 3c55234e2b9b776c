"""TRUSTED_PROXIES: proxy headers are believed from the listed proxies only, by Django and gunicorn alike.

Before it, gunicorn believed X-Forwarded-Proto from 127.0.0.1 whatever the
settings said (its own `forwarded_allow_ips` default), so a local client could
claim HTTPS; and NUM_PROXIES=1 believed X-Forwarded-For from anyone, so a
client rotating that header escaped the rate limits and the admin lockout.
"""

import json
import secrets

import httpx
import pytest
from django.conf import settings as django_settings

from events_face.core.proxies import client_address, trusted_networks
from events_face.core.throttling import ScopedCacheThrottle
from events_face.launcher import gunicorn_start
from tests.support.polling import wait_until
from tests.support.processes import command_env

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"
CLIENT = "203.0.113.7"


def login(api_client, address: str, forwarded_for: str):
    return api_client.post(
        "/api/auth/login",
        {"username": "nobody", "password": "guess"},
        format="json",
        REMOTE_ADDR=address,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@pytest.fixture
def behind_a_proxy(settings, monkeypatch):
    settings.TRUSTED_PROXIES = [PROXY]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    # DRF reads the rates once, when the throttle class is made: AUTH_THROTTLE_RATE=3/min as a
    # process would have it, whichever test made the class first.
    monkeypatch.setitem(ScopedCacheThrottle.THROTTLE_RATES, "auth", "3/min")


def test_a_client_that_reaches_the_server_directly_cannot_dodge_the_limit_with_a_forged_header(
    api_client, behind_a_proxy
):
    answers = [login(api_client, "198.51.100.9", f"192.0.2.{i}").status_code for i in range(5)]

    assert answers == [401, 401, 401, 429, 429]


def test_behind_a_trusted_proxy_each_client_is_counted_by_the_address_the_proxy_saw(
    api_client, behind_a_proxy
):
    # What the client wrote itself (left of the proxy's entry) changes nothing.
    one_client = [login(api_client, PROXY, f"192.0.2.{i}, {CLIENT}").status_code for i in range(4)]
    another = login(api_client, PROXY, "198.51.100.20")

    assert one_client == [401, 401, 401, 429]
    assert another.status_code == 401


def test_the_client_is_the_rightmost_address_that_is_not_a_trusted_proxy():
    networks = trusted_networks(("10.0.0.0/24",))

    assert (
        client_address(
            {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.7, 10.0.0.9"}, networks
        )
        == CLIENT
    )
    assert (
        client_address({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "junk, 203.0.113.7"}, networks)
        == CLIENT
    )
    assert (
        client_address({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7, junk"}, networks)
        == "10.0.0.1"
    )
    assert client_address({"REMOTE_ADDR": "10.0.0.1"}, networks) == "10.0.0.1"


def test_with_trusted_proxies_the_deprecated_num_proxies_is_not_read():
    from tests.support.processes import command_env, manage_run

    result = manage_run(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.REST_FRAMEWORK['NUM_PROXIES'], settings.TRUSTED_PROXIES)",
        env=command_env(TRUSTED_PROXIES="10.0.0.1", NUM_PROXIES="2"),
    )

    assert result.stdout.strip().splitlines()[-1] == "0 ['10.0.0.1']", result.stderr


# --- gunicorn, as production runs it -------------------------------------------------------------


def production(**env: str) -> dict[str, str]:
    return {
        "WEB_CONCURRENCY": "1",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "true",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        **env,
    }


@pytest.fixture
def gunicorn(tmp_path):
    servers = []

    def start(**env: str):
        name = f"gunicorn-{len(servers)}"
        server = gunicorn_start(
            command_env(**production(**env)),
            tmp_path / f"{name}-access.log",
            error_log_path=tmp_path / f"{name}-error.log",
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_local_client_cannot_claim_https_when_no_proxy_is_trusted(gunicorn):
    server = gunicorn()

    claimed = httpx.get(f"{server.base_url}/api/events/", headers={"X-Forwarded-Proto": "https"}, timeout=60)

    assert claimed.status_code == 301 and claimed.headers["location"].startswith("https://")


@pytest.mark.django_db(transaction=True)
def test_a_trusted_proxy_says_https_and_who_the_client_is_also_in_gunicorns_access_log(gunicorn):
    server = gunicorn(TRUSTED_PROXIES="127.0.0.1")

    answer = httpx.get(
        f"{server.base_url}/api/events/",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT},
        timeout=60,  # the first request waits for the worker to boot
    )

    assert answer.status_code == 401  # past the HTTPS redirect: the API asks for a token
    lines = wait_until(
        lambda: [
            json.loads(line) for line in server.log_path.read_text().splitlines() if '"/api/events/"' in line
        ],
        timeout=30,
        message="the access log has the request",
    )
    assert lines[-1]["remote_addr"] == CLIENT


def test_the_settings_believe_no_proxy_by_default():
    assert django_settings.TRUSTED_PROXIES == []
    assert django_settings.SECURE_PROXY_SSL_HEADER is None
