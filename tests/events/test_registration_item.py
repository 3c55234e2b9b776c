"""`registration_item` (the write calls' answer) says what `RegistrationSerializer` (the schema's) says."""

import json

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from events_face.events.models import Registration
from events_face.events.serializers import RegistrationSerializer, registration_item
from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.django_db


def rendered(data) -> dict:
    return json.loads(JSONRenderer().render(data))


@pytest.mark.parametrize(
    ("status", "position"),
    [
        (Registration.Status.CONFIRMED, None),
        (Registration.Status.WAITLISTED, 3),
        (Registration.Status.CANCELLED, None),
    ],
)
def test_the_item_is_the_serializers_answer(status, position):
    now = timezone.now()
    registration = Registration.objects.create(
        event=make_event(),
        user=make_user(),
        full_name="Ada Lovelace",
        email="ada@example.com",
        status=status,
        confirmed_at=now if status != Registration.Status.WAITLISTED else None,
        cancelled_at=now if status == Registration.Status.CANCELLED else None,
        confirmation_code="123456" if status != Registration.Status.WAITLISTED else "",
    )
    registration.waitlist_position = position

    assert rendered(registration_item(registration)) == rendered(RegistrationSerializer(registration).data)
    assert list(registration_item(registration)) == list(RegistrationSerializer.Meta.fields)
