"""Reminders: one per confirmed registration, REMINDER_HOURS_BEFORE its event, written
by the outbox worker's schedule, exactly once with any number of workers."""

import signal
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from events_face.events.lifecycle import registration_cancel
from events_face.events.models import Event, Registration
from events_face.events.notifications import REMINDER_TOPIC
from events_face.events.reminders import reminders_write
from events_face.outbox.models import OutboxMessage
from tests.support.factories import make_event, make_registration
from tests.support.outbox import WorkerProcesses, worker_env
from tests.support.polling import wait_until


def reminders() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic=REMINDER_TOPIC))


def registered_long_ago(registration: Registration) -> Registration:
    """As if it had been confirmed three days ago, well before any reminder window."""
    long_ago = timezone.now() - timedelta(days=3)
    Registration.objects.filter(pk=registration.pk).update(created_at=long_ago, confirmed_at=long_ago)
    registration.refresh_from_db()
    return registration


def event_in(hours: float, **fields) -> Event:
    return make_event(
        event_time=timezone.now() + timedelta(hours=hours), registration_deadline=None, **fields
    )


@pytest.mark.django_db
class TestWhoIsReminded:
    def test_a_confirmed_registration_is_reminded_once_when_its_window_opens(self):
        registration = registered_long_ago(make_registration(event_id=event_in(30).id, full_name="Ada"))
        now = timezone.now()

        assert reminders_write(now=now) == 0  # 30 hours ahead: not yet
        assert reminders_write(now=now + timedelta(hours=7)) == 1
        assert reminders_write(now=now + timedelta(hours=8)) == 0  # once

        (reminder,) = reminders()
        assert reminder.payload["email"] == registration.email
        assert reminder.payload["message"].startswith("Hello, Ada! A reminder:")
        assert reminder.payload["message"].endswith(registration.confirmation_code)

    def test_cancelled_and_waitlisted_registrations_and_cancelled_events_get_none(self):
        full = event_in(10, capacity=1)
        registered_long_ago(make_registration(event_id=full.id))
        registered_long_ago(make_registration(event_id=full.id, waitlist=True))
        cancelled = registered_long_ago(make_registration(event_id=event_in(10).id))
        registration_cancel(registration_id=cancelled.id, user=cancelled.user)
        called_off = event_in(10)
        registered_long_ago(make_registration(event_id=called_off.id))
        Event.objects.filter(pk=called_off.pk).update(status=Event.Status.CANCELLED)

        assert reminders_write(now=timezone.now()) == 1  # the one confirmed seat of `full`

    def test_a_registration_made_inside_the_window_gets_none(self):
        make_registration(event_id=event_in(10).id)  # confirmed now, 10 hours before

        assert reminders_write(now=timezone.now()) == 0

    def test_a_promoted_registration_gets_one(self):
        event = event_in(40, capacity=1)
        seated = registered_long_ago(make_registration(event_id=event.id))
        waiting = registered_long_ago(make_registration(event_id=event.id, waitlist=True))
        registration_cancel(registration_id=seated.id, user=seated.user)  # promotes `waiting` now, 40 h ahead

        assert reminders_write(now=timezone.now() + timedelta(hours=20)) == 1
        assert reminders()[0].payload["email"] == waiting.email

    def test_reminder_hours_before_0_turns_them_off(self, settings):
        settings.REMINDER_HOURS_BEFORE = 0
        registered_long_ago(make_registration(event_id=event_in(1).id))

        assert reminders_write(now=timezone.now()) == 0

    def test_the_reminder_is_written_in_the_registrations_language(self):
        registered_long_ago(make_registration(event_id=event_in(5).id, full_name="Ада", language="ru"))

        reminders_write(now=timezone.now())

        assert reminders()[0].payload["message"].startswith("Здравствуйте, Ада!")


def accepted_reminders(service) -> list[dict]:
    # The registrations' own confirmations go through the same service.
    return [notification for notification in service.accepted() if "A reminder:" in notification["message"]]


@pytest.mark.django_db(transaction=True)
def test_three_workers_remind_each_registration_exactly_once(tmp_path, notifications_service):
    events = [event_in(5) for _ in range(4)]
    registrations = [registered_long_ago(make_registration(event_id=events[n % 4].id)) for n in range(120)]
    workers = WorkerProcesses(tmp_path)
    env = worker_env(notifications_service, OUTBOX_BATCH_SIZE="10")
    try:
        started = [workers.start(env) for _ in range(3)]  # all start, then race for the same due reminders
        wait_until(
            lambda: len(accepted_reminders(notifications_service)) >= len(registrations),
            timeout=120,
            message="every reminder is delivered",
        )
        # A worker still starting up has no SIGTERM handler yet (the others may have delivered
        # everything by then): each stops cleanly once it is delivering.
        for worker in started:
            wait_until(
                lambda w=worker: "delivering to" in workers.output(w), timeout=60, message="the worker starts"
            )
            worker.send_signal(signal.SIGTERM)
        for worker in started:
            assert worker.wait(timeout=30) == 0, workers.output(worker)
    finally:
        workers.stop_all()

    by_address = Counter(notification["email"] for notification in accepted_reminders(notifications_service))
    assert by_address == Counter(registration.email for registration in registrations)
    assert "409" not in notifications_service.answers()  # no message was sent twice
    assert OutboxMessage.objects.filter(topic=REMINDER_TOPIC).count() == len(registrations)
    assert not Registration.objects.filter(reminded_at__isnull=True).exists()
