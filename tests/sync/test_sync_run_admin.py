"""Each sync run is visible in the admin, with its counts and error."""

import pytest

from tests.support.sync import sync

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sync_settings")]


def test_a_failed_run_shows_in_the_admin_with_its_error(staff_client, provider):
    provider.set_faults(script=[{"after": 1, "times": 1, "body": "not_json"}])
    run = sync("--all").run

    listing = staff_client.get("/admin/sync/syncrun/?status__exact=failed")
    detail = staff_client.get(f"/admin/sync/syncrun/{run.pk}/change/")

    assert listing.status_code == 200 and detail.status_code == 200
    assert "Failed" in listing.content.decode()
    assert "is not JSON" in detail.content.decode()


def test_runs_cannot_be_added_by_hand(staff_client):
    assert staff_client.get("/admin/sync/syncrun/add/").status_code == 403
