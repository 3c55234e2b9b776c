"""Compressed answers from a hostile upstream: decoded within the body cap, one coding at most.

6 GiB of zeros gzipped twice is 10 KB. httpx decodes each chunk through every
stacked layer before any size is checked, so such an answer, served as
`Content-Encoding: gzip, gzip`, used to take `sync_events` and `worker` to
gigabytes and a MemoryError. `integrations/http_transport.py` now decodes the
raw stream itself, within the cap, and refuses stacked or unasked-for codings.

The transport is tested in this process (with tracemalloc holding its memory to
the cap); `sync_events` and `worker --once` as real processes, under a memory
limit (RLIMIT_AS) they stay well within now and could not before, against a
bomb of a few hundred MB (not 6 GiB: a test must not eat the machine when it fails).
"""

from __future__ import annotations

import json
import resource
import subprocess
import tracemalloc
import zlib

import pytest

from events_face.integrations import http
from events_face.outbox.models import OutboxMessage
from events_face.sync.models import SyncRun
from tests.support.fake_upstream import Answer, FakeUpstream, gzip_bomb, gzipped
from tests.support.outbox import make_message, worker_env
from tests.support.processes import command_env, manage

PAGE = json.dumps({"next": None, "previous": None, "results": []}).encode()
LIMITS = http.RequestLimits(deadline_seconds=10.0, max_body_bytes=1024 * 1024)
# What the victims are given to live in (address space, not resident memory), and
# what the bomb decodes to: together more than the limit, each well within it.
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
BOMB_DECODED_BYTES = 600 * 1024 * 1024


def get(server: FakeUpstream, limits: http.RequestLimits = LIMITS) -> http.Reply:
    with http.client_create(headers={}) as client:
        return http.request(client, "GET", server.url("/page"), limits=limits)


def answering(body: bytes, coding: str) -> FakeUpstream:
    return FakeUpstream(lambda request: Answer(body=body, headers={"Content-Encoding": coding}))


# --- the transport ---------------------------------------------------------------------------------


def test_requests_ask_for_gzip_and_deflate_only():
    with FakeUpstream(lambda request: Answer(body=PAGE)) as server:
        get(server)
    assert server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    "encode, coding",
    [
        (gzipped, "gzip"),
        (gzipped, "x-gzip"),
        (zlib.compress, "deflate"),
        (lambda data: zlib.compress(data)[2:-4], "deflate"),  # raw deflate, as some servers send it
        (lambda data: data, "identity"),
        (lambda data: gzipped(data[:10]) + gzipped(data[10:]), "gzip"),  # two gzip members
    ],
)
def test_a_body_in_one_coding_we_asked_for_is_decoded(encode, coding):
    with answering(encode(PAGE), coding) as server:
        assert get(server).body == PAGE


def test_an_empty_body_labelled_gzip_is_empty():
    with answering(b"", "gzip") as server:
        assert get(server).body == b""


@pytest.mark.parametrize("coding", ["gzip, gzip", "gzip,deflate", "deflate, gzip, identity"])
def test_stacked_codings_are_refused_whatever_they_hold(coding):
    with answering(gzipped(gzipped(PAGE)), coding) as server, pytest.raises(http.UnreadableBody) as refused:
        get(server)
    assert "stacked content codings" in str(refused.value)


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "x-bomb"])
def test_a_coding_we_did_not_ask_for_is_refused(coding):
    with answering(PAGE, coding) as server, pytest.raises(http.UnreadableBody) as refused:
        get(server)
    assert "did not ask for" in str(refused.value) and coding in str(refused.value)


@pytest.mark.parametrize(
    "body, why",
    [
        (b"not gzip at all", "corrupt"),
        (gzipped(PAGE)[:-12], "ends before its compressed stream"),
        (gzipped(PAGE) + b"trailing garbage", "corrupt"),
    ],
)
def test_a_corrupt_or_cut_gzip_body_is_unreadable(body, why):
    with answering(body, "gzip") as server, pytest.raises(http.UnreadableBody) as refused:
        get(server)
    assert why in str(refused.value)


def test_a_gzip_bomb_is_decoded_no_further_than_the_cap():
    bomb = gzip_bomb(64 * 1024 * 1024, layers=1)  # 64 KB that decode to 64 MiB
    with answering(bomb, "gzip") as server:
        tracemalloc.start()
        try:
            with pytest.raises(http.BodyTooLarge) as refused:
                get(server)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "decodes to more than 1,048,576 bytes" in str(refused.value)
    # The cap (1 MiB), a copy of it and a chunk of input: never the 64 MiB.
    assert peak < 8 * 1024 * 1024


def test_a_body_that_decodes_to_exactly_the_cap_is_read_whole():
    body = bytes(LIMITS.max_body_bytes)
    with answering(gzipped(body), "gzip") as server:
        assert get(server).body == body


# --- the victims, as real processes under a memory limit ---------------------------------------------


def limited_memory() -> None:
    """preexec_fn: the child's address space is capped, so a runaway decode is a MemoryError."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


# glibc reserves 64 MiB of address space per thread arena: keep the limit about the heap.
LIMITED_ENV = {"MALLOC_ARENA_MAX": "2", "LOG_LEVEL": "WARNING"}


def bomb_answer(status: int) -> Answer:
    return Answer(
        status=status, body=gzip_bomb(BOMB_DECODED_BYTES), headers={"Content-Encoding": "gzip, gzip"}
    )


@pytest.mark.django_db(transaction=True)
def test_sync_events_fails_the_page_of_a_double_gzip_bomb_and_keeps_its_memory():
    with FakeUpstream(lambda request: bomb_answer(200)) as provider:
        process = manage(
            "sync_events", "--all",
            env=command_env(
                EVENTS_PROVIDER_URL=provider.url("/api/events/"), EVENTS_PROVIDER_TOKEN="t", SYNC_MAX_RETRIES="0",
                **LIMITED_ENV,
            ),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limited_memory,
        )  # fmt: skip
        stdout, stderr = process.communicate(timeout=120)

    run = SyncRun.objects.get()
    assert "MemoryError" not in stderr + run.error
    assert process.returncode == 1  # a failed run, reported
    assert run.status == SyncRun.Status.FAILED
    assert "stacked content codings" in run.error and "gzip, gzip" in run.error
    assert provider.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.django_db(transaction=True)
def test_worker_once_survives_a_double_gzip_bomb_and_the_message_stays_due():
    message = make_message()
    with FakeUpstream(lambda request: bomb_answer(201)) as service:
        env = {**worker_env(service.url("/api/notifications")), **LIMITED_ENV}
        process = manage(
            "worker", "--once", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=limited_memory,
        )  # fmt: skip
        output, _ = process.communicate(timeout=120)

    assert "MemoryError" not in output
    assert process.returncode == 0, output
    assert len(service.requests) == 1
    row = OutboxMessage.objects.get(pk=message.pk)
    assert row.sent is False and row.failed_at is None  # pending: a transient failure of this one message
    assert row.attempts == 1
    assert "stacked content codings" in row.last_error
    assert row.leased_until is None


def test_the_bomb_is_what_it_claims():
    """The fixture itself: under a KB of body, hundreds of MB once both layers are decoded."""
    bomb = gzip_bomb(BOMB_DECODED_BYTES)
    assert len(bomb) < 4096
    inner = zlib.decompress(bomb, zlib.MAX_WBITS | 16)
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
    decoded = 0
    while inner:
        decoded += len(decoder.decompress(inner, 64 * 1024 * 1024))
        inner = decoder.unconsumed_tail
    assert decoded == BOMB_DECODED_BYTES
