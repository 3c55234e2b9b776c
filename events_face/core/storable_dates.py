"""The date-times Events Face stores, defined once.

Both databases store any of them, and each converts to any UTC offset (at most
a day either way) without leaving the range of Python's `datetime`, so neither
a write nor a read in a local time zone overflows. The sync refuses a record
outside this range (`sync/records.py`), a cursor outside it is a 400
(`core/pagination.py`), and the list's date filters accept only whole years
inside it (`events/serializers.py`). `tests/sync/test_record_limits.py` stores
both ends and reads them back.
"""

from datetime import UTC, datetime

# In UTC: a day inside year 1, and short of year 9999.
EARLIEST_MOMENT = datetime(1, 1, 2, tzinfo=UTC)
LATEST_MOMENT = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)

# The whole years inside that range, for input given as dates or years.
EARLIEST_YEAR = EARLIEST_MOMENT.year + 1
LATEST_YEAR = LATEST_MOMENT.year
