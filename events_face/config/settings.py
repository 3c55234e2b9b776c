"""Events Face settings: one module, driven by environment variables (and `.env`).

Every variable is listed, with a comment, in `.env.example`. Defaults are safe
for local use: SQLite in the project folder, DEBUG on, built-in emulators for
the upstream services. With DEBUG=false the service refuses to start without a
real SECRET_KEY and turns on the HTTPS hardening `manage.py check --deploy`
asks for.
"""

import os
import zoneinfo
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
env = environ.Env()
# An empty value (`DATABASE_URL=`, as `.env.example` has them) means "not set":
# the default applies, as it would with the line left out.
env.ENVIRON = {name: value for name, value in os.environ.items() if value != ""}

# The value shipped for local use; production refuses it.
DEVELOPMENT_SECRET_KEY = "django-insecure-events-face-local-development-only"

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or is the development default, and DEBUG is false. "
        "Set SECRET_KEY to a long random value (for example the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "events_face.accounts",
    "events_face.events",
    "events_face.calendars",
    "events_face.outbox",
    "events_face.sync",
    "events_face.monitoring",
]

MIDDLEWARE = [
    # First, so that they see every response, redirects and errors included.
    "events_face.monitoring.middleware.RequestIdMiddleware",
    "events_face.monitoring.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Where Django's docs place it: after sessions, before CommonMiddleware (which
    # resolves URLs in the active language). Picks the language from Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: turns a locked-out admin login into its 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "events_face.config.urls"
WSGI_APPLICATION = "events_face.config.wsgi.application"
# API paths answer with and without the trailing slash themselves; never redirect.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's own templates (the API docs page).
        "DIRS": [BASE_DIR / "events_face" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The CSP nonce, for the inline styles of the admin and the docs page.
                "django.template.context_processors.csp",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASE_VENDOR = "sqlite" if "sqlite" in DATABASES["default"]["ENGINE"] else "postgresql"
if DATABASE_VENDOR == "sqlite":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Writers take the lock when the transaction begins, so two writers
            # queue on busy_timeout instead of failing to upgrade a read lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not :memory:, so live-server threads and subprocesses in tests
    # use real, separate connections.
    # Named after the main file, so runs against different files never share one.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test_{Path(DATABASES['default']['NAME']).stem}.sqlite3")
    }
# Connections are kept between requests (opening one, with SQLite's PRAGMAs,
# costs more than a whole cached API request).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
# A kept connection that broke (the database restarted) fails one request and is
# dropped. Checking it before each request instead costs PostgreSQL a round trip
# per request (`SELECT 1`), a sixth of a cached event page.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Messages (API errors, the admin, notifications) follow each request's
# Accept-Language among LANGUAGES; LANGUAGE_CODE when it names none of them.
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"LANGUAGE_CODE={LANGUAGE_CODE!r} is not a language of this service; set it to one of "
        f"{', '.join(code for code, _name in LANGUAGES)}."
    )
# Our translations (locale/ru/LC_MESSAGES/django.po, compiled to .mo; `make messages`).
LOCALE_PATHS = [BASE_DIR / "locale"]

# django-axes first: it refuses a locked-out admin login before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Admin login lockout (django-axes; see accounts/admin_lockout.py) --------------
# Failed admin logins per (client IP, username) before that pair is locked out, and for how long.
# The pair, not the IP or the username alone: an attacker cannot lock out the real admin.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
_axes_cooloff_minutes = env.int("AXES_COOLOFF_MINUTES", default=15)
for _name, _value in [("AXES_FAILURE_LIMIT", AXES_FAILURE_LIMIT), ("AXES_COOLOFF_MINUTES", _axes_cooloff_minutes)]:
    if _value < 1:
        # A limit of 0 locks out every login; a cool-off of 0 counts no failure.
        raise ImproperlyConfigured(f"{_name} is {_value}; set it to 1 or more.")
AXES_COOLOFF_TIME = timedelta(minutes=_axes_cooloff_minutes)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
# The API's login has its own throttle and error shape: django-axes counts and checks the admin only.
AXES_ONLY_ADMIN_SITE = True
AXES_HANDLER = "events_face.accounts.admin_lockout.AdminLoginAttempts"
AXES_CLIENT_IP_CALLABLE = "events_face.accounts.admin_lockout.client_ip"
AXES_USERNAME_CALLABLE = "events_face.accounts.admin_lockout.attempted_username"
# No banner at every start of every command; failures and lockouts are still logged.
AXES_VERBOSE = False
AXES_COOLOFF_MESSAGE = format_lazy(
    _("Too many failed logins for this username from your address. Try again in {minutes} min."),
    minutes=_axes_cooloff_minutes,
)
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without collectstatic (local runs, tests), serve straight from the apps.
WHITENOISE_USE_FINDERS = True

