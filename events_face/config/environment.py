"""Reading the environment, for the Django settings and for gunicorn.conf.py alike.

Django-free on purpose: gunicorn.conf.py runs in gunicorn's master before Django
is imported, and the rules that both must read the same way live here once:
what a boolean is, whether logs are json, how many web processes there are,
which proxies are trusted.

A value that cannot be read stops the process with one line naming the
variable (`MisconfiguredEnvironment`, a SystemExit: no traceback, whatever command
reads the settings). Rules that span several settings are Django system
checks instead (events_face/config/checks.py), so `manage.py check` reports
them all at once.
"""

import ipaddress
import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The same `.env` for every process; variables already set in the environment win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# django-environ's reader for the settings' strings, numbers, lists and URLs. An
# empty value (`DATABASE_URL=`, as `.env.example` has them) means "not set": the
# default applies, as it would with the line left out.
env = environ.Env()
env.ENVIRON = {name: value for name, value in os.environ.items() if value != ""}

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


class MisconfiguredEnvironment(SystemExit):
    """A variable that cannot be read: the process stops with this one line (exit status 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Configuration error: {message}")


def raw(name: str) -> str:
    """The variable's value; an empty one (`DATABASE_URL=`, as .env.example has them) is unset."""
    return os.environ.get(name, "").strip()


def boolean(name: str, default: bool) -> bool:
    """true/false, 1/0, yes/no, on/off in any case; anything else stops the process, naming `name`."""
    value = raw(name).lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise MisconfiguredEnvironment(
        f"{name}={raw(name)!r} is not a boolean; set it to true or false "
        f"(also accepted: {'/'.join(TRUE_WORDS[1:])}, {'/'.join(FALSE_WORDS[1:])})."
    )


def whole_number(name: str, default: int, *, minimum: int) -> int:
    """The variable as an integer of at least `minimum`; anything else stops the process, naming it."""
    value = raw(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise MisconfiguredEnvironment(
            f"{name} must be a whole number, at least {minimum}, not {value!r} (see .env.example)."
        )
    return number


def positive_seconds(name: str, default: float) -> float:
    """The variable as a number of seconds above 0; anything else stops the process, naming it."""
    value = raw(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise MisconfiguredEnvironment(
            f"{name} must be a positive number of seconds, not {value!r} (see .env.example)."
        )
    return seconds


def debug() -> bool:
    return boolean("DEBUG", default=True)


def log_format() -> str:
    """LOG_FORMAT: json or text; by default json in production (DEBUG=false), text otherwise."""
    value = raw("LOG_FORMAT") or ("text" if debug() else "json")
    if value not in ("json", "text"):
        raise MisconfiguredEnvironment(f"LOG_FORMAT must be json or text, not {value!r}.")
    return value


def web_processes() -> int:
    """gunicorn's worker processes: WEB_CONCURRENCY, by default two per core plus one.

    The usual rule for a synchronous worker that waits on the database.
    WEB_CONCURRENCY is the name hosting platforms set.
    """
    return whole_number("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1, minimum=1)


REDIS_SCHEMES = ("redis://", "rediss://")


def rate_limit_counters_per_process() -> bool:
    """Whether the rate-limit counters live in each process's memory (config/settings/cache.py).

    THROTTLE_CACHE_URL if set; otherwise they follow CACHE_URL onto Redis, and
    stay per process for any other CACHE_URL (or none).
    """
    throttle_url = raw("THROTTLE_CACHE_URL")
    if throttle_url:
        return throttle_url.startswith(("locmemcache:", "dummycache:"))
    return not raw("CACHE_URL").startswith(REDIS_SCHEMES)


def trusted_proxies() -> list[str]:
    """TRUSTED_PROXIES: addresses or networks of the proxies that connect to this server.

    Only a request whose peer is one of them may say, in X-Forwarded-For and
    X-Forwarded-Proto, who the client is and whether it used HTTPS. Empty (the
    default): no proxy in front, and those headers are believed from no one.
    """
    entries = [entry.strip() for entry in raw("TRUSTED_PROXIES").split(",") if entry.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry)
        except ValueError:
            raise MisconfiguredEnvironment(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network (such as 10.0.0.5 or 10.0.0.0/24)."
            ) from None
    return entries


# The value shipped for local use; production (DEBUG=false) refuses it.
DEVELOPMENT_SECRET_KEY = "django-insecure-events-face-local-development-only"


def secret_key() -> str:
    """SECRET_KEY; with DEBUG=false, missing or the development value stops the process, naming it.

    Checked before anything else reads the settings (every other setting, signed
    tokens and sessions, depends on it), and by gunicorn.conf.py in gunicorn's master.
    """
    value = raw("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
    if not debug() and value == DEVELOPMENT_SECRET_KEY:
        raise MisconfiguredEnvironment(
            "SECRET_KEY is missing or is the development default, and DEBUG is false. "
            "Set SECRET_KEY to a long random value (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`)."
        )
    return value
