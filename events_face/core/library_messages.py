"""Messages DRF and SimpleJWT send through our API that their Russian catalogues lack.

Nothing imports this module: `makemessages` reads it, so these msgids land in
our catalogue (`locale/`), which LOCALE_PATHS puts before every library's. The
strings are the libraries' own msgids, character for character; a test checks
that each still comes out in Russian and the HTTP tests meet most of them.
"""

from django.utils.translation import gettext_noop

MESSAGES = (
    # DRF still builds these into every Throttled it raises, though our handler answers a 429
    # with its own words (core/errors.py); its Russian for the first ("Запрос был
    # проигнорирован.", "the request was ignored") says something else.
    gettext_noop("Request was throttled."),
    gettext_noop("Expected available in {wait} second."),
    gettext_noop("Expected available in {wait} seconds."),
    # DRF fields: a non-string where text is expected, a malformed UUID (the `venue` filter),
    # a lone surrogate in text (JSON "\ud800").
    gettext_noop("Not a valid string."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("Surrogate characters are not allowed: U+{code_point:X}."),
    # DRF's ListField (the `status` filter) carries these too, though we set no length on it.
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    # DRF's Russian for these leaves English words in ("Ожидался dictionary, но был получен list."):
    # a body that is a JSON array or string where an object is expected, and their kin.
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
    gettext_noop('Expected a list of items but got type "{input_type}".'),
    gettext_noop("Expected a date but got a datetime."),
    gettext_noop("Expected a datetime but got a date."),
    # SimpleJWT: a refresh or access token that is expired, or not a token at all.
    gettext_noop("Token is expired"),
    gettext_noop("Token is invalid"),
)
