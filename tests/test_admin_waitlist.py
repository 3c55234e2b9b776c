"""The waiting list in the admin: status filter and waiting position, the cancel action
(through the same service as an owner's cancellation), an event's counts next to its
capacity, and capacity changes that promote or, cut below the confirmed, remove nobody."""

import pytest

from events_face.events.models import Registration
from events_face.events.notifications import CANCELLATION_TOPIC, PROMOTION_TOPIC
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event, make_registration

pytestmark = pytest.mark.django_db


def full_event_with_waiting(*, capacity: int = 1, waiting: int = 2):
    event = make_event(capacity=capacity)
    confirmed = [make_registration(event_id=event.id) for _ in range(capacity)]
    waitlisted = [make_registration(event_id=event.id, waitlist=True) for _ in range(waiting)]
    return event, confirmed, waitlisted


def test_registrations_filter_by_status_and_show_the_waiting_position(staff_client):
    _event, confirmed, waitlisted = full_event_with_waiting()

    page = staff_client.get("/admin/events/registration/?status__exact=waitlisted")

    assert page.status_code == 200
    shown = list(page.context["cl"].result_list)
    assert {r.pk for r in shown} == {r.pk for r in waitlisted}
    assert sorted(r.waitlist_position for r in shown) == [1, 2]
    assert confirmed[0].email not in page.content.decode()
    assert "Waiting position" in page.content.decode()


def test_the_cancel_action_cancels_promotes_and_notifies(staff_client):
    event, confirmed, waitlisted = full_event_with_waiting()
    selected = [confirmed[0].pk, waitlisted[1].pk]

    response = staff_client.post(
        "/admin/events/registration/",
        {"action": "cancel_selected", "_selected_action": [str(pk) for pk in selected]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Registrations cancelled: 2 of 2 selected" in response.content.decode()
    statuses = {r.pk: r.status for r in Registration.objects.filter(event=event)}
    assert statuses == {
        confirmed[0].pk: "cancelled",
        waitlisted[0].pk: "confirmed",
        waitlisted[1].pk: "cancelled",
    }
    assert OutboxMessage.objects.filter(topic=CANCELLATION_TOPIC).count() == 2
    assert OutboxMessage.objects.get(topic=PROMOTION_TOPIC).payload["email"] == waitlisted[0].email

    # Again: nothing changes, nothing more is sent.
    staff_client.post(
        "/admin/events/registration/", {"action": "cancel_selected", "_selected_action": selected}
    )
    assert OutboxMessage.objects.filter(topic=CANCELLATION_TOPIC).count() == 2


def test_registrations_cannot_be_deleted_in_the_admin(staff_client):
    _event, confirmed, _waitlisted = full_event_with_waiting()

    assert staff_client.get(f"/admin/events/registration/{confirmed[0].pk}/delete/").status_code == 403
    assert Registration.objects.filter(pk=confirmed[0].pk).exists()


def test_an_events_page_shows_its_registrations_by_status_next_to_capacity(staff_client):
    event, confirmed, _waitlisted = full_event_with_waiting(capacity=2, waiting=1)
    staff_client.post(
        "/admin/events/registration/", {"action": "cancel_selected", "_selected_action": [confirmed[0].pk]}
    )

    page = staff_client.get(f"/admin/events/event/{event.pk}/change/")

    assert "2 confirmed / 0 waitlisted / 1 cancelled" in page.content.decode()


def test_raising_the_capacity_in_the_admin_promotes_the_waiting_in_order(staff_client):
    event, _confirmed, waitlisted = full_event_with_waiting(capacity=1, waiting=3)

    response = staff_client.post(f"/admin/events/event/{event.pk}/change/", {"capacity": "3"}, follow=True)

    assert "Registrations promoted from the waiting list: 2." in response.content.decode()
    assert [Registration.objects.get(pk=r.pk).status for r in waitlisted] == [
        "confirmed",
        "confirmed",
        "waitlisted",
    ]
    assert OutboxMessage.objects.filter(topic=PROMOTION_TOPIC).count() == 2


def test_clearing_the_capacity_promotes_everyone_waiting(staff_client):
    event, _confirmed, waitlisted = full_event_with_waiting(capacity=1, waiting=2)

    staff_client.post(f"/admin/events/event/{event.pk}/change/", {"capacity": ""})

    assert {Registration.objects.get(pk=r.pk).status for r in waitlisted} == {"confirmed"}


def test_lowering_the_capacity_below_the_confirmed_removes_nobody_and_says_so(staff_client):
    event, confirmed, waitlisted = full_event_with_waiting(capacity=3, waiting=1)

    response = staff_client.post(f"/admin/events/event/{event.pk}/change/", {"capacity": "1"}, follow=True)

    assert "nobody was removed" in response.content.decode()
    event.refresh_from_db()
    assert event.capacity == 1
    assert {Registration.objects.get(pk=r.pk).status for r in confirmed} == {"confirmed"}
    assert Registration.objects.get(pk=waitlisted[0].pk).status == "waitlisted"


def test_staff_undo_a_check_in_from_the_admin_and_the_code_checks_in_again(staff_client):
    from datetime import timedelta

    from django.utils import timezone

    from events_face.events.check_in import registration_check_in
    from tests.support.factories import make_check_in_staff, make_event, make_registration

    event = make_event(event_time=timezone.now() + timedelta(hours=1), registration_deadline=None)
    registration = make_registration(event_id=event.id)
    staff = make_check_in_staff()
    registration_check_in(event_id=event.id, code=registration.confirmation_code, staff_user=staff)

    response = staff_client.post(
        "/admin/events/registration/",
        {"action": "undo_check_in", "_selected_action": [str(registration.pk)]},
        follow=True,
    )

    assert "Check-ins undone: 1." in response.content.decode()
    registration.refresh_from_db()
    assert registration.checked_in_at is None and registration.checked_in_by is None
    registration_check_in(event_id=event.id, code=registration.confirmation_code, staff_user=staff)
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
