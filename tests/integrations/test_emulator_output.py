"""The emulators' answers read well in a terminal (`curl`): text as it is, not \\u escapes, and a
final newline so the next prompt starts on its own line."""

import json
import uuid

import httpx

from events_face.launcher import emulator_start

TOKEN = "emulator-output-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_the_notifications_emulator_shows_cyrillic_as_it_is_and_ends_with_a_newline():
    emulator = emulator_start("notifications", "--token", TOKEN, "--seed", "1")
    try:
        message = "Здравствуйте, Ада! Ваш код подтверждения: 482913"
        body = {
            "id": str(uuid.uuid4()),
            "owner_id": str(uuid.uuid4()),
            "email": "ada@example.com",
            "message": message,
        }
        with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
            created = http.post("/api/notifications", json=body, headers=AUTH)
            listed = http.get("/api/notifications", headers=AUTH)
    finally:
        emulator.stop()

    assert created.status_code == 201 and created.content.endswith(b"}\n")
    assert listed.content.endswith(b"]\n")
    assert message.encode() in listed.content
    assert b"\\u04" not in listed.content
    assert json.loads(listed.content)


def test_the_provider_emulator_ends_its_answers_with_a_newline():
    emulator = emulator_start("provider", "--token", TOKEN, "--events", "3", "--seed", "1")
    try:
        with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
            page = http.get("/api/events/", headers=AUTH)
            refused = http.get("/api/events/")
    finally:
        emulator.stop()

    assert page.status_code == 200 and page.content.endswith(b"]}\n")
    assert len(page.json()["results"]) == 3
    assert refused.status_code == 401 and refused.content.endswith(b"}\n")
