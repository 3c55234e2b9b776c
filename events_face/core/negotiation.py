"""Content negotiation: DRF's, answered at once for what nearly every client sends.

Every API answer is JSON (`DEFAULT_RENDERER_CLASSES`), and nearly every client
sends `Accept: application/json`, `*/*` or nothing. DRF's negotiation parses the
header into media types and orders them by precedence on each request: in the
profile of a registration that cost as much as its throttles. For those three it
answers here what DRF's would (the first renderer, and its media type as the
accepted one); any other header, a `?format=` or a format suffix goes to DRF's, so a
client that accepts only something else still gets its 406.
`tests/test_negotiation.py` holds both to the same answers.
"""

from rest_framework.negotiation import DefaultContentNegotiation

COMMON_ACCEPTS = frozenset({"*/*", "application/json"})


class CommonAcceptNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if (
            accept in COMMON_ACCEPTS
            and format_suffix is None
            and renderers
            and renderers[0].media_type == "application/json"
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
