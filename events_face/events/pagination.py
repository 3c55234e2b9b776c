"""The two lists of the events API, each paged by keyset on (its time field, id)."""

from events_face.core.pagination import KeysetPagination


class EventKeysetPagination(KeysetPagination):
    time_field = "event_time"


class RegistrationKeysetPagination(KeysetPagination):
    time_field = "created_at"
