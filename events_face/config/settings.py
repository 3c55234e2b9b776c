"""Events Face settings: one module, driven by environment variables (and `.env`).

Every variable is listed, with a comment, in `.env.example`. Defaults are safe
for local use: SQLite in the project folder, DEBUG on, built-in emulators for
the upstream services. With DEBUG=false the service refuses to start without a
real SECRET_KEY and turns on the HTTPS hardening `manage.py check --deploy`
asks for.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "events_face.accounts",
    "events_face.events",
    "events_face.outbox",
    "events_face.sync",
    "events_face.monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "events_face.config.urls"
WSGI_APPLICATION = "events_face.config.wsgi.application"
# API paths answer with and without the trailing slash themselves; never redirect.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
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

LANGUAGE_CODE = "en-us"
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

# --- Production hardening (DEBUG=false) -------------------------------------------
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
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "events_face.core.errors.api_exception_handler",
    # Password guessing and sign-up floods: per client IP, on the auth endpoints only.
    # Registrations per user: each sends a notification, so this bounds what one account
    # can mail; 20 a minute still lets a user register a group at once.
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("AUTH_THROTTLE_RATE", default="20/min"),
        "registration": env.str("REGISTRATION_THROTTLE_RATE", default="20/min"),
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
        '`{"error": {"code": "...", "message": "...", "fields": {...}}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Upstream services ---------------------------------------------------------------
# Empty means "not configured": `make run` then starts the built-in emulators.
EVENTS_PROVIDER_URL = env.str("EVENTS_PROVIDER_URL", default="")
EVENTS_PROVIDER_TOKEN = env.str("EVENTS_PROVIDER_TOKEN", default="")
NOTIFICATIONS_URL = env.str("NOTIFICATIONS_URL", default="")
NOTIFICATIONS_TOKEN = env.str("NOTIFICATIONS_TOKEN", default="")
NOTIFICATIONS_OWNER_ID = env.str("NOTIFICATIONS_OWNER_ID", default="")

# --- Outbox worker ---------------------------------------------------------------------
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=20)
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
