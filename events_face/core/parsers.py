"""The API's one JSON parser (`DEFAULT_PARSER_CLASSES`): every JSON body is read here.

It is DRF's, with one addition: a body nested deeper than Python's decoder
goes (about a thousand levels; no body of this API nests more than two) is a
400 `invalid`, not the RecursionError the decoder raises.
"""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON body is nested too deeply."), code="invalid") from None
