"""Every rule that spans settings, as a Django system check.

`manage.py check --deploy` reports all of them at once (plain `check` all but
E004, a deployment check); every management command runs them before it
starts (`worker` refuses to start on events_face.E005). Each message names the
variable to fix.

    events_face.E001  LANGUAGE_CODE is one of LANGUAGES
    events_face.E002  NOTIFICATIONS_TIME_ZONE is a time zone
    events_face.E003  AXES_FAILURE_LIMIT and AXES_COOLOFF_MINUTES are at least 1
    events_face.E004  production with several web processes shares its rate-limit counters (--deploy)
    events_face.E005  an outbox lease outlasts three HTTP deadlines
    events_face.E006  the pages' middleware (admin, CSRF, CSP, axes) is in PAGES_MIDDLEWARE, in order
    events_face.W001  NUM_PROXIES is deprecated by TRUSTED_PROXIES
    events_face.W002  USE_X_FORWARDED_PROTO is deprecated by TRUSTED_PROXIES
    events_face.W004  OUTBOX_HTTP_TIMEOUT and SYNC_HTTP_TIMEOUT are renamed *_HTTP_DEADLINE_SECONDS
    events_face.W003  the rate-limit counters share a store with the response cache

The tags say which process a rule concerns: SETTINGS_TAG, every process;
OUTBOX_TAG, the outbox worker.
"""

import zoneinfo

from django.conf import settings
from django.core.checks import Error, Warning, register

SETTINGS_TAG = "events_face_settings"
OUTBOX_TAG = "events_face_outbox"

# Caches whose entries live in one process's memory: counters kept there are per process.
PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(SETTINGS_TAG)
def language_code_is_ours(app_configs, **kwargs) -> list:
    languages = dict(settings.LANGUAGES)
    if settings.LANGUAGE_CODE in languages:
        return []
    return [
        Error(
            f"LANGUAGE_CODE={settings.LANGUAGE_CODE!r} is not a language of this service.",
            hint=f"Set LANGUAGE_CODE to one of {', '.join(languages)}.",
            id="events_face.E001",
        )
    ]


@register(SETTINGS_TAG)
def notifications_time_zone_exists(app_configs, **kwargs) -> list:
    name = settings.NOTIFICATIONS_TIME_ZONE
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return [
            Error(
                f"NOTIFICATIONS_TIME_ZONE={name!r} is not a time zone.",
                hint="Set NOTIFICATIONS_TIME_ZONE to an IANA name such as UTC or Europe/Moscow.",
                id="events_face.E002",
            )
        ]
    return []


@register(SETTINGS_TAG)
def admin_lockout_counts(app_configs, **kwargs) -> list:
    # A limit of 0 locks out every login; a cool-off of 0 counts no failure.
    return [
        Error(
            f"{name} is {value}: a limit below 1 locks out every admin login, a cool-off below 1 counts none.",
            hint=f"Set {name} to 1 or more.",
            id="events_face.E003",
        )
        for name, value in [
            ("AXES_FAILURE_LIMIT", settings.AXES_FAILURE_LIMIT),
            ("AXES_COOLOFF_MINUTES", settings.AXES_COOLOFF_MINUTES),
        ]
        if value < 1
    ]


@register(SETTINGS_TAG, deploy=True)
def rate_limits_shared_by_web_processes(app_configs, **kwargs) -> list:
    """Counters in each process's memory let N processes admit N times the rate.

    A deployment check (`manage.py check --deploy`, the production checklist): it
    concerns the web processes, so it does not stop `migrate`, `worker` or a
    benchmark's production-like run. gunicorn.conf.py warns at start on the same rule.
    Development (DEBUG=true) is left alone: `make run` serves from one process.
    """
    if settings.DEBUG or settings.WEB_CONCURRENCY <= 1:
        return []
    if settings.CACHES["throttle"]["BACKEND"] not in PER_PROCESS_CACHES:
        return []
    return [
        Error(
            f"The rate-limit counters are kept in each web process's memory, and there are "
            f"{settings.WEB_CONCURRENCY} web processes (WEB_CONCURRENCY): every rate limit "
            "would let that many times its requests through.",
            hint="Set CACHE_URL (or THROTTLE_CACHE_URL) to a shared cache such as "
            "redis://127.0.0.1:6379/0, or WEB_CONCURRENCY=1.",
            id="events_face.E004",
        )
    ]


