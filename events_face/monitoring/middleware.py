"""The first middleware of every request: its count and latency.

It sits above every other middleware (settings.MIDDLEWARE), so it sees every
response: the HTTPS redirect, a throttled 429, a 404 no URL matched, a 500
from an exception (Django turns it into a response below it).
"""

import time

from events_face.monitoring.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_name(request) -> str:
    """The URL pattern a request matched, by name (or its route when unnamed); "unmatched"
    when none did. A bounded set, whatever paths clients ask for."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route


class RequestMetricsMiddleware:
    """Counts each response and its latency by route, method and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        labels = {
            "route": route_name(request),
            "method": request.method if request.method in METHODS else "other",
            "status": str(response.status_code),
        }
        HTTP_REQUESTS.labels(**labels).inc()
        HTTP_REQUEST_DURATION.labels(**labels).observe(seconds)
        return response
