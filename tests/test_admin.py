"""The admin lists, searches and filters; what staff may change: a capacity, a registrant, a requeue."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from events_face.events.models import Registration
from events_face.events.services import registration_create
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event, make_outbox_message, make_venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def registration(user):
    event = make_event(name="Workshop", venue=make_venue(name="Hall A"))
    registration, _ = registration_create(
        event_id=event.id, user=user, full_name="Ada", email="ada@example.com"
    )
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


def test_an_events_capacity_is_editable_and_the_providers_fields_are_not(staff_client):
    event = make_event(name="Workshop", capacity=None)

    response = staff_client.post(
        f"/admin/events/event/{event.pk}/change/",
        {"capacity": "30", "name": "Renamed", "status": "cancelled"},
    )

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.capacity, event.name, event.status) == (30, "Workshop", "published")


def test_requeueing_outbox_messages_needs_the_change_permission(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw-for-tests-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client.force_login(viewer)
    failed = make_outbox_message(failed_at=timezone.now())

    page = client.get("/admin/outbox/outboxmessage/")
    client.post(
        "/admin/outbox/outboxmessage/", {"action": "requeue_failed", "_selected_action": [str(failed.pk)]}
    )

    assert page.status_code == 200
    assert b"requeue_failed" not in page.content
    assert OutboxMessage.objects.get(pk=failed.pk).failed_at is not None
