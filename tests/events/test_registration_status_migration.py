"""Migration events 0005: existing registrations become confirmed, and the unique address
per event then holds among active registrations only (a cancelled person may register again)."""

import pytest

from events_face.events.lifecycle import registration_cancel
from events_face.events.models import Registration
from events_face.events.services import registration_create
from tests.support.factories import make_event
from tests.support.migrations import migrated_to

BEFORE = ("events", "0010_verbose_names_in_the_browser_language")


@pytest.mark.django_db(transaction=True)
def test_registrations_from_before_become_confirmed_and_may_cancel_and_register_again(user):
    event = make_event(capacity=1)
    with migrated_to(BEFORE) as old_apps:
        old_apps.get_model("events", "Registration").objects.create(
            event_id=event.id,
            user_id=user.id,
            full_name="Ada",
            email="Ada@Example.com",
            confirmation_code="123456",
        )

    old = Registration.objects.get()
    assert (old.status, old.confirmed_at, old.cancelled_at) == ("confirmed", None, None)
    registration_cancel(registration_id=old.id, user=user)
    again, created = registration_create(
        event_id=event.id, full_name="Ada", email="ada@example.com", user=user
    )
    assert created and again.status == "confirmed"
    assert Registration.objects.filter(event=event).count() == 2
