"""The notifications-service emulator, run as `python -m events_face.integrations
notifications`, answers as ../shared/contracts/notifications.md says."""

import uuid
from collections.abc import Iterator

import httpx
import pytest

from events_face.launcher import Emulator, emulator_start

TOKEN = "emulator-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    running = emulator_start("notifications", "--token", TOKEN, "--seed", "1")
    yield running
    running.stop()


@pytest.fixture
def http(emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as client:
        yield client


def notification(**overrides) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "owner_id": str(uuid.uuid4()),
        "email": "ada@example.com",
        "message": "Hello, Ada Lovelace! Your confirmation code: 482913",
        **overrides,
    }


def post(http: httpx.Client, body, headers=AUTH) -> httpx.Response:
    return http.post("/api/notifications", json=body, headers=headers)


def control(http: httpx.Client, **changes) -> dict:
    response = http.post("/_control", json=changes)
    assert response.status_code == 200
    return response.json()


def test_a_valid_notification_is_accepted_with_201_and_listed(http):
    body = notification()

    response = post(http, body)

    assert response.status_code == 201
    assert response.json() == {"id": body["id"], "status": "accepted"}
    [kept] = http.get("/api/notifications").json()
    assert {key: kept[key] for key in body} == body
    assert "accepted_at" in kept


def test_a_repeated_id_gets_409_and_is_kept_once(http):
    body = notification()
    assert post(http, body).status_code == 201

    repeat = post(http, {**body, "message": "a different text"})

    assert repeat.status_code == 409
    assert repeat.json()["id"] == body["id"]
    assert [n["message"] for n in http.get("/api/notifications").json()] == [body["message"]]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["missing", "wrong token", "no scheme", "other scheme"],
)
def test_without_the_bearer_token_the_answer_is_401_and_nothing_is_kept(http, headers):
    response = post(http, notification(), headers=headers)

    assert response.status_code == 401
    assert http.get("/api/notifications").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (notification(id="not-a-uuid"), "id"),
        (notification(owner_id="owner"), "owner_id"),
        (notification(email="ada.example.com"), "email"),
        (notification(message=""), "message"),
        ({k: v for k, v in notification().items() if k != "email"}, "email"),
        (notification(cc="bob@example.com"), "cc"),
        ([notification()], "body"),
    ],
    ids=[
        "bad id",
        "bad owner",
        "bad email",
        "empty message",
        "missing email",
        "unknown field",
        "not an object",
    ],
)
def test_an_invalid_body_is_refused_with_400_naming_the_field(http, body, field):
    response = post(http, body)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert http.get("/api/notifications").json() == []


def test_a_body_that_is_not_json_is_refused_with_400(http):
    response = http.post("/api/notifications", content=b"{nope", headers=AUTH)
    assert response.status_code == 400


def test_many_requests_share_one_keep_alive_connection(emulator):
    with httpx.Client(base_url=emulator.base_url, limits=httpx.Limits(max_connections=1)) as client:
        responses = [post(client, notification()) for _ in range(20)]
        assert {r.status_code for r in responses} == {201}
        assert all(r.headers.get("connection") != "close" for r in responses)
    assert len(httpx.get(f"{emulator.base_url}/api/notifications").json()) == 20


# --- fault injection ---------------------------------------------------------------------------------


def test_injected_500s_keep_nothing(http):
    control(http, fail_rate=1.0)

    assert post(http, notification()).status_code == 500

    control(http, fail_rate=0.0)
    assert post(http, notification()).status_code == 201
    assert len(http.get("/api/notifications").json()) == 1
    assert control(http)["answers"] == {"500": 1, "201": 1}


def test_injected_429s_carry_retry_after(http):
    control(http, throttle_rate=1.0, retry_after=7)

    response = post(http, notification())

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_a_dropped_connection_loses_the_answer_but_the_notification_was_accepted(http, emulator):
    control(http, drop_rate=1.0)
    body = notification()

    with pytest.raises(httpx.RemoteProtocolError):
        post(http, body)

    control(http, drop_rate=0.0)
    assert post(http, body).status_code == 409
    assert [n["id"] for n in http.get("/api/notifications").json()] == [body["id"]]


def test_added_latency_delays_the_answer_past_a_short_timeout(http, emulator):
    control(http, latency_ms=2000)

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{emulator.base_url}/api/notifications", json=notification(), headers=AUTH, timeout=0.2)


def test_scripted_answers_are_given_in_order_then_normal_service_resumes(http):
    control(http, script=[{"status": 403, "body": {"error": "expired"}}, {"status": 422}])

    statuses = [post(http, notification()).status_code for _ in range(3)]

    assert statuses == [403, 422, 201]


def test_fault_rates_can_be_set_on_the_command_line():
    emulator = emulator_start("notifications", "--token", TOKEN, "--fail-rate", "1")
    try:
        response = httpx.post(f"{emulator.base_url}/api/notifications", json=notification(), headers=AUTH)
        assert response.status_code == 500
    finally:
        emulator.stop()


def test_reset_forgets_accepted_notifications_and_counts(http):
    body = notification()
    post(http, body)

    state = control(http, reset=True)

    assert state["accepted"] == 0 and state["answers"] == {}
    assert post(http, body).status_code == 201


def test_the_emulator_stops_cleanly_on_sigterm(emulator):
    emulator.process.terminate()
    assert emulator.process.wait(timeout=10) == 0
