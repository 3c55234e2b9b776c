"""Failed admin logins lock out one username from one address; nobody else, and never the API."""

import io
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core.management import call_command

from tests.support.factories import make_staff_user, make_user

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
ADMIN_DESK = "198.51.100.7"
ROOT_PASSWORD = "pw-for-tests-1"  # make_staff_user's
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def root(db):
    return make_staff_user()


def admin_login(client, username: str, password: str, address: str = ATTACKER, **headers):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address, **headers
    )


def lock_out(client, username: str = "root", address: str = ATTACKER):
    """Fail the admin login as often as the limit allows; the last answer is the lockout."""
    answers = [
        admin_login(client, username, f"guess-{i}", address)
        for i in range(django_settings.AXES_FAILURE_LIMIT)
    ]
    assert [a.status_code for a in answers[:-1]] == [200] * (len(answers) - 1)
    return answers[-1]


def logged_in_to_the_admin(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_wrong_passwords_up_to_the_limit_lock_out_that_username_from_that_address(client, root):
    lockout = lock_out(client)

    assert lockout.status_code == 429
    assert lockout["Content-Type"].startswith("text/html")
    assert "Too many failed logins" in lockout.content.decode()
    assert "Try again in 15 min." in lockout.content.decode()


def test_while_locked_out_even_the_right_password_is_refused(client, root):
    lock_out(client)

    response = admin_login(client, "root", ROOT_PASSWORD)

    assert response.status_code == 429


def test_the_real_admin_at_another_address_still_logs_in(client, root):
    lock_out(client)

    response = admin_login(client, "root", ROOT_PASSWORD, address=ADMIN_DESK)

    assert logged_in_to_the_admin(response)
    assert client.get("/admin/").status_code == 200


def test_another_username_from_the_locked_out_address_still_logs_in(client, root, django_user_model):
    django_user_model.objects.create_superuser("ops", "ops@example.com", "ops-password-123")
    lock_out(client)

    response = admin_login(client, "ops", "ops-password-123")

    assert logged_in_to_the_admin(response)


def test_case_variants_of_a_username_count_as_one(client, root):
    for i in range(django_settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, ["ROOT", "Root", "rOOt"][i % 3], f"guess-{i}")

    response = admin_login(client, "root", "one-more-guess")

    assert response.status_code == 429


def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(client, root):
    for i in range(django_settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, "root", f"guess-{i}", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")

    response = admin_login(client, "root", "one-more-guess", HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert response.status_code == 429


def test_behind_a_proxy_the_address_the_proxy_saw_is_counted(client, root, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.1"
    lock_out_via_proxy = [
        admin_login(client, "root", f"guess-{i}", proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
        for i in range(django_settings.AXES_FAILURE_LIMIT)
    ]

    from_the_admin_desk = admin_login(client, "root", ROOT_PASSWORD, proxy, HTTP_X_FORWARDED_FOR=ADMIN_DESK)

    assert lock_out_via_proxy[-1].status_code == 429
    assert logged_in_to_the_admin(from_the_admin_desk)


def test_the_lockout_ends_after_the_cool_off(client, root):
    lock_out(client)
    # The cool-off has passed: the failures are older than AXES_COOLOFF_TIME.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )

    response = admin_login(client, "root", ROOT_PASSWORD)

    assert logged_in_to_the_admin(response)


def test_a_successful_login_starts_the_count_again(client, root):
    for i in range(django_settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, "root", f"guess-{i}")
    assert logged_in_to_the_admin(admin_login(client, "root", ROOT_PASSWORD))
    client.post("/admin/logout/")

    again = [admin_login(client, "root", f"guess-{i}") for i in range(django_settings.AXES_FAILURE_LIMIT - 1)]

    assert [a.status_code for a in again] == [200] * (django_settings.AXES_FAILURE_LIMIT - 1)


def test_failed_api_logins_answer_401_and_count_nothing_for_the_admin(api_client, root):
    answers = [
        api_client.post(
            "/api/auth/login",
            {"username": "root", "password": f"guess-{i}"},
            format="json",
            REMOTE_ADDR=ATTACKER,
        )
        for i in range(django_settings.AXES_FAILURE_LIMIT * 2)
    ]

    assert {a.status_code for a in answers} == {401}
    assert {a.json()["error"]["code"] for a in answers} == {"no_active_account"}
    assert not AccessAttempt.objects.exists()
    assert logged_in_to_the_admin(admin_login(api_client, "root", ROOT_PASSWORD))


def test_the_api_login_works_for_a_username_locked_out_of_the_admin(client, api_client, root):
    lock_out(client)

    right = api_client.post(
        "/api/auth/login",
        {"username": "root", "password": ROOT_PASSWORD},
        format="json",
        REMOTE_ADDR=ATTACKER,
    )
    wrong = api_client.post(
        "/api/auth/login", {"username": "root", "password": "guess"}, format="json", REMOTE_ADDR=ATTACKER
    )

    assert right.status_code == 200
    assert set(right.json()) == {"access", "refresh"}
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "no_active_account"


def test_an_ordinary_users_api_login_is_not_slowed_by_the_admin_lockout(api_client, client, root):
    make_user("grace", password="correct-horse-battery-9")
    lock_out(client, username="grace")

    response = api_client.post(
        "/api/auth/login",
        {"username": "grace", "password": "correct-horse-battery-9"},
        format="json",
        REMOTE_ADDR=ATTACKER,
    )

    assert response.status_code == 200


def test_axes_reset_lifts_a_lockout_at_once(client, root):
    lock_out(client)

    call_command("axes_reset", stdout=io.StringIO())

    assert logged_in_to_the_admin(admin_login(client, "root", ROOT_PASSWORD))
