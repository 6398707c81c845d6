"""OpenAPI generation shared by every module (drf-spectacular).

Tags and operation ids come from the module segment of the path (``/api/v1/<module>/...``),
and every operation documents the error responses it can give, in the one error shape.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse

from .errors import ErrorSerializer

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


class AutoSchema(SpectacularAutoSchema):
    def get_response_serializers(self) -> Any:
        # Views with a separate input serializer answer with their output representation.
        output = getattr(self.view, "serializer_class", None)
        if output is not None and getattr(self.view, "input_serializer_class", None):
            return output
        return super().get_response_serializers()

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
                    direction=direction,
                )
        return responses
