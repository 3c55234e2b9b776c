"""Registration abuse: a per-user rate limit, and names that cannot smuggle control characters.

The rate is REGISTRATION_THROTTLE_RATE per user; `full_name` refuses Unicode
categories Cc and Cf (and line/paragraph separators), so nothing like
"Eve\\r\\nBcc: ..." or a right-to-left override reaches a notification.
"""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import bearer, make_event, make_user
from tests.support.processes import PROJECT_DIR

pytestmark = pytest.mark.django_db


def register(client, event, full_name="Ada Lovelace", email="ada@example.com"):
    return client.post(
        f"/api/events/{event.id}/register/", {"full_name": full_name, "email": email}, format="json"
    )


def test_one_user_registering_too_fast_is_throttled_with_retry_after(auth_client):
    allowed, _period = ScopedRateThrottle().parse_rate(
        settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["registration"]
    )
    event = make_event()

    responses = [register(auth_client, event, email=f"victim+{i}@example.com") for i in range(allowed + 1)]

    assert [r.status_code for r in responses[:allowed]] == [201] * allowed
    throttled = responses[allowed]
    assert throttled.status_code == 429
    assert set(throttled.json()) == {"error"}
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled.headers["Retry-After"]) > 0
    assert OutboxMessage.objects.count() == allowed


def test_the_registration_limit_counts_per_user_not_per_address(auth_client):
    allowed, _period = ScopedRateThrottle().parse_rate(
        settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["registration"]
    )
    event = make_event()
    for i in range(allowed + 1):
        register(auth_client, event, email=f"first+{i}@example.com")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=bearer(make_user()))

    response = register(other, event, email="second@example.com")

    assert response.status_code == 201


def test_the_default_registration_rate_is_twenty_a_minute():
    # A fresh process, without REGISTRATION_THROTTLE_RATE, so the default is what is read.
    environment = {name: value for name, value in os.environ.items() if name != "REGISTRATION_THROTTLE_RATE"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from events_face.config import settings; "
            "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['registration'])",
        ],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.strip() == "20/min", result.stderr


@pytest.mark.parametrize(
    "full_name",
    [
        "Eve\r\nBcc: all@example.com",
        "Eve\nMallory",
        "Eve\x07",
        "Eve\x1b[31m",
        "Eve\x7f",
        "Eve\x85x",
        "Eve\u202eecilA",
        *[f"Eve{chr(code)}x" for code in range(0x202A, 0x202F)],
        *[f"Eve{chr(code)}x" for code in range(0x2066, 0x206A)],
        "Eve\u200bx",
        "Eve\ufeffx",
        "Eve\u00adx",
        "Eve\u2028Bcc: x",
        "Eve\u2029x",
    ],
)
def test_a_full_name_with_control_or_format_characters_is_rejected(auth_client, full_name):
    event = make_event()

    response = register(auth_client, event, full_name=full_name)

    assert response.status_code == 400, full_name
    assert set(response.json()["error"]["fields"]) == {"full_name"}
    assert not Registration.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "full_name",
    [
        "Ada Lovelace",
        "Zoë O'Brien-Smith",
        "Ngũgĩ wa Thiong’o",
        "Σωκράτης Παπαδόπουλος",
        "Владимир Набоков",
        "李小龍",
        "山田 太郎",
        "김민준",
        "محمد بن موسى الخوارزمي",
        "דוד בן-גוריון",
        "देवनागरी लिपि",
        "Nguyễn Thị Minh Khai",
        "Søren Kierkegaard",
    ],
)
def test_a_full_name_in_any_script_is_kept(auth_client, full_name):
    event = make_event()

    response = register(auth_client, event, full_name=full_name)

    assert response.status_code == 201, response.json()
    assert response.json()["full_name"] == full_name
    assert Registration.objects.get().full_name == full_name


def test_a_full_name_is_stored_without_surrounding_whitespace(auth_client):
    event = make_event()

    response = register(auth_client, event, full_name=" \t Ada Lovelace \u00a0 ")

    assert response.status_code == 201
    assert Registration.objects.get().full_name == "Ada Lovelace"
    assert OutboxMessage.objects.get().payload["message"].startswith("Hello, Ada Lovelace! ")


def test_a_full_name_of_only_whitespace_is_rejected(auth_client):
    response = register(auth_client, make_event(), full_name=" \t\u3000 ")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"full_name"}


# One mailbox, one registration: the domain is stored in its IDNA ASCII form
# (events/email_address.py), so its spellings collide in the unique constraint.
ONE_MAILBOX = ["user@bücher.de", "user@xn--bcher-kva.de", "user@bu\u0308cher.de", "User@BÜCHER.DE"]


def test_spellings_of_one_mailbox_register_once(auth_client):
    event = make_event()

    responses = [register(auth_client, event, email=email) for email in ONE_MAILBOX]

    assert [r.status_code for r in responses] == [201] + [409] * (len(ONE_MAILBOX) - 1)
    assert {r.json()["error"]["code"] for r in responses[1:]} == {"already_registered"}
    assert Registration.objects.get().email == "user@xn--bcher-kva.de"
    assert OutboxMessage.objects.get().payload["email"] == "user@xn--bcher-kva.de"


@pytest.mark.parametrize(
    "email",
    [
        '"\x1b]0;pwned\x07"@example.com',  # terminal escape in a quoted local part
        '"\x1b[31mred"@example.com',
        '"a\x7fb"@example.com',
        "a@exa\u200bmple.com",  # zero-width space (Cf) in the domain
        "a@exa\u00admple.com",  # soft hyphen (Cf)
    ],
)
def test_an_address_with_control_or_format_characters_is_rejected(auth_client, email):
    response = register(auth_client, make_event(), email=email)

    assert response.status_code == 400, response.json()
    assert set(response.json()["error"]["fields"]) == {"email"}
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "email",
    [
        "x@localhost",
        "x@[127.0.0.1]",
        "x@printer.local",
        "x@app.localhost",
        "x@mail.test",
        "x@nothing.invalid",
        "x@shop.example",
        "x@corp.internal",
        "x@router.home.arpa",
    ],
)
def test_an_address_without_a_public_domain_is_rejected_with_its_own_code(auth_client, email):
    response = register(auth_client, make_event(), email=email)

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "email_domain_not_public"
    assert set(response.json()["error"]["fields"]) == {"email"}
    assert not Registration.objects.exists()


@pytest.mark.parametrize("email", ["ada@example.com", "ada@пример.рф", "o'brien+events@mail.example.co.uk"])
def test_public_addresses_are_accepted(auth_client, email):
    response = register(auth_client, make_event(), email=email)

    assert response.status_code == 201, response.json()
