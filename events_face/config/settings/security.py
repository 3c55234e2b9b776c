"""HTTPS, HSTS, the Content-Security-Policy, and whose proxy headers are believed.

TRUSTED_PROXIES (config/environment.py) is the one switch for proxy headers:
the addresses of the proxies that connect to this server. Only from them are
X-Forwarded-For (the client's address, which the rate limits and the admin
lockout count) and X-Forwarded-Proto (HTTPS) believed, by Django
(core/proxies.py) and by gunicorn (`forwarded_allow_ips`, gunicorn.conf.py)
alike. The old NUM_PROXIES and USE_X_FORWARDED_PROTO still work when
TRUSTED_PROXIES is unset, with a warning (events_face.W001, W002) that names it.
"""

from django.utils.csp import CSP

from events_face.config import environment
from events_face.config.environment import env

from .core import DEBUG

# --- Configured -----------------------------------------------------------------------
TRUSTED_PROXIES = environment.trusted_proxies()
# Deprecated by TRUSTED_PROXIES: read only when it is unset.
LEGACY_NUM_PROXIES = environment.whole_number("NUM_PROXIES", 0, minimum=0)
LEGACY_USE_X_FORWARDED_PROTO = environment.boolean("USE_X_FORWARDED_PROTO", default=False)

# --- Production hardening (DEBUG=false) -------------------------------------------------
# Load balancers and Prometheus probe these over plain HTTP, and follow no redirect.
# SecurityMiddleware matches the path without its leading slash.
SECURE_REDIRECT_EXEMPT = [r"^api/health/?$", r"^api/metrics/?$"]
if not DEBUG:
    # Everything but the two paths above answers 301 to https:// (set it false to try
    # production mode on a laptop over plain HTTP, or behind a proxy that redirects itself).
    SECURE_SSL_REDIRECT = environment.boolean("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = environment.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = environment.boolean("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Computed: proxy headers ----------------------------------------------------------------
# core/proxies.py removes X-Forwarded-* from requests whose peer is not a trusted
# proxy, so Django may read the header whenever a proxy is trusted.
if TRUSTED_PROXIES or LEGACY_USE_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every response: this origin's files only, no CDN, no
# inline script, no eval. The admin and the docs page (Swagger UI from the sidecar
# package, its start script served as a file) need nothing more: their few inline
# styles carry the request's nonce, and Swagger UI's stylesheet draws icons from data: URLs.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
