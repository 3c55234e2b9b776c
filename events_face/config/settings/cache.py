"""Two caches: rendered API responses (`default`, CACHE_URL) and rate-limit counters (`throttle`).

They are apart so that response entries, however many, can never push a
counter out: a Redis that evicts keys under memory pressure would otherwise
forget how many logins an address tried. docs/deployment.md says how to set
each one's Redis `maxmemory-policy`.

Both default to memory of each process. With more than one web process in
production that multiplies every rate limit by the number of processes, and
the deployment check events_face.E004 refuses it (config/checks.py) and
gunicorn warns at start: point CACHE_URL at a shared cache.
"""

from urllib.parse import urlsplit, urlunsplit

from events_face.config.environment import REDIS_SCHEMES, env, positive_seconds, raw

# --- Configured -----------------------------------------------------------------------
CACHE_URL = env.str("CACHE_URL", default="locmemcache://events-face")
# Default: CACHE_URL's Redis server, database number + 1 (14 for 15); per process
# like the response cache when CACHE_URL is not Redis.
THROTTLE_CACHE_URL = raw("THROTTLE_CACHE_URL")
# Longest life of a cached event list/detail response, in seconds; 0 turns the
# response cache off. A write to events or venues makes every entry obsolete at
# once, whatever this says (see events/response_cache.py).
API_CACHE_SECONDS = env.int("API_CACHE_SECONDS", default=300)


# --- Computed -------------------------------------------------------------------------
# Redis has databases 0-15 unless its `databases` option says otherwise.
LAST_DEFAULT_REDIS_DATABASE = 15


def next_redis_database(url: str) -> str:
    """The same Redis server, another database: the next number (redis://h:6379/0 -> redis://h:6379/1),
    or the one before for 15, the last a default Redis has."""
    parts = urlsplit(url)
    number = parts.path.strip("/") or "0"
    if not number.isdigit():
        return url
    other = int(number) + 1 if int(number) < LAST_DEFAULT_REDIS_DATABASE else int(number) - 1
    return urlunsplit(parts._replace(path=f"/{other}"))


def cache_from_url(url: str, *, location: str) -> dict:
    config = env.cache_url_config(url)
    if config["BACKEND"].endswith("LocMemCache"):
        # Each alias its own memory; room for a few thousand rendered pages per
        # process (Django's default is 300).
        config["LOCATION"] = config.get("LOCATION") or location
        config.setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 5000)
    if config["BACKEND"].endswith("RedisCache"):
        # django-environ hands Django's Redis backend the URL's ?key_prefix=, ?timeout=
        # and ?version= in lower case, where Django does not look for them.
        for name in ("key_prefix", "timeout", "version", "key_function"):
            if name in config:
                config[name.upper()] = config.pop(name)
        # A Redis that stops answering costs a request a second, not the request
        # (redis-py waits forever by default); ?socket_timeout= in the URL overrides.
        config.setdefault("OPTIONS", {}).setdefault("socket_connect_timeout", 1.0)
        config["OPTIONS"].setdefault("socket_timeout", 1.0)
    return config


def default_throttle_cache_url(cache_url: str) -> str:
    if cache_url.startswith(REDIS_SCHEMES):
        return next_redis_database(cache_url)
    return "locmemcache://events-face-throttle"


CACHES = {
    "default": cache_from_url(CACHE_URL, location="events-face"),
    # Every rate-limit counter (core/throttling.py); nothing else writes here.
    "throttle": cache_from_url(
        THROTTLE_CACHE_URL or default_throttle_cache_url(CACHE_URL), location="events-face-throttle"
    ),
}

# After the response cache fails (Redis down or hung), each web process skips it
# for this many seconds: one request pays the socket timeout, not every request.
RESPONSE_CACHE_BREAK_SECONDS = positive_seconds("RESPONSE_CACHE_BREAK_SECONDS", default=10.0)
