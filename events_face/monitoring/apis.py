"""Health check and Prometheus metrics.

`/api/health/` is public and cheap: 200 when the database answers, else 503,
JSON whatever the Accept header asks (a load balancer that sends
`Accept: text/html` must not read a 406 as "down").
`/api/metrics/` is Prometheus text (`metrics.py` says what is in it). It needs
`Authorization: Bearer $METRICS_TOKEN`; without METRICS_TOKEN configured it is
open only when DEBUG is on, and 404 otherwise, so a production deployment never
leaks it by accident. Both answer over plain HTTP in production too
(SECURE_REDIRECT_EXEMPT): load balancers and Prometheus probe them that way.
"""

import secrets

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from events_face.core import schema
from events_face.core.errors import error_body
from events_face.monitoring.metrics import metrics_exposition
from events_face.monitoring.selectors import database_is_reachable


class IgnoreAccept(BaseContentNegotiation):
    """The first renderer, whatever the client accepts: a probe's Accept header is not a reason to fail it."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0]


class HealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = IgnoreAccept

    @extend_schema(
        operation_id="health",
        auth=[],
        responses={
            200: inline_serializer("Health", {"status": serializers.CharField()}),
            503: schema.error("The database does not answer (`unavailable`)."),
        },
    )
    def get(self, request):
        if not database_is_reachable():
            return Response(error_body("unavailable", _("The database does not answer.")), status=503)
        return Response({"status": "ok"})


def bearer_token_matches(header: str, token: str) -> bool:
    """Whether an Authorization header is exactly `Bearer <token>`, for any header.

    WSGI hands a header over as latin-1 text (its raw bytes, one character
    each), which `secrets.compare_digest` refuses to compare once a character
    is not ASCII: compare the header's raw bytes with the token's UTF-8 bytes.
    """
    try:
        sent = header.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire: no byte string it could be
        return False
    return secrets.compare_digest(sent, f"Bearer {token}".encode())


class MetricsApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="metrics",
        auth=[{"metricsToken": []}],
        responses={
            (200, "text/plain"): str,
            403: schema.error("Wrong metrics token (`permission_denied`)."),
            404: schema.error("Metrics are off: METRICS_TOKEN is not set (`not_found`)."),
        },
    )
    def get(self, request):
        token = settings.METRICS_TOKEN
        if not token and not settings.DEBUG:
            raise NotFound(_("Metrics are off; set METRICS_TOKEN to turn them on."))
        if token and not bearer_token_matches(request.headers.get("Authorization", ""), token):
            raise PermissionDenied(_("A valid metrics token is required."))
        body, content_type = metrics_exposition()
        return HttpResponse(body, content_type=content_type)
