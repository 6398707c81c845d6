"""OpenAPI generation shared by every module (drf-spectacular).

Tags and operation ids come from the module segment of the path (``/api/v1/<module>/...``),
and every operation documents the error responses it can give, in the one error shape.

What the schema derives here, once, instead of each view declaring it by hand:

- **Anonymous access**: an operation whose permission classes let an anonymous caller through
  (``AllowAny``, ``role_permission(public_read=True)`` for reads, ...) lists ``{}`` (no
  credentials) in its ``security``, besides the bearer token. The permission classes
  themselves are asked, with an anonymous request of the operation's method.
- **Strict bodies**: a request body built from a serializer that refuses unknown fields
  (``api.serializers.StrictFieldsMixin``) says ``additionalProperties: false``.
- **Decimal strings**: their pattern admits exactly the decimals the field accepts: at least
  one digit, no more whole digits and decimal places than the field allows, no minus sign
  when the field (or its model's check constraints) forbids negatives, and its integer
  bounds (``min_value``/``max_value``). A bound the pattern cannot express is a warning,
  so the schema test fails instead of the schema lying.
- **Errors** are JSON whatever the success answer's media type (CSV, PDF, images).
- **Lists** nested in a body carry their bounds (``minItems``/``maxItems``).
- Request **strings** refuse NUL, and those that may not be blank need something besides
  whitespace (DRF trims first); an optional query parameter may be sent **empty** (it then
  counts as not sent): ``postprocess_schema``, a postprocessing hook, and the field mapping.
"""

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.validators import RegexValidator
from django.db.models import CheckConstraint, Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import warn
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from .errors import ErrorSerializer
from .serializers import StrictFieldsMixin

_ERROR_DESCRIPTIONS = {
    "400": _("Invalid input: malformed body, invalid fields or parameters."),
    "401": _("Not authenticated: missing, expired or invalid credentials."),
    "403": _("Authenticated, but not allowed to do this."),
    "404": _("Not found, or not visible to the caller."),
    "405": _("Method not allowed on this resource."),
    "409": _("Conflict with the current state (e.g. sold out, lock busy); retry later."),
    "413": _("Request body larger than the configured limit."),
    "415": _("Unsupported content type."),
    "429": _("Too many requests; see the Retry-After header."),
}

_WRITE_METHODS = {"POST", "PUT", "PATCH"}
_ERROR_MEDIA_TYPES = ["application/json"]


class AutoSchema(SpectacularAutoSchema):
    def get_response_serializers(self) -> Any:
        # Views with a separate input serializer answer with their output representation.
        output = getattr(self.view, "serializer_class", None)
        if output is not None and getattr(self.view, "input_serializer_class", None):
            return output
        return super().get_response_serializers()

    def get_auth(self) -> list[dict[str, Any]]:
        auths: list[dict[str, Any]] = super().get_auth()
        if {} not in auths and self._anonymous_allowed():
            auths.append({})
        return auths

    def _anonymous_allowed(self) -> bool:
        """Whether every permission class of the operation lets an anonymous caller in."""
        request = Request(APIRequestFactory().generic(self.method, self.path))
        request.user = AnonymousUser()
        return all(
            permission.has_permission(request, self.view)
            for permission in self.view.get_permissions()
        )

    def _map_serializer(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer(serializer, direction, bypass_extensions)
        strict = isinstance(force_instance(serializer), StrictFieldsMixin)
        if direction == "request" and strict and schema.get("type") == "object":
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any] | None:
        schema: dict[str, Any] | None = super()._map_serializer_field(
            field, direction, bypass_extensions
        )
        if schema is None:  # a read-only nested list has none in a request
            return None
        if (
            isinstance(field, serializers.DecimalField)
            and schema.get("type") == "string"
            and "pattern" in schema
        ):
            schema["pattern"] = self._decimal_pattern(field)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and field.trim_whitespace
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum"} & set(schema)
            and not any(isinstance(validator, RegexValidator) for validator in field.validators)
        ):
            # DRF trims the value first: blank once trimmed ("  ") is refused as blank.
            schema["pattern"] = NOT_BLANK_PATTERN
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            # A nested ``many=True`` serializer's own bounds (drf-spectacular leaves them out).
            min_length = getattr(field, "min_length", None)
            max_length = getattr(field, "max_length", None)
            if not field.allow_empty or min_length:
                schema["minItems"] = max(0 if field.allow_empty else 1, min_length or 0)
            if max_length is not None:
                schema["maxItems"] = max_length
        return schema

    def _decimal_pattern(self, field: serializers.DecimalField) -> str:
        minimum, exclusive = field_lower_bound(field)
        maximum = None if field.max_value is None else Decimal(field.max_value)
        try:
            return decimal_pattern(
                max_digits=field.max_digits,
                decimal_places=field.decimal_places,
                minimum=minimum,
                exclusive_minimum=exclusive,
                maximum=maximum,
            )
        except ValueError as error:
            warn(f"{self.method} {self.path}: field {field.field_name!r}: {error}")
            return decimal_pattern(max_digits=field.max_digits, decimal_places=field.decimal_places)

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404", "405", "429"]
        if self.method in _WRITE_METHODS:
            codes += ["409", "413", "415"]
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code]),
                    code,
                    media_types=_ERROR_MEDIA_TYPES,
                    direction=direction,
                )
        return responses


