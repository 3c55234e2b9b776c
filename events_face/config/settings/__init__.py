"""Events Face settings, driven by environment variables (and `.env`).

One module per concern, read in this order; each reads what the operator sets
(its variables, listed with a comment in `.env.example`) first, then what is
computed from them. Reading a variable that cannot be read (a DEBUG that is not
a boolean, no SECRET_KEY in production) stops the process with one line naming
it (config/environment.py). Rules that span several settings are Django system
checks (config/checks.py): `manage.py check --deploy` reports every one at once,
with an id and the variable to fix.

Defaults are safe for local use: SQLite in the project folder, DEBUG on,
built-in emulators for the upstream services. With DEBUG=false the service
refuses to start without a real SECRET_KEY and turns on the HTTPS hardening
`manage.py check --deploy` asks for.

    core.py            DEBUG, SECRET_KEY, hosts, apps, middleware, templates, static files
    database.py        DATABASE_URL and its connection options
    cache.py           the response cache (CACHE_URL) and the rate-limit counters (THROTTLE_CACHE_URL)
    security.py        HTTPS, HSTS, CSP, request size, trust in proxy headers (TRUSTED_PROXIES)
    i18n.py            languages, time zone
    auth.py            passwords, the admin's login lockout (django-axes), JWT lifetimes
    api.py             Django REST framework: throttle rates, renderers; the OpenAPI schema
    notifications.py   the notifications service and the outbox worker that calls it
    sync.py            the events provider and the sync that reads it
    events.py          how long events are kept (CLEANUP_AFTER_DAYS), calendar files
    monitoring.py      metrics and logging
"""

# ruff: noqa: I001  (in the order above: a later module may read an earlier one's names)
from .core import *  # noqa: F403
from .database import *  # noqa: F403
from .cache import *  # noqa: F403
from .security import *  # noqa: F403
from .i18n import *  # noqa: F403
from .auth import *  # noqa: F403
from .api import *  # noqa: F403
from .notifications import *  # noqa: F403
from .sync import *  # noqa: F403
from .events import *  # noqa: F403
from .monitoring import *  # noqa: F403
