"""The one body parser of the API: JSON, as UTF-8 text of Unicode strings."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def holds_lone_surrogate(value: Any) -> bool:
    """A string (or a key) that is not Unicode text: half of a UTF-16 pair (``"\\ud800"``),
    which JSON's escapes can spell but no UTF-8 text, column or answer can carry."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(
            holds_lone_surrogate(key) or holds_lone_surrogate(item) for key, item in value.items()
        )
    if isinstance(value, list):
        return any(holds_lone_surrogate(item) for item in value)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing what is not Unicode text (a 400 ``parse_error``, before any
    field or error message could echo it). The charset was checked by ApiErrorMiddleware."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if holds_lone_surrogate(data):
            raise ParseError(
                _("JSON parse error: a string holds a lone surrogate, which is not text.")
            )
        return data
