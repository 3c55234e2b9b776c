"""Failed admin logins lock out one username from one address for a while (django-axes).

What is counted: failed logins to the admin site only, per (client IP,
username) pair. `AXES_FAILURE_LIMIT` failures in a row lock that pair out for
`AXES_COOLOFF_MINUTES`; the lockout answers 429 with a plain message. A
successful login clears the pair's count.

Why the pair: an attacker can lock out only the names they guess from their
own address, never the real admin at theirs, and no one can lock out everyone.
Guessing from many addresses is not stopped here (one pair each); long admin
passwords are the defence against that.

The API's login is left alone: it has its own throttle per client IP
(`AUTH_THROTTLE_RATE`) and answers 401/429 in the API's error shape. Its
failed logins reach django-axes too (SimpleJWT calls Django's `authenticate`),
so the handler here ignores every request outside the admin, and
`AXES_ONLY_ADMIN_SITE` keeps the lockout check to the admin.

The client IP is the one the API's throttle uses (DRF's `get_ident`:
REMOTE_ADDR, which core/proxies.py sets to the client's address behind
`TRUSTED_PROXIES`; with the deprecated `NUM_PROXIES`, the address the nearest
proxies saw), so both limits count the same client. `manage.py axes_reset` (or
`axes_reset_username NAME`) lifts lockouts at once.
"""

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from rest_framework.throttling import BaseThrottle

from events_face.accounts.services import username_canonical


class AdminLoginAttempts(AxesDatabaseHandler):
    """django-axes' database handler, for the admin site's logins only."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None and self.is_admin_request(request):
            super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        if request is not None and self.is_admin_request(request):
            super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender, request, user, **kwargs):
        if request is not None and self.is_admin_request(request):
            super().user_logged_out(sender, request, user, **kwargs)


def client_ip(request) -> str | None:
    """The client's address as the API's throttle sees it; REMOTE_ADDR if that is not an IP address.

    A forwarded value that is not an address (the deprecated NUM_PROXIES set higher
    than the proxies really in front) would not fit django-axes' address column.
    """
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return request.META.get("REMOTE_ADDR")


def attempted_username(request, credentials: dict | None) -> str | None:
    """The username tried, in its stored form: "Root" and "ROOT" are one count with "root"."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username_canonical(username) if username else None
