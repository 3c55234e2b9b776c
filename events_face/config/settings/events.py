"""The events app: how long events are kept, and their calendar files."""

from events_face.config.environment import whole_number

# Days after an event's time past which we forget it: `cleanup_events` deletes it (the
# default of its --days) and `sync_events` does not import it, so the next sync does
# not bring back what the last cleanup deleted. One rule for both (events.cleanup.past_horizon).
CLEANUP_AFTER_DAYS = whole_number("CLEANUP_AFTER_DAYS", default=7, minimum=0)

# Length in minutes of an event in calendar files: the provider gives no end time.
CALENDAR_EVENT_MINUTES = whole_number("CALENDAR_EVENT_MINUTES", default=120, minimum=1)
