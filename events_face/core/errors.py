"""One JSON error shape for the whole API.

Every error a client can see looks like

    {"error": {"code": "already_registered", "message": "...", "fields": {...}}}

`code` is a stable string a client can branch on; `fields` is present only
for invalid input and maps each field to its messages. Messages come in the
request's language (LocaleMiddleware reads Accept-Language); codes never change
with it. Messages defined at import time are lazy (gettext_lazy) and become
text here, when the answer is written. Services raise
`ServiceError` subclasses (no HTTP inside them); this module turns those, DRF's
and Django's exceptions into that shape. Anything else is a bug and stays a 500.

No error, and no answer that does not say otherwise itself, is stored by a shared
cache or a browser: `PrivateByDefaultMiddleware` gives them `Cache-Control:
private, no-store`. Only the catalogue's reads say otherwise (events/response_cache.py).
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from events_face.core.metrics import THROTTLED_REQUESTS


class ServiceError(Exception):
    """A business rule refused the operation; subclasses set status and code.

    `fields` maps input fields to messages, for refusals about one field
    (a taken username, a weak password). A subclass may set `retry_after`
    (seconds): the answer carries it as a Retry-After header. `details` adds
    named facts about the refusal to the error object (already_checked_in: the
    registration and when it checked in).
    """

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    default_message = _("The request could not be carried out.")
    retry_after: int | None = None

    # Seconds after which a retry may succeed, sent as Retry-After (a 429's).
    retry_after: int | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
        details: dict[str, object] | None = None,
    ):
        self.message = message or self.default_message
        self.fields = fields
        self.details = details
        if retry_after is not None:
            self.retry_after = retry_after
        super().__init__(self.message)


class InvalidInput(ServiceError):
    default_message = _("The request is invalid.")


class TokenInvalid(ServiceError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "token_not_valid"
    default_message = _("The token is invalid or expired.")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    """The error shape; lazy messages become text in the active language here."""
    body = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = {name: [str(text) for text in texts] for name, texts in fields.items()}
    return {"error": body}


def _first_code(codes) -> str:
    """The first error code in DRF's nested codes structure."""
    while isinstance(codes, dict | list):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def _fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {name: _messages(value) for name, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _messages(value, prefix: str = "") -> list[str]:
    """A flat list of messages; errors of list items are prefixed "item N: "."""
    if isinstance(value, dict):
        return [
            message
            for key, inner in value.items()
            for message in _messages(
                inner, f"{prefix}{_item(key)}: " if str(key).isdigit() else f"{prefix}{key}: "
            )
        ]
    if isinstance(value, list):
        return [message for item in value for message in _messages(item, prefix)]
    return [f"{prefix}{value}"]


def _item(index) -> str:
    return gettext("item %(index)s") % {"index": index}


def _throttled_message(wait: int | None) -> str:
    """The 429's message; `wait` is DRF's, already rounded up, the same as Retry-After."""
    if wait is None:
        return gettext("Too many requests. Try again later.")
    return ngettext(
        "Too many requests. Try again in %(wait)d second.",
        "Too many requests. Try again in %(wait)d seconds.",
        wait,
    ) % {"wait": wait}


# What `api_exception_handler` answers (a 4xx of its own shape); anything else is a 500.
ANSWERED_ERRORS = (RequestDataTooBig, Http404, PermissionDenied, ServiceError, exceptions.APIException)


def api_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, ServiceError):
        set_rollback()
        headers = {"WWW-Authenticate": 'Bearer realm="api"'} if exc.status_code == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, exc.retry_after))
        body = error_body(exc.code, exc.message, exc.fields)
        if exc.details:
            body["error"].update(exc.details)
        return Response(body, status=exc.status_code, headers=headers)
    if not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, exceptions.Throttled):
        # Every throttle refusal passes here: the one place it is counted.
        scope = getattr(context.get("view"), "throttle_scope", None) or "unscoped"
        THROTTLED_REQUESTS.labels(scope=scope).inc()

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", gettext("The request is invalid."), _fields(detail))
    elif isinstance(detail, dict):
        # SimpleJWT's token errors: {"detail": ..., "code": ..., "messages": [...]}.
        body = error_body(
            str(detail.get("code", exc.default_code)),
            str(detail.get("detail", exc.default_detail)),
        )
    elif isinstance(exc, exceptions.Throttled):
        # Ours, not DRF's "Request was throttled. Expected available in N seconds."
        body = error_body("throttled", _throttled_message(exc.wait))
    else:
        body = error_body(_first_code(exc.get_codes()), str(detail))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


# Django-level handlers, for URLs no API view matched (active when DEBUG is false).
# JSON only under /api/; the admin and other HTML pages get Django's own pages.
def _under_api(request) -> bool:
    return request.path_info.startswith("/api/")


def not_found(request, exception=None):
    if not _under_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body("not_found", gettext("Not found.")), status=404)


def bad_request(request, exception=None):
    if not _under_api(request):
        return defaults.bad_request(request, exception)
    return JsonResponse(error_body("bad_request", gettext("Bad request.")), status=400)


def server_error(request):
    if not _under_api(request):
        return defaults.server_error(request)
    return JsonResponse(error_body("server_error", gettext("Internal server error.")), status=500)


PRIVATE_NO_STORE = "private, no-store"


class PrivateByDefaultMiddleware:
    """`Cache-Control: private, no-store` on every error and on every answer that sets none.

    One place for "personal data and errors are never stored": a registration
    list, a token, a 401 or a 400 says nothing about caching itself, and a
    shared cache in front of the API could otherwise keep it. An answer that
    sets its own Cache-Control (the catalogue's reads, static files, the admin)
    keeps it, unless it is an error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code >= 400 or not response.has_header("Cache-Control"):
            response["Cache-Control"] = PRIVATE_NO_STORE
        return response
