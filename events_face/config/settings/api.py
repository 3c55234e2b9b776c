"""The REST API (Django REST framework) and its OpenAPI schema (drf-spectacular)."""

from events_face.config.environment import env

from .core import DEBUG
from .security import LEGACY_NUM_PROXIES, TRUSTED_PROXIES

# --- Configured -----------------------------------------------------------------------
# Password guessing and sign-up floods: per client IP, on the auth endpoints only.
AUTH_THROTTLE_RATE = env.str("AUTH_THROTTLE_RATE", default="20/min")
# Registrations per user: each sends a notification, so this bounds what one account
# can mail; 20 a minute still lets a user register a group at once.
REGISTRATION_THROTTLE_RATE = env.str("REGISTRATION_THROTTLE_RATE", default="20/min")
# Check-in scans per staff user, against guessing codes.
CHECK_IN_THROTTLE_RATE = env.str("CHECK_IN_THROTTLE_RATE", default="120/min")

# --- Computed -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "events_face.accounts.authentication.AccessTokenUserAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["events_face.core.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "events_face.core.negotiation.CommonAcceptNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "events_face.core.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth": AUTH_THROTTLE_RATE,
        "registration": REGISTRATION_THROTTLE_RATE,
        "check_in": CHECK_IN_THROTTLE_RATE,
    },
    # With TRUSTED_PROXIES, REMOTE_ADDR already is the client's address (core/proxies.py
    # puts it there), so DRF must not look at X-Forwarded-For again. Without it, the
    # deprecated NUM_PROXIES as before (0: REMOTE_ADDR only, a forged header is ignored).
    "NUM_PROXIES": 0 if TRUSTED_PROXIES else LEGACY_NUM_PROXIES,
    "UNAUTHENTICATED_USER": None,
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
    # Two choice sets named "status" (an event's, a registration's): each enum gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "events_face.events.models.Event.Status",
        "RegistrationStatusEnum": "events_face.events.models.Registration.Status",
    },
}
