"""Migration events/0007 makes a code name one registration of its event: the later holders
of a shared code get a new one, and their notification again with it."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from events_face.events.models import Registration
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event, make_user
from tests.support.migrations import migrated_to, migration_graph

pytestmark = pytest.mark.django_db(transaction=True)


def before_check_in():
    """The events migration that the check-in migration follows (found by name: merges renumber)."""
    graph = migration_graph()
    (check_in,) = [key for key in graph.nodes if key[0] == "events" and key[1].endswith("_check_in")]
    (before,) = [parent.key for parent in graph.node_map[check_in].parents if parent.key[0] == "events"]
    return before


def test_shared_codes_are_replaced_for_all_but_the_first_holder_who_is_told_again():
    event, other_event = make_event(), make_event()
    user = make_user()
    with migrated_to(before_check_in()) as old:
        Historical = old.get_model("events", "Registration")
        now = timezone.now()
        rows = [
            Historical.objects.create(
                event_id=event.id,
                user_id=user.id,
                full_name=f"Holder {n}",
                email=f"h{n}@example.com",
                confirmation_code="111111",
                created_at=now,
                status=status,
            )
            for n, status in enumerate(["confirmed", "confirmed", "cancelled"])
        ]
        Historical.objects.create(
            event_id=other_event.id,
            user_id=user.id,
            full_name="Elsewhere",
            email="e@example.com",
            confirmation_code="111111",
            created_at=now,
        )
        Historical.objects.filter(pk=rows[0].pk).update(created_at=now.replace(year=now.year - 1))

    codes = dict(Registration.objects.values_list("full_name", "confirmation_code"))
    assert codes["Holder 0"] == "111111" and codes["Elsewhere"] == "111111"
    assert len({codes["Holder 0"], codes["Holder 1"], codes["Holder 2"]}) == 3
    staff = Group.objects.get(name="Check-in staff")  # made by the same migration
    assert list(staff.permissions.values_list("codename", flat=True)) == ["check_in"]
    (resent,) = OutboxMessage.objects.all()  # the cancelled holder is not written to
    assert resent.payload["email"] == "h1@example.com"
    assert resent.payload["message"].endswith(codes["Holder 1"])
