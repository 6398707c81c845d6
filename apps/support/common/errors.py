"""Errors that services raise when a business rule says no.

Services know nothing of HTTP: they raise one of these with a stable machine-readable
``code`` (each module lists its codes in its ``errors.py``) and a message for people. The API's
exception handler turns each class into its status code and the one error shape.
"""

from typing import Any


class ServiceError(Exception):
    """A request that breaks a business rule (HTTP 400)."""

    default_code = "invalid"

    def __init__(
        self,
        message: Any,
        *,
        code: str | None = None,
        field: str | None = None,
        retry_after: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.retry_after = retry_after
        # Machine-readable facts about the refusal, e.g. when a ticket was first scanned.
        self.details = details


class NotFoundError(ServiceError):
    """The thing asked for does not exist, or the caller may not know it does (HTTP 404)."""

    default_code = "not_found"


class ForbiddenError(ServiceError):
    """The caller is known but may not do this (HTTP 403)."""

    default_code = "permission_denied"


class PaymentRequiredError(ServiceError):
    """The payment was declined (HTTP 402); the caller may pay again another way."""

    default_code = "payment_required"


class ConflictError(ServiceError):
    """The state of the world forbids it now: sold out, already paid, lock busy (HTTP 409)."""

    default_code = "conflict"


class UnauthenticatedError(ServiceError):
    """Credentials or tokens that do not authenticate (HTTP 401)."""

    default_code = "authentication_failed"


class TooManyRequestsError(ServiceError):
    """Refused for a while (lockout, limits); ``retry_after`` says how long (HTTP 429)."""

    default_code = "throttled"
