"""The product's settings, with the benchmark's URLs (the product's plus /floor/).

The event list benchmark runs its gunicorn servers with
DJANGO_SETTINGS_MODULE=bench.floor_settings, so the floor is served by the
same processes, middleware and configuration as the API it is compared with.
"""

from events_face.config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
