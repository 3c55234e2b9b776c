"""Small factories for the models tests create, and the Bearer header of a user's token."""

import itertools
import uuid
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from events_face.events.models import Event, Registration, Venue
from events_face.events.services import registration_create
from events_face.outbox.models import OutboxMessage
from events_face.sync.models import SkippedRecord, SyncLease, SyncRun

# Numbers for default names, unique within a test run.
_serial = itertools.count(1)


def make_user(username: str | None = None, password: str = "correct-horse-battery-9"):
    username = username or f"user{next(_serial)}"
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=password
    )


def make_staff_user():
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-1")


def bearer(user) -> str:
    """The Authorization header value of a fresh access token for `user`."""
    return f"Bearer {RefreshToken.for_user(user).access_token}"


def client_with_token(token: str) -> APIClient:
    """An API client that sends `token` (any string, valid or not) as its Bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def client_of(user) -> APIClient:
    """An API client signed in as `user`, with a fresh access token."""
    return client_with_token(str(RefreshToken.for_user(user).access_token))


def make_venue(**fields) -> Venue:
    fields.setdefault("id", uuid.uuid4())
    fields.setdefault("name", f"Hall {next(_serial)}")
    return Venue.objects.create(**fields)


def make_event(**fields) -> Event:
    """A published event ten days ahead, open for registration until the day before."""
    now = timezone.now()
    fields.setdefault("id", uuid.uuid4())
    fields.setdefault("name", f"Event {next(_serial)}")
    fields.setdefault("event_time", now + timedelta(days=10))
    fields.setdefault("registration_deadline", now + timedelta(days=9))
    fields.setdefault("status", Event.Status.PUBLISHED)
    fields.setdefault("provider_changed_at", now)
    return Event.objects.create(**fields)


def make_registration(**fields) -> Registration:
    """A registration made as the API makes it (with its outbox message), for a new event and user."""
    fields.setdefault("event_id", make_event().id)
    fields.setdefault("user", make_user())
    fields.setdefault("full_name", "Ada Lovelace")
    fields.setdefault("email", f"ada{next(_serial)}@example.com")
    registration, _ = registration_create(**fields)
    return registration


def make_outbox_message(**fields) -> OutboxMessage:
    fields.setdefault("topic", "registration.created")
    fields.setdefault("payload", {"email": f"someone{next(_serial)}@example.com"})
    return OutboxMessage.objects.create(**fields)


def make_sync_run(**fields) -> SyncRun:
    fields.setdefault("mode", SyncRun.Mode.ALL)
    fields.setdefault("started_at", timezone.now())
    return SyncRun.objects.create(**fields)


def make_skipped_record(**fields) -> SkippedRecord:
    now = timezone.now()
    serial = next(_serial)
    fields.setdefault("key", f"id:skipped-{serial}")
    fields.setdefault("provider_id", f"skipped-{serial}")
    fields.setdefault("reason", "event_time: not a date-time")
    fields.setdefault("first_skipped_at", now)
    fields.setdefault("last_skipped_at", now)
    return SkippedRecord.objects.create(**fields)


def make_sync_lease(**fields) -> SyncLease:
    now = timezone.now()
    fields.setdefault("name", f"lease{next(_serial)}")
    fields.setdefault("holder", "host:1234")
    fields.setdefault("acquired_at", now)
    fields.setdefault("expires_at", now + timedelta(minutes=10))
    return SyncLease.objects.create(**fields)


def make_group(**fields) -> Group:
    fields.setdefault("name", f"group{next(_serial)}")
    return Group.objects.create(**fields)


def make_outstanding_token(user=None) -> OutstandingToken:
    """The row SimpleJWT writes when it issues a refresh token."""
    token = RefreshToken.for_user(user or make_user())
    return OutstandingToken.objects.get(jti=token["jti"])


def make_blacklisted_token(user=None) -> BlacklistedToken:
    token = RefreshToken.for_user(user or make_user())
    blacklisted, _ = token.blacklist()
    return blacklisted


def _client_fields(fields: dict) -> dict:
    """What django-axes records of a login attempt's client."""
    fields.setdefault("username", f"user{next(_serial)}")
    fields.setdefault("ip_address", "203.0.113.7")
    fields.setdefault("user_agent", "Mozilla/5.0")
    fields.setdefault("http_accept", "text/html")
    fields.setdefault("path_info", "/admin/login/")
    return fields


def make_access_attempt(**fields) -> AccessAttempt:
    fields.setdefault("failures_since_start", 1)
    return AccessAttempt.objects.create(get_data="", post_data="", **_client_fields(fields))


def make_access_log(**fields) -> AccessLog:
    return AccessLog.objects.create(**_client_fields(fields))


def make_access_failure_log(**fields) -> AccessFailureLog:
    return AccessFailureLog.objects.create(**_client_fields(fields))


CHECK_IN_STAFF_GROUP = "Check-in staff"


def make_check_in_staff():
    """A user in the "Check-in staff" group, which holds `events.check_in`.

    The group is made by a data migration; a transactional test's flush empties it
    (Django makes permissions again after a flush, never groups), so it is made here
    when missing, as the migration makes it.
    """
    group, _ = Group.objects.get_or_create(name=CHECK_IN_STAFF_GROUP)
    group.permissions.add(Permission.objects.get(codename="check_in", content_type__app_label="events"))
    user = make_user()
    user.groups.add(group)
    return user
