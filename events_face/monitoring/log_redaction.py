"""Secrets that travel in URLs never reach a log line.

A personal calendar feed's URL (`/api/calendar/<token>.ics`) is its only
credential: calendar apps cannot send a header. Every line that could hold a
path goes through `redact`: the service's log handler (Django's "Not Found:
/path" warnings, anything else) through `SecretPathFilter`, and gunicorn's
access log through `RedactingGunicornLogger` (`gunicorn.conf.py`). Importing
this module must not import Django: gunicorn's master reads it first.
"""

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

# The token of a calendar feed URL, however the path is quoted in a line.
_FEED_TOKEN = re.compile(r"(/api/calendar/)(?!token\b)[^/?#\s\"'.]+(\.ics)")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _FEED_TOKEN.sub(rf"\g<1>{REDACTED}\g<2>", text)


def _redacted(value):
    return redact(value) if isinstance(value, str) else value


# What every LogRecord has; anything else on a record came in `extra` (Django's `request`...).
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class SecretPathFilter(logging.Filter):
    """Redacts feed tokens from a record's message, its arguments and its extra fields.

    An extra field that is not a string (Django's 404 warning carries the request)
    is replaced by its redacted text when that text holds a token: the JSON
    formatter would write the object's text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {name: _redacted(value) for name, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redacted(value) for value in record.args)
        for name, value in list(vars(record).items()):
            if name in _RECORD_ATTRIBUTES or value is None or isinstance(value, int | float | bool):
                continue
            text = value if isinstance(value, str) else str(value)
            if _FEED_TOKEN.search(text):
                setattr(record, name, redact(text))
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger, its access-log atoms (request line, path, referer...) redacted."""

    def atoms(self, resp, req, environ, request_time):
        return {
            name: _redacted(value) for name, value in super().atoms(resp, req, environ, request_time).items()
        }
