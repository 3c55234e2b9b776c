"""The API's one JSON parser (`DEFAULT_PARSER_CLASSES`): every JSON body is read here.

It is DRF's, with two changes. A body nested deeper than Python's decoder
goes (about a thousand levels; no body of this API nests more than two) is a
400 `invalid`, not the RecursionError the decoder raises. A body that is not
JSON is a 400 `parse_error` whose message is ours, in the request's language,
with the line and column where the decoder stopped (DRF's embeds the decoder's
English reason, "Expecting property name ...").
"""

import json

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON body is nested too deeply."), code="invalid") from None
        except ParseError as error:
            # DRF raises it while handling the decoder's ValueError, which is its context.
            reason = error.__context__
            if isinstance(reason, json.JSONDecodeError):
                message = _("The request body is not valid JSON (line %(line)d, column %(column)d).") % {
                    "line": reason.lineno,
                    "column": reason.colno,
                }
            else:  # not UTF-8, or NaN/Infinity, which JSON has no words for
                message = _("The request body is not valid JSON.")
            raise ParseError(message, code="parse_error") from None
