"""The lines of an order, as each selling module's HTTP face declares them.

Payments sells what other modules register; it knows no line fields of its own. Each selling
module (tickets today; education and donations next) registers the input serializer of its
line ``kind`` here, from its own ``api/v1/<module>/serializers.py``, next to the item handler its
business module registers with ``apps.business.payments.handlers``. The serializer declares
``kind`` (a one-value choice) and ``quantity`` among its fields; an order line is validated by
the serializer of its ``kind``, so a missing field is a field error of that line
(``lines.0.slot``: ``required``) in a ``validation_error``.
"""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

_line_inputs: dict[str, type[serializers.Serializer]] = {}
_default_kind: list[str] = []


def register_line_input(
    kind: str, serializer: type[serializers.Serializer], *, default: bool = False
) -> None:
    """Sell lines of ``kind`` validated by ``serializer``; ``default``: the kind of a line
    that names none (the first thing the park sold, kept for the clients written then)."""
    _line_inputs[kind] = serializer
    if default:
        _default_kind[:] = [kind]


def line_input_kinds() -> list[str]:
    return sorted(_line_inputs)


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="OrderLineInput",
        serializers=lambda: [_line_inputs[kind] for kind in line_input_kinds()],
        resource_type_field_name=None,
    )
)
class OrderLineInput(serializers.Field):
    """One line: validated by the input serializer registered for its ``kind``."""

    default_error_messages = {
        "invalid": _("Each line must be an object."),
        "unknown_kind": _("Nothing of kind %(kind)s is sold here."),
        "kind_not_text": _("The kind of a line is a string, e.g. ticket."),
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            self.fail("invalid")
        kind = data.get("kind", _default_kind[0] if _default_kind else None)
        if not isinstance(kind, str):
            raise ValidationError(
                {"kind": [ErrorDetail(str(self.error_messages["kind_not_text"]), code="invalid")]}
            )
        serializer_class = _line_inputs.get(kind)
        if serializer_class is None:
            shown = kind if len(kind) <= 40 else kind[:40] + "…"
            raise ValidationError(
                {
                    "kind": [
                        ErrorDetail(
                            self.error_messages["unknown_kind"] % {"kind": shown},
                            code="invalid_choice",
                        )
                    ]
                }
            )
        line = serializer_class(data=data)
        if not line.is_valid():
            raise ValidationError(line.errors)
        return {"kind": kind, **line.validated_data}

    def to_representation(self, value: Any) -> Any:
        return value
