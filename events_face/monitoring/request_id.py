"""The request id: one per request, in its response and in every log line it causes.

An id comes from the client's (or the load balancer's) `X-Request-ID` when it
is well-formed: 1 to 64 characters, each a letter, digit, `.`, `_` or `-` (a
UUID, a hex string, a trace id). Anything else, or no header, gets a fresh
uuid4 hex, so a log line never carries what a client made up beyond that.

`RequestIdMiddleware` (in `middleware.py`) keeps the id in a context variable
until the response is closed (`request_id_forget`); `RequestIdFilter`, installed on the log handler
in `settings.LOGGING`, copies it onto every record that handler writes,
Django's and other libraries' records too. Outside a request (worker, sync)
records carry none.
"""

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def request_id_from_header(value: str | None) -> str:
    """The id a request goes by: `value` when well-formed, else a new one."""
    if value is not None and WELL_FORMED.fullmatch(value):
        return value
    return uuid.uuid4().hex


def request_id_forget(**kwargs) -> None:
    """The request is over (`request_finished`): later records carry no id."""
    current_request_id.set(None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to records logged while a request is handled; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None:
            record.request_id = request_id
        return True
