"""The events app: registration limits, the door, reminders, how long events are kept, calendar files."""

import re

from events_face.config.environment import MisconfiguredEnvironment, env, positive_seconds, raw, whole_number

# Days after an event's time past which we forget it: `cleanup_events` deletes it (the
# default of its --days) and `sync_events` does not import it, so the next sync does
# not bring back what the last cleanup deleted. One rule for both (events.cleanup.past_horizon).
CLEANUP_AFTER_DAYS = whole_number("CLEANUP_AFTER_DAYS", default=7, minimum=0)

# Length in minutes of an event in calendar files: the provider gives no end time.
CALENDAR_EVENT_MINUTES = whole_number("CALENDAR_EVENT_MINUTES", default=120, minimum=1)

# Registrations (so notifications) to one e-mail address, across all accounts:
# "N/second|minute|hour|day", counted from the registrations table (not evictable).
REGISTRATION_ADDRESS_RATE = raw("REGISTRATION_ADDRESS_RATE") or "5/hour"
if not re.fullmatch(r"[1-9]\d*/[smhd][a-z]*", REGISTRATION_ADDRESS_RATE):
    raise MisconfiguredEnvironment(
        "REGISTRATION_ADDRESS_RATE must look like 5/hour (a count, then second, minute, hour or day), "
        f"not {REGISTRATION_ADDRESS_RATE!r} (see .env.example)."
    )

# How long a write for one event (registering, cancelling, a capacity change) waits
# for the event's lock (PostgreSQL lock_timeout, SQLite busy timeout) before
# answering 503 `busy` with Retry-After: the client retries. Nothing is written then.
REGISTRATION_LOCK_TIMEOUT_SECONDS = positive_seconds("REGISTRATION_LOCK_TIMEOUT_SECONDS", default=5.0)

# Where clients reach this service: the cancel links in notifications start with it.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# The window in which a confirmation code can be checked in: from this many hours
# before the event's start to this many after it.
CHECK_IN_OPENS_HOURS = env.float("CHECK_IN_OPENS_HOURS", default=24)
CHECK_IN_CLOSES_HOURS = env.float("CHECK_IN_CLOSES_HOURS", default=24)

# Hours before an event at which each confirmed registration is reminded; 0 turns reminders off.
REMINDER_HOURS_BEFORE = env.float("REMINDER_HOURS_BEFORE", default=24)
