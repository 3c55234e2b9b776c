"""No admin page ends in a 500: every page of every model the admin site registers.

The models are discovered from the admin site, so a model registered later is
covered too (it needs a factory in ADMIN_OBJECTS). For each: the list, the add
page and its "Save" (filled in as an operator would), an existing object's
change page and its "Save" with what the page shows, its history, and its
delete page and confirmation. A page the admin does not offer answers 403.
"""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from events_face.events.models import Event, Registration, Venue
from events_face.outbox.models import OutboxMessage
from events_face.sync.models import SkippedRecord, SyncLease, SyncRun
from tests.support.admin_forms import filled_in, submitted_fields
from tests.support.factories import (
    make_access_attempt,
    make_access_failure_log,
    make_access_log,
    make_blacklisted_token,
    make_event,
    make_group,
    make_outbox_message,
    make_outstanding_token,
    make_registration,
    make_skipped_record,
    make_sync_lease,
    make_sync_run,
    make_user,
    make_venue,
)

pytestmark = pytest.mark.django_db

# One existing object of each registered model, made as the product makes it.
ADMIN_OBJECTS = {
    get_user_model(): make_user,
    Group: make_group,
    OutstandingToken: make_outstanding_token,
    BlacklistedToken: make_blacklisted_token,
    Venue: make_venue,
    Event: make_event,
    Registration: make_registration,
    OutboxMessage: make_outbox_message,
    SyncRun: make_sync_run,
    SyncLease: make_sync_lease,
    SkippedRecord: make_skipped_record,
    AccessAttempt: make_access_attempt,
    AccessLog: make_access_log,
    AccessFailureLog: make_access_failure_log,
}

# What an add form needs to choose from (a token to blacklist).
ADD_PREREQUISITES = {BlacklistedToken: [make_outstanding_token]}

REGISTERED_MODELS = [model for model in apps.get_models() if admin.site.is_registered(model)]


def admin_url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def existing_object(model):
    if model not in ADMIN_OBJECTS:
        pytest.fail(
            f"{model._meta.label} is in the admin: add a factory for it to ADMIN_OBJECTS in {__name__}"
        )
    return ADMIN_OBJECTS[model]()


@pytest.fixture
def operator(staff_client):
    """A superuser's browser: a crash is a response, as a real one sees it."""
    staff_client.raise_request_exception = False
    return staff_client


def press_save(client, url: str, model, *, fill_in: bool):
    """Open the form page at `url` and submit its form as the page shows it (filled in if asked)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    fields = submitted_fields(page.content.decode(), f"{model._meta.model_name}_form")
    assert fields is not None, f"{url} shows no form"
    if fill_in:
        fields = filled_in(fields, page.context["adminform"].form)
    data = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return client.post(url, data)


def label(model) -> str:
    return model._meta.label


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=label)
def test_the_list_opens(operator, model):
    existing_object(model)

    response = operator.get(admin_url(model, "changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=label)
def test_the_add_page_saves_or_is_not_offered(operator, model):
    for make in ADD_PREREQUISITES.get(model, []):
        make()
    url = admin_url(model, "add")
    if not admin.site.get_model_admin(model).has_add_permission(operator.get(url).wsgi_request):
        assert operator.get(url).status_code == 403
        assert operator.post(url, {"_save": "Save"}).status_code == 403
        return

    response = press_save(operator, url, model, fill_in=True)

    assert response.status_code == 302, f"{url}: {response.status_code}"
    assert model.objects.exists()


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=label)
def test_the_change_page_saves_what_it_shows_or_offers_no_save(operator, model):
    url = admin_url(model, "change", existing_object(model).pk)
    page = operator.get(url)
    assert page.status_code == 200

    if b'name="_save"' not in page.content:
        # A view-only page: nothing to submit, and a forged submit is refused.
        assert operator.post(url, {"_save": "Save"}).status_code == 403
        return
    response = press_save(operator, url, model, fill_in=False)

    assert response.status_code == 302, f"{url}: {response.status_code}"


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=label)
def test_the_history_page_opens(operator, model):
    response = operator.get(admin_url(model, "history", existing_object(model).pk))

    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=label)
def test_the_delete_page_deletes_or_is_not_offered(operator, model):
    obj = existing_object(model)
    url = admin_url(model, "delete", obj.pk)
    page = operator.get(url)

    if page.status_code == 403:
        assert operator.post(url, {"post": "yes"}).status_code == 403
        assert model.objects.filter(pk=obj.pk).exists()
        return
    assert page.status_code == 200
    response = operator.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()
