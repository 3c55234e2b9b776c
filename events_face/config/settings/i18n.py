"""Languages and time: messages follow each request's Accept-Language among LANGUAGES."""

from django.utils.translation import gettext_lazy as _

from events_face.config.environment import BASE_DIR, env

# --- Configured -----------------------------------------------------------------------
# The language of requests whose Accept-Language names none of LANGUAGES
# (checked: events_face.E001).
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")

# --- Fixed ------------------------------------------------------------------------------
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
USE_I18N = True
# Our translations (locale/ru/LC_MESSAGES/django.po, compiled to .mo; `make messages`).
LOCALE_PATHS = [BASE_DIR / "locale"]
# Stored and computed in UTC; a notification's text names its own zone (NOTIFICATIONS_TIME_ZONE).
TIME_ZONE = "UTC"
USE_TZ = True
# The admin's times carry their zone ("UTC"): events_face/core/formats/.
FORMAT_MODULE_PATH = "events_face.core.formats"
