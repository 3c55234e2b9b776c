"""Accounts: password rules, the admin's login lockout (django-axes) and JWT lifetimes."""

from datetime import timedelta

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from events_face.config.environment import env

from .core import SECRET_KEY

# --- Configured -----------------------------------------------------------------------
# Failed admin logins per (client IP, username) before that pair is locked out, and for how
# long (accounts/admin_lockout.py). Both at least 1 (checked: events_face.E003).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
JWT_ACCESS_TOKEN_LIFETIME_MINUTES = env.int("JWT_ACCESS_TOKEN_LIFETIME_MINUTES", default=15)
JWT_REFRESH_TOKEN_LIFETIME_DAYS = env.int("JWT_REFRESH_TOKEN_LIFETIME_DAYS", default=7)

# --- Fixed and computed -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out admin login before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# The pair, not the IP or the username alone: an attacker cannot lock out the real admin.
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
# The API's login has its own throttle and error shape: django-axes counts and checks the admin only.
AXES_ONLY_ADMIN_SITE = True
# Counts in the database (AccessAttempt rows), not in a cache: no cache eviction can reset it.
AXES_HANDLER = "events_face.accounts.admin_lockout.AdminLoginAttempts"
AXES_CLIENT_IP_CALLABLE = "events_face.accounts.admin_lockout.client_ip"
AXES_USERNAME_CALLABLE = "events_face.accounts.admin_lockout.attempted_username"
# No banner at every start of every command; failures and lockouts are still logged.
AXES_VERBOSE = False
AXES_COOLOFF_MESSAGE = format_lazy(
    _("Too many failed logins for this username from your address. Try again in {minutes} min."),
    minutes=AXES_COOLOFF_MINUTES,
)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=JWT_ACCESS_TOKEN_LIFETIME_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=JWT_REFRESH_TOKEN_LIFETIME_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": SECRET_KEY,
}