# Holds throttling counters and rendered event list/detail responses. The
# default is per process; with many web processes point CACHE_URL at a shared
# cache (redis://127.0.0.1:6379/0: Django's built-in Redis backend).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://events-face")}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # Room for a few thousand rendered pages per process (Django's default is 300).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 5000)
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # django-environ hands Django's Redis backend the URL's ?key_prefix=, ?timeout=
    # and ?version= in lower case, where Django does not look for them.
    for name in ("key_prefix", "timeout", "version", "key_function"):
        if name in CACHES["default"]:
            CACHES["default"][name.upper()] = CACHES["default"].pop(name)
    # A Redis that stops answering costs a request a second, not the request
    # (redis-py waits forever by default); ?socket_timeout= in the URL overrides.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("socket_connect_timeout", 1.0)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", 1.0)
# Longest life of a cached event list/detail response, in seconds; 0 turns the
# response cache off. A write to events or venues makes every entry obsolete at
# once, whatever this says (see events/response_cache.py).
API_CACHE_SECONDS = env.int("API_CACHE_SECONDS", default=300)

# Request bodies over this size get 413; the API's bodies are small.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)

# Content-Security-Policy on every response: this origin's files only, no CDN, no
# inline script, no eval. The admin and the docs page (Swagger UI from the sidecar
# package, its start script served as a file) need nothing more: their few inline
# styles carry the request's nonce, and Swagger UI's stylesheet draws icons from data: URLs.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Production hardening (DEBUG=false) -------------------------------------------
# Load balancers and Prometheus probe these over plain HTTP, and follow no redirect.
# SecurityMiddleware matches the path without its leading slash.
SECURE_REDIRECT_EXEMPT = [r"^api/health/?$", r"^api/metrics/?$"]
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("USE_X_FORWARDED_PROTO", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["events_face.core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "events_face.core.errors.api_exception_handler",
    # Password guessing and sign-up floods: per client IP, on the auth endpoints only.
    # Registrations per user: each sends a notification, so this bounds what one account
    # can mail; 20 a minute still lets a user register a group at once.
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("AUTH_THROTTLE_RATE", default="20/min"),
        "registration": env.str("REGISTRATION_THROTTLE_RATE", default="20/min"),
        "check_in": env.str("CHECK_IN_THROTTLE_RATE", default="120/min"),
    },
    # Proxies in front that append to X-Forwarded-For; 0 trusts only REMOTE_ADDR,
    # so a client cannot dodge the rate limit with a forged header.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": None,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_LIFETIME_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_LIFETIME_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Events Face API",
    "DESCRIPTION": (
        "Browse events mirrored from the events-provider, register for them, and manage "
        "JWT accounts. Every error has the shape "
        '`{"error": {"code": "...", "message": "...", "fields": {...}}}`. '
        "`message` and the `fields` messages come in the request's language, from its "
        "`Accept-Language` header (`ru` or `en`; English otherwise); `code` is a stable string "
        "that never changes with the language, so branch on it."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # /api/metrics/ takes a static token, not the JWT; its operation names this scheme.
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "metricsToken": {"type": "http", "scheme": "bearer", "description": "The value of METRICS_TOKEN."}
        }
    },
}

# --- Upstream services ---------------------------------------------------------------
# Empty means "not configured": `make run` then starts the built-in emulators.
EVENTS_PROVIDER_URL = env.str("EVENTS_PROVIDER_URL", default="")
EVENTS_PROVIDER_TOKEN = env.str("EVENTS_PROVIDER_TOKEN", default="")
NOTIFICATIONS_URL = env.str("NOTIFICATIONS_URL", default="")
NOTIFICATIONS_TOKEN = env.str("NOTIFICATIONS_TOKEN", default="")
NOTIFICATIONS_OWNER_ID = env.str("NOTIFICATIONS_OWNER_ID", default="")
# The time zone a notification shows the event's time in (named in the text, "MSK", "UTC").
NOTIFICATIONS_TIME_ZONE = env.str("NOTIFICATIONS_TIME_ZONE", default="UTC")
try:
    zoneinfo.ZoneInfo(NOTIFICATIONS_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
    raise ImproperlyConfigured(
        f"NOTIFICATIONS_TIME_ZONE={NOTIFICATIONS_TIME_ZONE!r} is not a time zone; set it to an IANA "
        "name such as UTC or Europe/Moscow."
    ) from None

# --- Outbox worker ---------------------------------------------------------------------
# Hours a message keeps being retried through passing trouble (5xx, 408, 425, 429, no answer),
# counted from the first of it; then it is failed for an operator (see outbox/outcomes.py).
OUTBOX_RETRY_HORIZON_HOURS = env.float("OUTBOX_RETRY_HORIZON_HOURS", default=72.0)
OUTBOX_POLL_INTERVAL = env.float("OUTBOX_POLL_INTERVAL", default=1.0)
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=100)
OUTBOX_CONCURRENCY = env.int("OUTBOX_CONCURRENCY", default=16)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=60)
# Total deadline of one request in seconds (connect, send, the whole answer); a lease
# must outlast 3 of them.
OUTBOX_HTTP_TIMEOUT = env.float("OUTBOX_HTTP_TIMEOUT", default=10.0)
# Retry backoff: base * 2**(attempt-1) seconds with jitter, capped (Retry-After included).
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=1.0)
OUTBOX_RETRY_MAX_SECONDS = env.float("OUTBOX_RETRY_MAX_SECONDS", default=3600.0)

