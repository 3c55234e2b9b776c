"""The first two middlewares of every request: its id, then its count and latency.

Both sit above every other middleware (settings.MIDDLEWARE), so they see every
response: the HTTPS redirect, a throttled 429, a 404 no URL matched, a 500
from an exception (Django turns it into a response below them).
"""

import time

from events_face.monitoring.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS
from events_face.monitoring.request_id import HEADER, current_request_id, request_id_from_header

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestIdMiddleware:
    """Gives the request its id (`request_id.py`), for its log lines and its `X-Request-ID` response header.

    The id stays current until the response is closed (`request_id_forget`, on
    `request_finished`), not only until this returns: Django logs a 4xx or 5xx
    response ("Not Found: ...") after the middlewares have handed it back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from_header(request.headers.get(HEADER))
        current_request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def route_name(request) -> str:
    """The URL pattern a request matched, by its name (an unnamed one by its view's dotted
    path); "unmatched" when none did. A bounded set, whatever paths clients ask for."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else "unmatched"


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
