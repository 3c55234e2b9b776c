"""The lifecycle benchmark's floor: bench.floor_settings (no apps, `MIDDLEWARE = []`) plus the product's database.

The floor writes (`/floor/register/<event>/`, bench/floor_urls.py), so it needs
DATABASES; it takes the product's own, read from the same DATABASE_URL by
events_face/config/settings/database.py, so that its connections are kept and
configured as the product's are (CONN_MAX_AGE; on SQLite WAL, synchronous=NORMAL,
IMMEDIATE transactions, the busy timeout). Only the settings' values are read:
none of the product's apps or middleware is installed.
"""

from bench.floor_settings import *  # noqa: F403
from events_face.config.settings.database import DATABASES  # noqa: F401
