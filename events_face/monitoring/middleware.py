"""The first two middlewares of every request: its id, then its count and latency.

Both sit above every other middleware (settings.MIDDLEWARE), so they see every
response: the HTTPS redirect, a throttled 429, a 404 no URL matched, a 500
from an exception (Django turns it into a response below them).
"""

import time

from events_face.monitoring.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS
from events_face.monitoring.request_id import HEADER, current_request_id, request_id_from_header

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
META_KEY = "HTTP_" + HEADER.upper().replace("-", "_")


class RequestIdMiddleware:
    """Gives the request its id (`request_id.py`), for its log lines and its `X-Request-ID` response header.

    The id stays current until the response is closed (`request_id_forget`, on
    `request_finished`), not only until this returns: Django logs a 4xx or 5xx
    response ("Not Found: ...") after the middlewares have handed it back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # From META, not request.headers: that builds a dict of every header, on every request.
        request_id = request_id_from_header(request.META.get(META_KEY))
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
    """Counts each response and its latency by route, method and status.

    The two series of each (route, method, status) are looked up once per process and
    kept (`series`): prometheus-client's `labels()` checks and locks on every call,
    which cost a tenth of a cached page (bench/request_profile.py). The labels are a
    bounded set (`route_name`, `METHODS`, the status codes), so the dict is too.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.series: dict[tuple[str, str, int], tuple] = {}

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        key = (route_name(request), request.method, response.status_code)
        series = self.series.get(key)
        if series is None:
            labels = {
                "route": key[0],
                "method": key[1] if key[1] in METHODS else "other",
                "status": str(key[2]),
            }
            series = (HTTP_REQUESTS.labels(**labels), HTTP_REQUEST_DURATION.labels(**labels))
            if key[1] in METHODS:  # an unknown method is counted, never kept by its name
                self.series[key] = series
        counter, duration = series
        counter.inc()
        duration.observe(seconds)
        return response
