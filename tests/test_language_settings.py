"""LANGUAGE_CODE and NOTIFICATIONS_TIME_ZONE: checked at start-up, naming the variable to fix."""

import os
import subprocess

import pytest

from tests.support.processes import manage_run


def check(**environment: str) -> subprocess.CompletedProcess:
    return manage_run("check", env={**os.environ, **environment})


@pytest.mark.parametrize("value", ["de", "en-us", "russian"])
def test_a_language_code_the_service_does_not_speak_stops_it_and_is_named(value):
    result = check(LANGUAGE_CODE=value)

    assert result.returncode != 0
    assert "LANGUAGE_CODE" in result.stderr and "en, ru" in result.stderr


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "Europe", "../etc/passwd", "utc"])
def test_a_notifications_time_zone_that_is_not_one_stops_the_service_and_is_named(value):
    result = check(NOTIFICATIONS_TIME_ZONE=value)

    assert result.returncode != 0
    assert "NOTIFICATIONS_TIME_ZONE" in result.stderr


def test_russian_and_a_display_zone_are_accepted():
    result = check(LANGUAGE_CODE="ru", NOTIFICATIONS_TIME_ZONE="Europe/Moscow")

    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_language_code_is_the_language_of_requests_that_name_none_of_ours(api_client, settings):
    settings.LANGUAGE_CODE = "ru"

    for headers in [{}, {"HTTP_ACCEPT_LANGUAGE": "de"}]:
        response = api_client.get("/api/events/", **headers)

        assert response.json()["error"]["message"] == "Учетные данные не были предоставлены."
    english = api_client.get("/api/events/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["error"]["message"] == "Authentication credentials were not provided."


@pytest.mark.django_db
def test_without_accept_language_tests_see_english(api_client):
    # The suite's own guarantee (tests/conftest.py), whatever LANGUAGE_CODE a local .env sets.
    response = api_client.get("/api/events/")

    assert response.json()["error"]["message"] == "Authentication credentials were not provided."