@register(OUTBOX_TAG)
def outbox_lease_outlasts_its_requests(app_configs, **kwargs) -> list:
    from events_face.outbox.delivery import REQUEST_BUDGET_TIMEOUTS, request_budget_seconds

    if request_budget_seconds() < settings.OUTBOX_LEASE_SECONDS:
        return []
    return [
        Error(
            f"OUTBOX_LEASE_SECONDS ({settings.OUTBOX_LEASE_SECONDS}) must be more than "
            f"{REQUEST_BUDGET_TIMEOUTS} x OUTBOX_HTTP_DEADLINE_SECONDS ({settings.OUTBOX_HTTP_DEADLINE_SECONDS}): "
            "a lease must outlast the requests made under it, or a second worker sends the message again.",
            hint="Raise OUTBOX_LEASE_SECONDS or lower OUTBOX_HTTP_DEADLINE_SECONDS.",
            id="events_face.E005",
        )
    ]


# Django's, the admin's and django-axes' own checks look for these in MIDDLEWARE; they
# run from PAGES_MIDDLEWARE (core/pages.py), so those checks are silenced
# (settings/core.py) and this one stands in for them: all present, in this order.
PAGES_REQUIRED = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]


@register(SETTINGS_TAG)
def pages_middleware_complete(app_configs, **kwargs) -> list:
    pages = list(getattr(settings, "PAGES_MIDDLEWARE", []))
    if "events_face.core.pages.PagesMiddleware" in settings.MIDDLEWARE and all(
        path in pages for path in PAGES_REQUIRED
    ):
        positions = [pages.index(path) for path in PAGES_REQUIRED]
        if positions == sorted(positions) and positions[-1] == len(pages) - 1:
            return []
    return [
        Error(
            "The admin and the pages need sessions, CSRF, authentication, messages, X-Frame-Options, "
            "the CSP and django-axes (last) in PAGES_MIDDLEWARE, run by "
            "events_face.core.pages.PagesMiddleware in MIDDLEWARE.",
            hint="Keep MIDDLEWARE and PAGES_MIDDLEWARE as events_face/config/settings/core.py has them.",
            id="events_face.E006",
        )
    ]


@register(SETTINGS_TAG)
def old_proxy_variables(app_configs, **kwargs) -> list:
    warnings = []
    if not settings.TRUSTED_PROXIES and settings.LEGACY_NUM_PROXIES:
        warnings.append(
            Warning(
                f"NUM_PROXIES={settings.LEGACY_NUM_PROXIES} is deprecated: it believes X-Forwarded-For "
                "from any client, so a client that reaches the server directly can pick the address "
                "the rate limits and the admin lockout count.",
                hint="Set TRUSTED_PROXIES to the addresses of your proxies and remove NUM_PROXIES.",
                id="events_face.W001",
            )
        )
    if not settings.TRUSTED_PROXIES and settings.LEGACY_USE_X_FORWARDED_PROTO:
        warnings.append(
            Warning(
                "USE_X_FORWARDED_PROTO=true is deprecated: it believes X-Forwarded-Proto from any client.",
                hint="Set TRUSTED_PROXIES to the addresses of your proxies and remove USE_X_FORWARDED_PROTO.",
                id="events_face.W002",
            )
        )
    return warnings


# Old names of settings, still read while the new one is unset: (old, new).
RENAMED_VARIABLES = [
    ("OUTBOX_HTTP_TIMEOUT", "OUTBOX_HTTP_DEADLINE_SECONDS"),
    ("SYNC_HTTP_TIMEOUT", "SYNC_HTTP_DEADLINE_SECONDS"),
]


@register(SETTINGS_TAG)
def old_variable_names(app_configs, **kwargs) -> list:
    return [
        Warning(
            f"{old} is the old name of {new} (a total deadline: connect, send and the whole answer).",
            hint=f"Rename {old} to {new} in the environment or .env.",
            id="events_face.W004",
        )
        for old, new in RENAMED_VARIABLES
        if getattr(settings, f"LEGACY_{old}", None) is not None
    ]


@register(SETTINGS_TAG)
def counters_apart_from_responses(app_configs, **kwargs) -> list:
    default, throttle = settings.CACHES["default"], settings.CACHES["throttle"]
    same_store = default["BACKEND"] == throttle["BACKEND"] and default.get("LOCATION") == throttle.get(
        "LOCATION"
    )
    if not same_store or default["BACKEND"] == "django.core.cache.backends.dummy.DummyCache":
        return []
    return [
        Warning(
            "The rate-limit counters and the response cache share one store: response entries "
            "can push counters out, and an evicted counter lets a client start over.",
            hint="Point THROTTLE_CACHE_URL at another Redis database or server than CACHE_URL "
            "(or leave it unset for the next database number).",
            id="events_face.W003",
        )
    ]
