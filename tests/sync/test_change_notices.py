"""Change notices: a sync that moves an event, changes its venue or cancels it tells every
active registrant once, in the page's transaction, in the registrant's language."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events_face.events.lifecycle import registration_cancel
from events_face.events.models import Event, Registration
from events_face.events.notifications import EVENT_CHANGED_TOPIC
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_registration
from tests.support.sync import page_apply

pytestmark = pytest.mark.django_db

EVENT_ID = uuid.UUID(int=1)
START = timezone.now().replace(microsecond=0) + timedelta(days=20)


def record(**changes) -> dict:
    fields = {
        "id": str(EVENT_ID),
        "name": "Workshop",
        "place": {"id": str(uuid.UUID(int=1001)), "name": "Hall A"},
        "event_time": START.isoformat(),
        "registration_deadline": None,
        "status": "published",
        "changed_at": "2026-11-01T10:00:00+00:00",
    }
    return {**fields, **changes}


def later(**changes) -> dict:
    return record(changed_at="2026-11-02T10:00:00+00:00", **changes)


def notices() -> list[dict]:
    return [message.payload for message in OutboxMessage.objects.filter(topic=EVENT_CHANGED_TOPIC)]


@pytest.fixture
def registrants():
    """An event of capacity 2: two confirmed, one waitlisted (in Russian), one cancelled."""
    page_apply(record())
    Event.objects.filter(pk=EVENT_ID).update(capacity=2)
    confirmed = [make_registration(event_id=EVENT_ID, full_name=f"Ada {n}") for n in range(2)]
    waiting = make_registration(event_id=EVENT_ID, full_name="Ада", language="ru", waitlist=True)
    gone = make_registration(event_id=EVENT_ID, waitlist=True)
    registration_cancel(registration_id=gone.id, user=gone.user)
    return [*confirmed, waiting]


def test_a_moved_event_notifies_every_active_registrant_once(registrants):
    page_apply(later(event_time=(START + timedelta(days=1)).isoformat()))
    page_apply(later(event_time=(START + timedelta(days=1)).isoformat()))  # the same page again

    sent = notices()
    assert sorted(notice["email"] for notice in sent) == sorted(r.email for r in registrants)
    english = next(notice for notice in sent if notice["email"] == registrants[0].email)
    assert english["message"].startswith("Hello, Ada 0! Workshop now takes place on ")
    russian = next(notice for notice in sent if notice["email"] == registrants[2].email)
    assert russian["message"].startswith("Здравствуйте, Ада! Событие «Workshop» теперь состоится ")


def test_a_new_venue_is_named(registrants):
    page_apply(later(place={"id": str(uuid.UUID(int=2002)), "name": "Hall B"}))

    assert {notice["message"] for notice in notices() if notice["email"] == registrants[0].email} == {
        "Hello, Ada 0! Workshop now takes place at Hall B."
    }


def test_a_cancellation_says_so(registrants):
    page_apply(later(status="cancelled"))
    page_apply(record(changed_at="2026-11-03T10:00:00+00:00", status="cancelled", name="Workshop (off)"))

    assert len(notices()) == len(registrants)  # the later rename of a cancelled event tells nobody
    assert all(
        notice["message"].endswith("Workshop is cancelled.")
        for notice in notices()
        if "Ada 0" in notice["message"]
    )


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Workshop II"},
        {"registration_deadline": START.isoformat()},
        {"status": "registration_closed"},
    ],
    ids=["name", "deadline", "status"],
)
def test_other_changes_send_nothing(registrants, change):
    page_apply(later(**change))

    assert notices() == []


def test_a_move_clears_the_reminders_so_they_come_again(registrants):
    Registration.objects.update(reminded_at=timezone.now())

    page_apply(later(event_time=(START + timedelta(days=1)).isoformat()))

    assert not Registration.objects.filter(reminded_at__isnull=False).exists()


def test_notices_to_many_registrants_cost_the_page_a_few_statements():
    page_apply(record())
    Registration.objects.bulk_create(
        [
            Registration(
                event_id=EVENT_ID,
                full_name=f"Guest {n}",
                email=f"guest{n}@example.com",
                confirmation_code=f"{n:06d}",
            )
            for n in range(3000)
        ]
    )

    with CaptureQueriesContext(connection) as queries:
        page_apply(later(event_time=(START + timedelta(days=1)).isoformat()))

    assert len(notices()) == 3000
    assert len(queries) < 40, [query["sql"][:80] for query in queries]
