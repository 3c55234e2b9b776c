"""Reading sync runs: where the next incremental sync starts."""

from datetime import UTC, date

from events_face.sync.models import SyncRun


def sync_incremental_since() -> date | None:
    """The `changed_at` date an incremental sync asks for; None means "everything".

    It is the date (UTC) on which the last successful full or incremental run
    **started**: a change made while that run was paging may have been missed by
    it, and asking from its start date, inclusive, picks it up again (applying a
    record twice is harmless). Failed runs never move it; neither do `--date`
    runs, which say nothing about changes before their date.
    """
    last = (
        SyncRun.objects.filter(
            status=SyncRun.Status.SUCCEEDED,
            mode__in=[SyncRun.Mode.ALL, SyncRun.Mode.INCREMENTAL],
        )
        .order_by("-started_at")
        .first()
    )
    if last is None:
        return None
    return last.started_at.astimezone(UTC).date()
