"""The events provider (upstream) and the sync that mirrors its events (`sync_events`)."""

from events_face.config.environment import env

# Empty means "not configured": `make run` then starts the built-in emulator.
EVENTS_PROVIDER_URL = env.str("EVENTS_PROVIDER_URL", default="")
EVENTS_PROVIDER_TOKEN = env.str("EVENTS_PROVIDER_TOKEN", default="")

SYNC_MAX_RETRIES = env.int("SYNC_MAX_RETRIES", default=5)
# Total deadline of one page request in seconds (connect, send, the whole page).
# SYNC_HTTP_TIMEOUT is its old name, read while the new one is unset (events_face.W004).
LEGACY_SYNC_HTTP_TIMEOUT = env.float("SYNC_HTTP_TIMEOUT", default=None)
SYNC_HTTP_DEADLINE_SECONDS = env.float("SYNC_HTTP_DEADLINE_SECONDS", default=LEGACY_SYNC_HTTP_TIMEOUT or 30.0)
SYNC_BACKOFF_MAX = env.float("SYNC_BACKOFF_MAX", default=30.0)  # seconds
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=600)
# A run that asks for more pages than this fails: a provider whose `next` never ends.
SYNC_MAX_PAGES = env.int("SYNC_MAX_PAGES", default=100_000)
# Largest page body read, in bytes; a larger page fails the run. A real 1000-event
# page is well under 1 MiB.
SYNC_MAX_PAGE_BYTES = env.int("SYNC_MAX_PAGE_BYTES", default=32 * 1024 * 1024)
