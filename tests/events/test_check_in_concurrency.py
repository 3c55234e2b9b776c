"""Many scans of one code at once, against a live server and a real database: exactly one checks in."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import httpx
import pytest
from django.utils import timezone

from events_face.events.models import Registration
from tests.support.factories import bearer, make_check_in_staff, make_event, make_registration

pytestmark = pytest.mark.django_db(transaction=True)

SCANS = 12


def test_simultaneous_scans_of_one_code_check_in_exactly_once(live_server):
    registration = make_registration(
        event_id=make_event(event_time=timezone.now() + timedelta(hours=1), registration_deadline=None).id
    )
    staff = []
    for _ in range(3):  # several doors
        staff.append(bearer(make_check_in_staff()))
    url = f"{live_server.url}/api/events/{registration.event_id}/check-in/"
    barrier = Barrier(SCANS)

    def scan(n: int) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(
                url, json={"code": registration.confirmation_code}, headers={"Authorization": staff[n % 3]}
            )

    with ThreadPoolExecutor(max_workers=SCANS) as pool:
        responses = list(pool.map(scan, range(SCANS)))

    assert sorted(response.status_code for response in responses) == [200] + [409] * (SCANS - 1)
    (success,) = [response.json() for response in responses if response.status_code == 200]
    refusals = [response.json()["error"] for response in responses if response.status_code == 409]
    assert {refusal["code"] for refusal in refusals} == {"already_checked_in"}
    assert all(refusal["registration"] == success for refusal in refusals)
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == 1
