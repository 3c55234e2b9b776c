"""The admin lists, searches and filters every model; confirmation codes are read-only."""

import pytest

from events_face.events.models import Registration
from events_face.events.services import registration_create
from tests.support.factories import make_event, make_venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def registration(user):
    event = make_event(name="Workshop", venue=make_venue(name="Hall A"))
    registration, _ = registration_create(event_id=event.id, user=user, full_name="Ada", email="ada@example.com")
    return registration


@pytest.mark.parametrize(
    "url",
    [
        "/admin/events/venue/?q=Hall",
        "/admin/events/event/?q=Work&status__exact=published",
        "/admin/events/registration/?q=ada",
        "/admin/outbox/outboxmessage/?sent__exact=0",
        "/admin/outbox/outboxmessage/?q=ada",
        "/admin/sync/syncrun/",
    ],
)
def test_changelists_search_and_filter(staff_client, registration, url):
    response = staff_client.get(url)

    assert response.status_code == 200


def test_the_confirmation_code_is_shown_but_not_editable(staff_client, registration):
    response = staff_client.get(f"/admin/events/registration/{registration.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert registration.confirmation_code in html
    assert 'name="confirmation_code"' not in html


def test_editing_a_registration_keeps_its_code(staff_client, registration):
    code = registration.confirmation_code

    staff_client.post(
        f"/admin/events/registration/{registration.pk}/change/",
        {
            "event": registration.event_id,
            "user": registration.user_id,
            "full_name": "Ada L.",
            "email": "ada@example.com",
            "confirmation_code": "000000",
        },
    )

    registration = Registration.objects.get()
    assert registration.full_name == "Ada L."
    assert registration.confirmation_code == code
