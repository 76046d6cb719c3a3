"""Request parsing that answers 400, never 500: for JSON that Python cannot hold, and for a
body sent to an action that takes none."""

from __future__ import annotations

import json

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request


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


def reject_body(request: Request) -> None:
    """For an action that takes no body: malformed JSON or any field answers 400."""
    unexpected = request.data  # parsing it raises ParseError (400) on malformed JSON
    if not isinstance(unexpected, dict):
        raise ValidationError({"detail": "This request takes no body."})
    if unexpected:
        raise ValidationError({name: ["Unknown field."] for name in unexpected})
