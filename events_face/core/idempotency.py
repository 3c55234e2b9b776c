"""The `Idempotency-Key` request header: a client's name for one operation, so a retry is recognised."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

MAX_IDEMPOTENCY_KEY_LENGTH = 255


def idempotency_key_read(request) -> str | None:
    """The request's key, surrounding spaces dropped; None without one. Longer than the limit: a 400."""
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValidationError(
            {"Idempotency-Key": [_("At most %(count)d characters.") % {"count": MAX_IDEMPOTENCY_KEY_LENGTH}]}
        )
    return key


def idempotency_key_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter(
        "Idempotency-Key", location=OpenApiParameter.HEADER, required=False, description=description
    )
