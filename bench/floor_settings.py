"""The floor of the event list benchmark: a bare Django view, `MIDDLEWARE = []`.

None of the product's settings, apps or middleware: what the product adds to a
request is part of its cost, so the floor runs none of it. It is served as the
product is, by the launcher with gunicorn.conf.py (bench/event_list_http.py),
only with DJANGO_SETTINGS_MODULE=bench.floor_settings.
"""

import os

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.floor_urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
