"""Which gateways this installation has switched on (``PAYMENT_GATEWAYS``)."""

from functools import cache

from django.conf import settings

from .base import PaymentGateway


@cache
def _build(name: str) -> PaymentGateway:
    if name == "sandbox":
        from .sandbox import SandboxGateway

        return SandboxGateway(webhook_secret=settings.PAYMENTS_SANDBOX_WEBHOOK_SECRET)
    raise KeyError(name)


def enabled_gateways() -> list[str]:
    return list(settings.PAYMENT_GATEWAYS)


def get_gateway(name: str) -> PaymentGateway | None:
    """The gateway called ``name`` when it is enabled here, else ``None``."""
    if name not in settings.PAYMENT_GATEWAYS:
        return None
    try:
        return _build(name)
    except KeyError:
        return None
