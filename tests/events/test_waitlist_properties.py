"""Random sequences of registrations, waitlist joins, cancellations and capacity changes,
run through the services and against a simple model of the waiting list; after every
step the database must match the model and keep every invariant (events/lifecycle.py)."""

import itertools
import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events_face.events.errors import AlreadyRegistered, EventFull
from events_face.events.lifecycle import event_capacity_set, registration_cancel
from events_face.events.models import Registration
from events_face.events.services import registration_create
from tests.support.factories import make_event, make_user
from tests.support.waitlist import assert_waitlist_invariants

pytestmark = pytest.mark.django_db

# A new person (None), or again one who tried before (an index among them): "already
# registered", or registering again after cancelling. Mostly asking for the waiting list,
# so that it fills and promotions happen.
register_op = st.tuples(
    st.just("register"),
    st.one_of(st.none(), st.none(), st.none(), st.integers(0, 30)),
    st.sampled_from([True, True, True, False]),
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 30), st.integers(1, 2))
# Small capacities, rarely unlimited: a capacity change that frees every seat ends the story.
capacity_op = st.tuples(st.just("capacity"), st.sampled_from([0, 1, 1, 2, 2, 3, None]), st.just(None))
operations = st.lists(
    st.one_of(register_op, register_op, register_op, cancel_op, cancel_op, capacity_op),
    min_size=12,
    max_size=40,
)


@dataclass
class Entry:
    person: int
    status: str


@dataclass
class Model:
    """The waiting list as a list in joining order: what the services must do."""

    capacity: int | None
    entries: list[Entry] = field(default_factory=list)

    def confirmed(self) -> int:
        return sum(entry.status == "confirmed" for entry in self.entries)

    def promote(self) -> None:
        for entry in self.entries:
            if entry.status == "waitlisted" and (self.capacity is None or self.confirmed() < self.capacity):
                entry.status = "confirmed"

    def register(self, person: int, waitlist: bool) -> str:
        if any(e.person == person and e.status != "cancelled" for e in self.entries):
            return "already_registered"
        self.promote()
        if self.capacity is not None and self.confirmed() >= self.capacity:
            if not waitlist:
                return "event_full"
            self.entries.append(Entry(person, "waitlisted"))
            return "waitlisted"
        self.entries.append(Entry(person, "confirmed"))
        return "confirmed"

    def cancel(self, index: int) -> None:
        entry = self.entries[index]
        if entry.status != "cancelled":
            held_a_seat = entry.status == "confirmed"
            entry.status = "cancelled"
            if held_a_seat:
                self.promote()

    def set_capacity(self, capacity: int | None) -> None:
        self.capacity = capacity
        self.promote()

    def positions(self) -> list[int | None]:
        waiting = itertools.count(1)
        return [next(waiting) if entry.status == "waitlisted" else None for entry in self.entries]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(initial_capacity=st.sampled_from([0, 1, 2, None]), steps=operations)
def test_random_sequences_keep_the_model_and_every_invariant(initial_capacity, steps):
    event = make_event(capacity=initial_capacity)
    user = make_user()
    prefix = uuid.uuid4().hex[:8]  # this example's own addresses
    model = Model(capacity=initial_capacity)
    made: list[Registration] = []  # in the model's order
    lowered_below = False
    people = 0

    for operation, argument, option in steps:
        if operation == "register":
            if argument is None or not people:
                people += 1
                argument = people - 1
            else:
                argument %= people
            expected = model.register(argument, option)
            try:
                registration, _created = registration_create(
                    event_id=event.id,
                    full_name=f"Person {argument}",
                    # Same person, changing case: the address is the same.
                    email=f"{prefix}-P{argument}@Example.com"
                    if len(made) % 2
                    else f"{prefix}-p{argument}@example.com",
                    user=user,
                    waitlist=option,
                )
                outcome = registration.status
                made.append(registration)
            except AlreadyRegistered:
                outcome = "already_registered"
            except EventFull:
                outcome = "event_full"
            assert outcome == expected
        elif operation == "cancel" and made:
            # Mostly an active one (what frees seats); a cancelled one when none is left.
            active = [i for i, entry in enumerate(model.entries) if entry.status != "cancelled"]
            index = active[argument % len(active)] if active else argument % len(made)
            model.cancel(index)
            for _again in range(option):  # sent once or twice: the same outcome
                cancelled, _changed = registration_cancel(registration_id=made[index].id, user=user)
                assert cancelled.status == "cancelled"
        elif operation == "capacity":
            lowered_below = argument is not None and argument < model.confirmed()
            model.set_capacity(argument)
            change = event_capacity_set(event_id=event.id, capacity=argument)
            assert change.confirmed == model.confirmed()

        rows = {r.pk: r for r in Registration.objects.filter(event=event).with_waitlist_position()}
        assert [rows[r.pk].status for r in made] == [entry.status for entry in model.entries]
        assert [rows[r.pk].waitlist_position for r in made] == model.positions()
        assert_waitlist_invariants(event.id, capacity_may_be_exceeded=lowered_below)
