"""OpenAPI pieces shared by every API: the error shape and its responses, and the schema's view."""

import copy

from django.utils import translation
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers


def _error_shape(name: str, **details: serializers.Field) -> serializers.Serializer:
    """`{"error": {"code", "message", ...}}` as component `name` (its detail: `<name>Detail`)."""
    return inline_serializer(
        name=name,
        fields={
            "error": inline_serializer(
                name=f"{name}Detail",
                fields={
                    "code": serializers.CharField(help_text="Stable machine-readable code."),
                    "message": serializers.CharField(),
                    # Copies, made after the two above: a serializer orders its fields as they were made.
                    **{key: copy.deepcopy(field) for key, field in details.items()},
                },
            )
        },
    )


ErrorSerializer = _error_shape(
    "Error",
    fields=serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages, for invalid input only.",
    ),
)


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


def error_with_details(description: str, *, name: str, **details: serializers.Field) -> OpenApiResponse:
    """An error whose detail carries more than a code and a message, typed: `details`, as component
    `name`. For errors a client acts on (who already checked in, and when), so that a generated client
    reads them as typed fields rather than as untyped extras of `Error`."""
    return OpenApiResponse(response=_error_shape(name, **details), description=description)


BAD_REQUEST = error("Invalid input or JSON nested too deeply (`invalid`), malformed JSON (`parse_error`).")
UNAUTHORIZED = error(
    "No token (`not_authenticated`); an expired access token (`token_expired`: get a new pair from "
    "`POST /api/auth/token/refresh/`); any other bad token (`token_not_valid`: log in again). "
    'A refused token\'s `WWW-Authenticate` is `Bearer realm="api", error="invalid_token", '
    'error_description="The access token expired"` (or `"The access token is invalid"`).'
)
NOT_FOUND = error("Not found (`not_found`).")
TOO_LARGE = error("Request body too large (`payload_too_large`).")
UNSUPPORTED = error("Body is not JSON (`unsupported_media_type`).")


class EnglishSchemaView(SpectacularAPIView):
    """The OpenAPI schema, in English whatever the request's Accept-Language.

    Error messages follow the request's language; the schema is one document for
    every client. Rendered inside the override: its lazy texts (Django's and
    DRF's) become text only when rendered, after the view has returned.
    """

    def dispatch(self, request, *args, **kwargs):
        with translation.override("en"):
            response = super().dispatch(request, *args, **kwargs)
            response.render()
        response.headers["Content-Language"] = "en"
        return response