# --- Event sync ------------------------------------------------------------------------
SYNC_MAX_RETRIES = env.int("SYNC_MAX_RETRIES", default=5)
# Total deadline of one page request in seconds (connect, send, the whole page).
SYNC_HTTP_TIMEOUT = env.float("SYNC_HTTP_TIMEOUT", default=30.0)
SYNC_BACKOFF_MAX = env.float("SYNC_BACKOFF_MAX", default=30.0)
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=600)
# A run that asks for more pages than this fails: a provider whose `next` never ends.
SYNC_MAX_PAGES = env.int("SYNC_MAX_PAGES", default=100_000)
# Largest page body read, in bytes; a larger page fails the run. A real 1000-event
# page is well under 1 MiB.
SYNC_MAX_PAGE_BYTES = env.int("SYNC_MAX_PAGE_BYTES", default=32 * 1024 * 1024)

# --- Monitoring ----------------------------------------------------------------------
# Bearer token for /api/metrics/; unset: metrics are open with DEBUG on, off otherwise.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Where `worker` and `sync_events --watch` serve their own counters for Prometheus:
# "PORT" (every interface) or "HOST:PORT"; empty: not served (core/metrics.py).
WORKER_METRICS_PORT = env.str("WORKER_METRICS_PORT", default="")
SYNC_METRICS_PORT = env.str("SYNC_METRICS_PORT", default="")

# --- Logging: one switch for web, worker and sync ----------------------------------------
# json: one JSON object a line (python-json-logger), for log shipping; text: for people.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # On the handler, so records of every logger (Django's, libraries') get the request's id.
        "request_id": {"()": "events_face.monitoring.request_id.RequestIdFilter"},
        # Calendar feed URLs are credentials: no line may hold one (Django logs 404 paths).
        "secret_paths": {"()": "events_face.monitoring.log_redaction.SecretPathFilter"},
    },
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s",
            "defaults": {"request_id": "-"},
        },
        # Fields: timestamp (UTC, ISO 8601), level, logger, message, request_id in a request,
        # and whatever a call passes in `extra` (the worker's message_id, outcome, ...).
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "secret_paths"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Without its own handlers: Django's default one would print its records a second
        # time, unformatted, with DEBUG on. They reach the root's handler.
        "django": {"handlers": []},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Registrations: the waiting list and cancellation -----------------------------
# How long a write for one event (registering, cancelling, a capacity change) waits
# for the event's lock (PostgreSQL lock_timeout, SQLite busy timeout) before
# answering 503 `busy` with Retry-After: the client retries. Nothing is written then.
REGISTRATION_LOCK_TIMEOUT_SECONDS = env.float("REGISTRATION_LOCK_TIMEOUT_SECONDS", default=5.0)

# --- Calendars ---
# Length in minutes of an event in calendar files: the provider gives no end time.
CALENDAR_EVENT_MINUTES = env.int("CALENDAR_EVENT_MINUTES", default=120)
if CALENDAR_EVENT_MINUTES < 1:
    raise ImproperlyConfigured("CALENDAR_EVENT_MINUTES must be a whole number of minutes, at least 1.")

# --- Check-in at the door ---
# The window in which a confirmation code can be checked in: from this many hours
# before the event's start to this many after it.
CHECK_IN_OPENS_HOURS = env.float("CHECK_IN_OPENS_HOURS", default=24)
CHECK_IN_CLOSES_HOURS = env.float("CHECK_IN_CLOSES_HOURS", default=24)

# --- Reminders ---
# Hours before an event at which each confirmed registration is reminded; 0 turns reminders off.
REMINDER_HOURS_BEFORE = env.float("REMINDER_HOURS_BEFORE", default=24)
