"""Django's core: DEBUG, SECRET_KEY, hosts, apps, middleware, templates and static files."""

from events_face.config import environment
from events_face.config.environment import BASE_DIR, DEVELOPMENT_SECRET_KEY, env  # noqa: F401

VAR_DIR = BASE_DIR / "var"

# --- Configured -----------------------------------------------------------------------
DEBUG = environment.debug()
# Production refuses a missing or development key at once, in one line (environment.py).
SECRET_KEY = environment.secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# gunicorn's worker processes (gunicorn.conf.py reads the same rule): the system check
# events_face.E004 needs the number.
WEB_CONCURRENCY = environment.web_processes()
# Request bodies over this size get 413; the API's bodies are small.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)

# --- Fixed ------------------------------------------------------------------------------
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
    # The system checks of the settings (config/checks.py).
    "events_face.config",
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
    # Answers that say nothing about caching get "private, no-store" (errors, personal
    # data); here, so it sees the other middlewares' answers too.
    "events_face.core.errors.PrivateByDefaultMiddleware",
    # Before anything reads the client's address or scheme (security.py, TRUSTED_PROXIES).
    "events_face.core.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Picks the language from Accept-Language (or the language cookie): the API's errors
    # and the admin alike. Before CommonMiddleware, which resolves URLs in that language.
    # Django's, with a shorter way for the API (core/pages.py).
    "events_face.core.pages.LocaleMiddleware",
    # The rest serve the admin and the HTML pages only; the API skips them (core/pages.py).
    "events_face.core.pages.PagesMiddleware",
]

# Django's, the admin's and django-axes' checks look for their middleware in MIDDLEWARE
# only; events_face.E006 (config/checks.py) checks PAGES_MIDDLEWARE for all of it instead.
SILENCED_SYSTEM_CHECKS = [
    "admin.E408",  # AuthenticationMiddleware
    "admin.E409",  # MessageMiddleware
    "admin.E410",  # SessionMiddleware
    "axes.W002",  # AxesMiddleware
    "security.W002",  # XFrameOptionsMiddleware
    "security.W003",  # CsrfViewMiddleware
]

# Run by PagesMiddleware for every path but the API's, in this order.
PAGES_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
# Filled by `collectstatic` (`make serve`), which creates it.
STATIC_ROOT = VAR_DIR / "static"
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