# --- Whole-schema rules --------------------------------------------------------------------

# Every text field and parameter refuses NUL (Django's and DRF's text fields do, and
# PostgreSQL could not store it): said once, for every string a request carries.
NO_NUL_PATTERN = r"^[^\u0000]*$"
# A text field that may not be blank: something besides whitespace, and no NUL.
NOT_BLANK_PATTERN = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
# Strings whose format already rules NUL out, or that are not text.
_FORMATTED = {"binary", "byte", "date", "date-time", "decimal", "email", "time", "uri", "uuid"}


def postprocess_schema(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``).

    - Request strings (bodies and parameters) say they refuse NUL: the API refuses a query
      string holding one before any view (``search`` and ``ordering`` included).
    - An optional query parameter may be sent empty (``?date=``): it then counts as not sent
      (DRF's and django-filter's rule), which ``allowEmptyValue`` says.
    """
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _refuse_nul(component)
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _refuse_nul(media.get("schema", {}))
            for parameter in operation.get("parameters", []):
                _refuse_nul(parameter.get("schema", {}))
                if parameter["in"] == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


def _refuse_nul(schema: Any) -> None:
    if not isinstance(schema, dict) or "$ref" in schema:
        return  # components are handled on their own
    if (
        schema.get("type") == "string"
        and not {"enum", "pattern", "const"} & set(schema)
        and schema.get("format") not in _FORMATTED
    ):
        schema["pattern"] = NO_NUL_PATTERN
    for key in ("properties", "patternProperties"):
        for child in schema.get(key, {}).values():
            _refuse_nul(child)
    for key in ("items", "additionalProperties", "not"):
        _refuse_nul(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key, []):
            _refuse_nul(child)


# --- Decimal strings ---------------------------------------------------------------------


def field_lower_bound(field: serializers.DecimalField) -> tuple[Decimal | None, bool]:
    """The field's minimum and whether it is exclusive: its ``min_value``, or what its
    model's check constraints (``Q(amount__gte=0)``, ``Q(weight_kg__gt=0)``) guarantee,
    whichever is stricter. The smallest step above zero (``0.001`` for three decimal places)
    is read as "greater than zero"."""
    bounds: list[tuple[Decimal, bool]] = []
    if field.min_value is not None:
        minimum = Decimal(field.min_value)
        if minimum == Decimal(1).scaleb(-(field.decimal_places or 0)):
            bounds.append((Decimal(0), True))
        else:
            bounds.append((minimum, False))
    bounds.extend(_model_lower_bounds(field))
    if not bounds:
        return None, False
    # The stricter bound: the higher value; at equal values, the exclusive one.
    return max(bounds, key=lambda bound: (bound[0], bound[1]))


def _model_lower_bounds(field: serializers.Field) -> list[tuple[Decimal, bool]]:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not isinstance(field.source, str) or "." in field.source:
        return []
    lookups = {f"{field.source}__gte": False, f"{field.source}__gt": True}
    bounds = []
    for constraint in model._meta.constraints:
        condition = getattr(constraint, "condition", None)
        if not isinstance(constraint, CheckConstraint) or not isinstance(condition, Q):
            continue
        if condition.negated or (condition.connector != Q.AND and len(condition.children) > 1):
            continue
        for child in condition.children:
            if isinstance(child, tuple) and child[0] in lookups:
                value = child[1]
                if isinstance(value, int | Decimal) and not isinstance(value, bool):
                    bounds.append((Decimal(value), lookups[child[0]]))
    return bounds


def decimal_pattern(
    *,
    max_digits: int | None,
    decimal_places: int | None,
    minimum: Decimal | int | None = None,
    exclusive_minimum: bool = False,
    maximum: Decimal | int | None = None,
) -> str:
    """A regular expression for the decimal strings a ``DecimalField`` accepts.

    The whole part is written without superfluous leading zeros; the decimal places are
    optional (``"12"``, ``"12.5"`` and ``"12.500"`` all match). Other spellings the field
    also accepts (``".5"``, ``"012"``, ``"1e2"``) are left out, for readability.
    ``minimum``/``maximum`` must be integers; the minimum may be exclusive when it is not
    negative. Raises ``ValueError`` for bounds a pattern here cannot express.
    """
    places = decimal_places or 0
    whole_digits = None if max_digits is None else max_digits - places
    if whole_digits is not None and whole_digits < 1:
        raise ValueError("decimals without whole digits are not supported")
    limit = None if whole_digits is None else 10**whole_digits - 1  # the largest whole part
    low = _integer_bound(minimum, "minimum")
    high = _integer_bound(maximum, "maximum")
    if exclusive_minimum and low is not None and low < 0:
        raise ValueError("an exclusive negative minimum is not supported")
    within_digits = _within_digits(limit)
    fractions = _Fractions(places)
    if low is None and high is None:
        return f"^-?{_magnitudes(0, None, limit, fractions)[0]}$"
    alternatives = []
    if low is None or low < 0:
        # Negative values: "-" and a magnitude up to -minimum (or as far as the digits go).
        bottom = 0 if high is None or high >= 0 else -high
        negative = _magnitudes(
            bottom, within_digits(None if low is None else -low), limit, fractions
        )
        alternatives.append(f"-{_group(negative)}")
    if low == 0 and not exclusive_minimum:
        # "-0" is zero, which the field accepts (and answers as "-0.00").
        alternatives.append(f"-0{fractions.zero}")
    if high is None or high >= 0:
        start = max(low or 0, 0)
        exclusive = exclusive_minimum and low is not None
        alternatives.extend(
            _magnitudes(start, within_digits(high), limit, fractions, above_start=exclusive)
        )
    return f"^{_group(alternatives)}$"


class _Fractions:
    """The fraction part of a decimal with ``places`` decimal places."""

    def __init__(self, places: int) -> None:
        self.places = places
        up_to = f"{{1,{places}}}" if places > 1 else ""
        self.any = rf"(?:\.[0-9]{up_to})?" if places else ""
        self.zero = rf"(?:\.0{up_to})?" if places else ""
        # "." then 1 to ``places`` digits, not all zero.
        options = [
            "0" * zeros
            + "[1-9]"
            + (f"[0-9]{{0,{places - zeros - 1}}}" if zeros < places - 1 else "")
            for zeros in range(places)
        ]
        self.non_zero = rf"\.{_group(options)}" if places else ""


def _within_digits(limit: int | None) -> Any:
    """A bound beyond what the digits allow is no bound: the digits are the tighter one."""
    return lambda bound: None if bound is None or (limit is not None and bound > limit) else bound


def _magnitudes(
    start: int,
    stop: int | None,
    limit: int | None,
    fractions: _Fractions,
    *,
    above_start: bool = False,
) -> list[str]:
    """Alternatives for the non-negative values from ``start`` (exclusive when
    ``above_start``) to ``stop`` (inclusive; ``None``: as far as the digits go)."""
    alternatives = []
    first_free = start + 1 if above_start else start
    last_free = stop - 1 if stop is not None else limit
    if above_start and fractions.places:
        alternatives.append(f"{start}{fractions.non_zero}")
    if last_free is None:
        alternatives.append(f"{_integers_from(first_free)}{fractions.any}")
    elif first_free <= last_free:
        alternatives.append(f"{_group(_integer_range(first_free, last_free))}{fractions.any}")
    if stop is not None and stop >= first_free:
        alternatives.append(f"{stop}{fractions.zero}")
    return alternatives


def _integer_bound(value: Decimal | int | None, name: str) -> int | None:
    if value is None:
        return None
    if Decimal(value) != Decimal(value).to_integral_value():
        raise ValueError(f"a {name} of {value} is not an integer")
    return int(value)


def _group(alternatives: list[str]) -> str:
    return alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"


def _integers_from(start: int) -> str:
    """The integers from ``start`` up, without leading zeros (0 and 1 are what is needed)."""
    if start == 0:
        return "(?:0|[1-9][0-9]*)"
    if start == 1:
        return "[1-9][0-9]*"
    raise ValueError(f"an open range from {start} is not supported")


def _integer_range(low: int, high: int) -> list[str]:
    """Alternatives matching the integers ``low``..``high`` written without leading zeros."""
    digits = len(str(high))
    if low in (0, 1) and str(high) == "9" * digits:
        if digits == 1:
            return [f"[{low}-9]"]
        return ["0"] * (low == 0) + [f"[1-9][0-9]{{0,{digits - 1}}}"]
    alternatives = []
    while low <= high:
        top = min(high, 10 ** len(str(low)) - 1)
        alternatives.extend(_same_length(str(low), str(top)))
        low = top + 1
    return alternatives


def _same_length(low: str, high: str) -> list[str]:
    """Alternatives for the digit strings ``low``..``high`` of one length."""
    if low == high:
        return [low]
    if len(low) == 1:
        return [f"[{low}-{high}]"]
    if low[0] == high[0]:
        return [low[0] + rest for rest in _same_length(low[1:], high[1:])]
    width = len(low) - 1
    alternatives = []
    first, last = int(low[0]), int(high[0])
    if low[1:] != "0" * width:
        alternatives += [low[0] + rest for rest in _same_length(low[1:], "9" * width)]
        first += 1
    if high[1:] != "9" * width:
        last -= 1
    if first <= last:
        digit = str(first) if first == last else f"[{first}-{last}]"
        alternatives.append(f"{digit}[0-9]{{{width}}}" if width > 1 else f"{digit}[0-9]")
    if high[1:] != "9" * width:
        alternatives += [high[0] + rest for rest in _same_length("0" * width, high[1:])]
    return alternatives


def only_api_paths(endpoints: list[tuple[str, str, str, Any]]) -> list[tuple[str, str, str, Any]]:
    """The API's operations only: the editors' screen (/cms/) has REST views of its own."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]
