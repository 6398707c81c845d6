"""The one error shape of the API, produced for every 4xx and 5xx.

::

    {
      "code": "validation_error",
      "message": "The request has invalid fields.",
      "errors": [{"field": "email", "code": "required", "message": "This field is required."}],
      "request_id": "3f0c2e..."
    }

``code`` is stable and machine-readable; ``message`` is for people (in the request's
language); ``errors`` lists field errors (``field`` is a dotted path, ``null`` for errors of the
whole body) and is empty for other errors; ``request_id`` matches the ``X-Request-ID`` header
and the server's log lines.
"""

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from apps.support.common.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    ServiceError,
    TooManyRequestsError,
    UnauthenticatedError,
)
from apps.support.common.locking import BUSY, is_lock_failure

from .metrics import busy_answered

_SERVICE_ERROR_STATUS: list[tuple[type[ServiceError], int]] = [
    (UnauthenticatedError, status.HTTP_401_UNAUTHORIZED),
    (TooManyRequestsError, status.HTTP_429_TOO_MANY_REQUESTS),
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (ForbiddenError, status.HTTP_403_FORBIDDEN),
    (ConflictError, status.HTTP_409_CONFLICT),
    (PaymentRequiredError, status.HTTP_402_PAYMENT_REQUIRED),
    (ServiceError, status.HTTP_400_BAD_REQUEST),
]

_DEFAULT_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    402: "payment_required",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    503: "service_unavailable",
}


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="Dotted path of the field; null for the body as a whole."
    )
    code = serializers.CharField(help_text="Machine-readable reason, e.g. `required`.")
    message = serializers.CharField(help_text="Human-readable reason.")


class ErrorSerializer(serializers.Serializer):
    """Body of every 4xx and 5xx response."""

    code = serializers.CharField(help_text="Stable machine-readable error code.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    errors = FieldErrorSerializer(  # type: ignore[assignment]  # a field, not Serializer.errors
        many=True, help_text="Field errors; empty when none."
    )
    request_id = serializers.CharField(help_text="Same as the `X-Request-ID` response header.")
    details = serializers.DictField(
        required=False,
        help_text=(
            "Only on some errors: machine-readable facts about the refusal, e.g. when and at "
            "which gate a ticket was first used (`already_checked_in`)."
        ),
    )


def error_body(
    request: HttpRequest | None,
    *,
    code: str,
    message: str,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "errors": errors or [],
        "request_id": getattr(request, "request_id", ""),
    }


def error_response(
    request: HttpRequest | None,
    status_code: int,
    *,
    code: str | None = None,
    message: str,
    errors: list[dict[str, Any]] | None = None,
) -> JsonResponse:
    """The error shape outside DRF views (Django's 404/500 under /api/, body limit)."""
    body = error_body(
        request,
        code=code or _DEFAULT_CODES.get(status_code, "error"),
        message=message,
        errors=errors,
    )
    return JsonResponse(body, status=status_code, json_dumps_params={"ensure_ascii": False})


def _flatten(detail: Any, path: str | None = None) -> Iterator[dict[str, Any]]:
    """Walks DRF's nested error detail into ``{field, code, message}`` items."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in (api_settings.NON_FIELD_ERRORS_KEY, "__all__"):
                yield from _flatten(value, path)
            else:
                yield from _flatten(value, f"{path}.{key}" if path else str(key))
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            for item in detail:
                yield from _flatten(item, path)
        else:
            for index, item in enumerate(detail):
                if item:  # DRF reports valid items of a list as empty dicts
                    yield from _flatten(item, f"{path}.{index}" if path else str(index))
    else:
        yield {
            "field": path,
            "code": getattr(detail, "code", None) or "invalid",
            "message": str(detail),
        }


# Django's refusals of a request body as it is read (its form part over
# DATA_UPLOAD_MAX_MEMORY_SIZE, more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields or
# DATA_UPLOAD_MAX_NUMBER_FILES files): too large a request, not a crash.
BODY_REFUSALS = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def body_refusal_message(exc: Exception) -> str:
    """What a client is told of one of ``BODY_REFUSALS`` (answered 413 payload_too_large)."""
    if isinstance(exc, TooManyFieldsSent):
        message = _("The form has more fields than the %(count)d accepted.") % {
            "count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        }
    elif isinstance(exc, TooManyFilesSent):
        message = _("The form has more files than the %(count)d accepted.") % {
            "count": settings.DATA_UPLOAD_MAX_NUMBER_FILES
        }
    else:
        message = _("A field of the form, other than a file, is larger than %(limit)d bytes.") % {
            "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        }
    return str(message)


def _to_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(
                {
                    field: [e.message % (e.params or {}) for e in errs]
                    for field, errs in exc.error_dict.items()
                }
            )
        return exceptions.ValidationError([e.message % (e.params or {}) for e in exc.error_list])
    return exc


def _service_error_response(exc: ServiceError, request: HttpRequest | None) -> Response:
    status_code = next(code for cls, code in _SERVICE_ERROR_STATUS if isinstance(exc, cls))
    errors = []
    if exc.field:
        errors = [{"field": exc.field, "code": exc.code, "message": str(exc.message)}]
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
    if status_code == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    body = error_body(request, code=exc.code, message=str(exc.message), errors=errors)
    if exc.code == BUSY:
        match = getattr(request, "resolver_match", None)
        busy_answered(match.view_name if match else "")
    if exc.details:
        body["details"] = exc.details
    return Response(
        body,
        status=status_code,
        headers=headers,
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: every handled error leaves in the one shape.

    Unexpected exceptions return ``None`` and reach ``ApiErrorMiddleware``, which logs them
    and answers 500 in the same shape.
    """
    request = context.get("request")
    if isinstance(exc, BODY_REFUSALS):
        body = error_body(request, code="payload_too_large", message=body_refusal_message(exc))
        return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, ServiceError):
        return _service_error_response(exc, request)
    if isinstance(exc, OperationalError) and is_lock_failure(exc):
        # A lock waited longer than LOCK_TIMEOUT_SECONDS, or the database broke a deadlock.
        return _service_error_response(
            ConflictError(
                _("Many people are buying right now; please try again in a moment."),
                code=BUSY,
                retry_after=1,
            ),
            request,
        )
    if isinstance(exc, IntegrityError):
        # A uniqueness check passed, then a concurrent request wrote the same value first.
        return _service_error_response(
            ConflictError(_("This conflicts with data written a moment ago; check and retry.")),
            request,
        )

    exc = _to_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            request,
            code="validation_error",
            message=_("The request has invalid fields."),
            errors=list(_flatten(detail)),
        )
    elif isinstance(detail, dict):
        # e.g. simplejwt: {"detail": "...", "code": "token_not_valid", "messages": [...]}
        body = error_body(
            request,
            code=str(detail.get("code") or exc.default_code),
            message=str(detail.get("detail") or exc.default_detail),
        )
    else:
        code = getattr(detail, "code", None) or exc.default_code
        body = error_body(request, code=str(code), message=str(detail))
    response.data = body
    return response
