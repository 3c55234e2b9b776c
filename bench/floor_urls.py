"""`/floor/`: a bare Django view answering fixed bytes.

The bytes are the service's own page 1, saved by the benchmark to the file
named by BENCH_FLOOR_BODY, read once per process on the first request. What
the floor costs is Django itself: the WSGI handler, URL resolution and an
HttpResponse, with no middleware, auth, query or rendering.
"""

import os
from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.urls import path


@cache
def _floor_body() -> bytes:
    return Path(os.environ["BENCH_FLOOR_BODY"]).read_bytes()


def floor(request):
    return HttpResponse(_floor_body(), content_type="application/json")


urlpatterns = [path("floor/", floor)]
