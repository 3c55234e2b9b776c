"""The provider emulator keeps the contract (../shared/contracts/events-provider.md) over real HTTP."""

import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest

from events_face.launcher import emulator_start
from events_face.sync.records import event_record_parse

TOKEN = "emulator-test-token"


@pytest.fixture
def start():
    started = []

    def start(*args: str):
        emulator = emulator_start("provider", "--token", TOKEN, *args)
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


def client() -> httpx.Client:
    return httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)


def every_page(emulator, **params) -> list[dict]:
    pages, url = [], f"{emulator.base_url}/api/events/"
    with client() as http:
        while url:
            response = http.get(url, params=params or None)
            assert response.status_code == 200
            pages.append(response.json())
            url, params = pages[-1]["next"], None
    return pages


def records_of(pages) -> list[dict]:
    return [record for page in pages for record in page["results"]]


def order_key(record):
    return (datetime.fromisoformat(record["changed_at"]), record["id"])


def test_without_the_bearer_token_the_answer_is_401(start):
    emulator = start("--events", "5")
    url = f"{emulator.base_url}/api/events/"

    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": TOKEN}).status_code == 401


def test_cursor_pages_cover_every_event_once_in_changed_at_then_id_order(start):
    emulator = start("--events", "95", "--page-size", "20")

    pages = every_page(emulator)

    assert [len(page["results"]) for page in pages] == [20, 20, 20, 20, 15]
    assert all(page["previous"] is None for page in pages)
    assert all(page["next"].startswith(emulator.base_url + "/api/events/?cursor=") for page in pages[:-1])
    assert pages[-1]["next"] is None
    records = records_of(pages)
    assert len({record["id"] for record in records}) == 95
    assert records == sorted(records, key=order_key)


def test_every_record_keeps_the_contract_and_the_data_is_varied(start):
    emulator = start("--events", "400", "--page-size", "100")

    records = records_of(every_page(emulator))

    for record in records:
        event_record_parse(record)  # raises on any contract violation
    statuses = Counter(record["status"] for record in records)
    assert set(statuses) == {"new", "published", "registration_closed", "finished", "cancelled"}
    assert any(record["place"] is None for record in records)
    assert any(record["registration_deadline"] is None for record in records)
    assert any({"city", "address", "seats_pattern"} <= set(record["place"] or {}) for record in records)
    assert any("number_of_visitors" in record for record in records)
    now = datetime.now().astimezone()
    times = [datetime.fromisoformat(record["event_time"]) for record in records]
    assert min(times) < now - timedelta(days=14) and max(times) > now + timedelta(days=30)
    places = Counter(record["place"]["id"] for record in records if record["place"])
    assert max(places.values()) > 1, "venues are shared between events"


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(start):
    first = records_of(every_page(start("--events", "30", "--seed", "5", "--today", "2025-06-01")))
    again = records_of(every_page(start("--events", "30", "--seed", "5", "--today", "2025-06-01")))
    other = records_of(every_page(start("--events", "30", "--seed", "6", "--today", "2025-06-01")))

    assert first == again
    assert {r["id"] for r in first}.isdisjoint({r["id"] for r in other})


def test_changed_at_returns_events_changed_on_that_date_or_later_inclusive(start):
    emulator = start("--events", "120", "--page-size", "25", "--today", "2025-06-01")
    records = records_of(every_page(emulator))
    day = datetime.fromisoformat(records[60]["changed_at"]).date()  # provider-local date

    filtered = records_of(every_page(emulator, changed_at=day.isoformat()))

    expected = [r for r in records if datetime.fromisoformat(r["changed_at"]).date() >= day]
    assert filtered == expected
    assert datetime.fromisoformat(filtered[0]["changed_at"]).date() == day


def test_next_keeps_the_changed_at_filter(start):
    emulator = start("--events", "60", "--page-size", "10", "--today", "2025-06-01")
    with client() as http:
        page = http.get(f"{emulator.base_url}/api/events/", params={"changed_at": "2025-04-20"}).json()
    assert "changed_at=2025-04-20" in page["next"] and "cursor=" in page["next"]


