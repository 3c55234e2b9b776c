"""gunicorn's own log lines in the service's JSON shape, for LOG_FORMAT=json.

gunicorn logs before and outside Django (start-up, worker exits, one access line
per request), so `gunicorn.conf.py` configures its two loggers itself, with these
formatters: the same fields as the service's JSON lines (`timestamp`, `level`,
`logger`, `message`), and for the access log each part of the request by name.
Importing this module must not import Django: gunicorn's master reads it first.
"""

from pythonjsonlogger.json import JsonFormatter

# gunicorn's access-log atoms, by the field name a log pipeline gets.
ACCESS_FIELDS = {
    "remote_addr": "h",
    "method": "m",
    "path": "U",
    "query": "q",
    "status": "s",
    "response_bytes": "B",
    "duration_ms": "M",
    "user_agent": "a",
    "request_id": "{x-request-id}o",
}


# The shape of settings.LOGGING's "json" formatter.
SERVICE_SHAPE = {
    "fmt": "%(levelname)s %(name)s %(message)s",
    "rename_fields": {"levelname": "level", "name": "logger"},
    "timestamp": True,
}


def json_formatter() -> JsonFormatter:
    return JsonFormatter(**SERVICE_SHAPE)


class AccessJsonFormatter(JsonFormatter):
    """One object per request, its parts as fields (gunicorn passes them as the record's args)."""

    def __init__(self):
        super().__init__(**SERVICE_SHAPE)

    def add_fields(self, log_data, record, message_dict):
        super().add_fields(log_data, record, message_dict)
        atoms = record.args if isinstance(record.args, dict) else {}
        for field, atom in ACCESS_FIELDS.items():
            value = atoms.get(atom)
            if value in (None, "", "-"):
                continue
            numeric = field in ("status", "response_bytes", "duration_ms") and str(value).isdigit()
            log_data[field] = int(value) if numeric else value
