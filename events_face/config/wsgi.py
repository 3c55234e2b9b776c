"""WSGI entry point (gunicorn events_face.config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "events_face.config.settings")

application = get_wsgi_application()