def test_malformed_query_is_a_400(start):
    emulator = start("--events", "5")
    with client() as http:
        assert http.get(f"{emulator.base_url}/api/events/?changed_at=yesterday").status_code == 400
        assert http.get(f"{emulator.base_url}/api/events/?cursor=%%%").status_code == 400


def test_changed_events_move_to_the_end_with_todays_changed_at_and_added_ones_appear(start):
    emulator = start("--events", "20", "--page-size", "50")
    before = records_of(every_page(emulator))
    target = before[0]["id"]

    changed = httpx.post(
        f"{emulator.base_url}/_control/events", json={"change_ids": [target], "add": 2}
    ).json()["events"]

    after = records_of(every_page(emulator))
    assert len(after) == 22 and [r["id"] for r in after].count(target) == 1
    # Changed at the same moment, the three are ordered by id, after everything else.
    assert {r["id"] for r in after[-3:]} == {r["id"] for r in changed} >= {target}
    today = datetime.now().astimezone(datetime.fromisoformat(changed[0]["changed_at"]).tzinfo).date()
    recent = records_of(every_page(emulator, changed_at=today.isoformat()))
    assert [r["id"] for r in recent] == [r["id"] for r in sorted(changed, key=order_key)]


def test_requests_are_recorded_with_their_query(start):
    emulator = start("--events", "25", "--page-size", "10")
    every_page(emulator, changed_at="2025-01-02")
    httpx.get(f"{emulator.base_url}/api/events/")

    requests = httpx.get(f"{emulator.base_url}/_control/requests").json()["requests"]

    assert [r["status"] for r in requests] == [200, 200, 200, 401]
    assert requests[0]["query"] == "changed_at=2025-01-02"
    assert all(r["path"] == "/api/events/" for r in requests)


def test_scripted_faults_500_429_with_retry_after_and_non_json(start):
    emulator = start("--events", "5")
    httpx.post(
        f"{emulator.base_url}/_control/faults",
        json={
            "script": [
                {"after": 0, "times": 1, "status": 500},
                {"after": 1, "times": 1, "status": 429, "retry_after": 3},
                {"after": 2, "times": 1, "body": "not_json"},
            ]
        },
    )
    with client() as http:
        url = f"{emulator.base_url}/api/events/"
        first, second, third, fourth = (http.get(url) for _ in range(4))

    assert first.status_code == 500
    assert second.status_code == 429 and second.headers["Retry-After"] == "3"
    assert third.status_code == 200 and third.headers["Content-Type"] == "text/html"
    with pytest.raises(ValueError):
        third.json()
    assert fourth.status_code == 200 and len(fourth.json()["results"]) == 5


def test_latency_slows_every_data_request(start):
    emulator = start("--events", "5", "--latency", "0.3")
    with client() as http:
        started = time.monotonic()
        http.get(f"{emulator.base_url}/api/events/")
        assert time.monotonic() - started >= 0.3


def test_a_fraction_of_records_is_served_malformed_and_reported(start):
    emulator = start("--events", "200", "--page-size", "200", "--malformed-fraction", "0.1")

    records = records_of(every_page(emulator))
    malformed = set(httpx.get(f"{emulator.base_url}/_control/state").json()["malformed_ids"])

    broken = []
    for record in records:
        try:
            event_record_parse(record)
        except ValueError:
            broken.append(record)
    assert 5 < len(broken) < 40 and len(broken) == len(malformed)
    valid_ids = {r["id"] for r in records if r not in broken}
    assert valid_ids.isdisjoint(malformed)


def test_ids_are_uuids_and_stable_across_pages(start):
    emulator = start("--events", "30", "--page-size", "7")
    first = [r["id"] for r in records_of(every_page(emulator))]
    second = [r["id"] for r in records_of(every_page(emulator))]
    assert first == second
    assert all(uuid.UUID(event_id) for event_id in first)
