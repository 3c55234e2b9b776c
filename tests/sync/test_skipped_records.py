"""Provider records skipped as invalid are remembered, listed in the admin and counted in the
metrics until a run imports them, so an operator knows what `sync_events --all` must fetch again.

Against the provider emulator over real HTTP (its `malformed_fraction` breaks a seeded
share of records, each in one of the ways the contract says to skip).
"""

import re
import uuid
from dataclasses import dataclass

import pytest
from django.utils.html import escape

from events_face.sync import services, upsert
from events_face.sync.models import SkippedRecord, SyncRun
from events_face.sync.records import InvalidRecord, event_record_parse
from tests.support.sync import sync

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sync_settings")]

METRICS_TOKEN = "metrics-secret"


@pytest.fixture
def metrics(api_client, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN

    def skipped_records() -> float:
        response = api_client.get("/api/metrics/", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
        assert response.status_code == 200
        [value] = re.findall(r"^events_face_sync_skipped_records (\S+)$", response.content.decode(), re.M)
        return float(value)

    return skipped_records


@dataclass
class Broken:
    ids: list[str]  # the provider's ids of the events it serves broken
    served: list[dict]  # those records as served (some without a usable id)


@pytest.fixture
def broken(provider) -> Broken:
    provider.set_faults(malformed_fraction=0.3)
    ids = provider.state()["malformed_ids"]
    served = [r for r in provider.records() if r.get("id") in ids or not is_uuid(r.get("id"))]
    assert len(served) == len(ids) and 0 < len(ids) < 45
    assert any(not is_uuid(record.get("id")) for record in served), "the seed breaks some ids"
    return Broken(ids=ids, served=served)


def is_uuid(value) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def why_skipped(record: dict) -> str:
    with pytest.raises(InvalidRecord) as invalid:
        event_record_parse(record)
    return invalid.value.reason


def changelist(staff_client, query: str = "") -> str:
    response = staff_client.get(f"/admin/sync/skippedrecord/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_records_skipped_by_a_run_are_listed_in_the_admin_and_counted_in_the_metrics(
    staff_client, metrics, broken
):
    result = sync("--all")

    assert result.run.status == "succeeded" and result.run.skipped == len(broken.ids)
    html = changelist(staff_client)
    assert f"{len(broken.ids)} skipped provider records" in html
    for record in broken.served:
        assert escape(why_skipped(record)) in html
        if isinstance(record.get("id"), str):
            assert record["id"] in html
    assert metrics() == len(broken.ids)


def test_a_record_skipped_in_every_run_stays_one_row(staff_client, metrics, broken):
    sync("--all")
    second = sync("--all").run

    assert second.skipped == len(broken.ids)
    assert f"{len(broken.ids)} skipped provider records" in changelist(staff_client)
    assert metrics() == len(broken.ids)
    assert set(SkippedRecord.objects.values_list("last_run", flat=True)) == {second.pk}


def test_records_the_provider_mends_drop_off_once_a_sync_imports_them(
    staff_client, metrics, provider, broken
):
    sync("--all")
    # The provider mends them: each is served again, valid, with a new changed_at.
    provider.clear_faults()
    provider.change(ids=broken.ids)

    incremental = sync().run

    assert incremental.mode == "incremental" and incremental.status == "succeeded"
    assert incremental.skipped == 0 and incremental.updated + incremental.created == len(broken.ids)
    # Imported under the ids they were skipped with: off the list. One served without a
    # usable id cannot be matched to its import: the next full run, which sees everything, drops it.
    with_ids = [record["id"] for record in broken.served if is_uuid(record.get("id"))]
    assert metrics() == len(broken.ids) - len(with_ids)
    html = changelist(staff_client)
    assert not any(record_id in html for record_id in with_ids)

    sync("--all")

    assert metrics() == 0
    assert "0 skipped provider records" in changelist(staff_client)


def test_skipped_records_cannot_be_added_and_their_page_saves_without_error(staff_client, broken):
    sync("--all")
    row = SkippedRecord.objects.exclude(provider_id="").order_by("pk").first()

    assert staff_client.get("/admin/sync/skippedrecord/add/").status_code == 403
    page = staff_client.get(f"/admin/sync/skippedrecord/{row.pk}/change/")
    assert page.status_code == 200 and escape(row.reason) in page.content.decode()
    assert staff_client.post(f"/admin/sync/skippedrecord/{row.pk}/change/", {}).status_code == 302
    assert SkippedRecord.objects.get(pk=row.pk).reason == row.reason
    assert "1 skipped provider record" in changelist(staff_client, f"?q={row.provider_id}")


def test_odd_ids_and_reasons_are_stored_on_both_databases():
    run = services.sync_run_start(mode=SyncRun.Mode.ALL, since_date=None)
    odd = [
        {"id": "bad\x00id", "name": "x"},
        {"id": "\ud800", "name": "x"},
        {"id": "x" * 10_000, "name": "x"},
        {"name": "no id at all", "status": "new\x00"},
        ["not", "an", "object"],
        "just a string",
        {"id": str(uuid.UUID(int=7)), "name": "\x00", "status": "published"},
    ]

    upsert.sync_page_apply(run=run, records=odd)
    upsert.sync_page_apply(run=run, records=odd)

    assert SkippedRecord.objects.count() == len(odd)
    stored = SkippedRecord.objects.get(key=str(uuid.UUID(int=7)))
    assert stored.provider_id == str(uuid.UUID(int=7)) and "NUL" in stored.reason
