"""Request parsing that answers 400, never 500, for JSON that Python cannot hold."""

from __future__ import annotations

import json

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, also refusing absurd nesting and lone UTF-16 surrogates.

    Both are valid JSON text, but nesting deeper than Python's recursion limit cannot be
    parsed, and a lone surrogate ("\\ud800") cannot be stored or encoded as UTF-8.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        except UnicodeEncodeError:
            raise ParseError(
                "JSON parse error - the body holds an invalid Unicode character."
            ) from None
        return data
