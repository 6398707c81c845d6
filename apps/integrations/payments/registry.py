"""Which gateways this installation has switched on.

A gateway is on when it is listed in ``PAYMENT_GATEWAYS`` and its settings are set (production
refuses to start with a listed gateway's secrets missing; elsewhere it is simply off).
"""

from functools import cache

from django.conf import settings

from .base import PaymentGateway

REQUIRED_SETTINGS = {
    "sandbox": ("PAYMENTS_SANDBOX_WEBHOOK_SECRET",),
    "stripe": ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"),
    "paypal": ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"),
}


def _configured(name: str) -> bool:
    needed = REQUIRED_SETTINGS.get(name)
    return needed is not None and all(getattr(settings, key, "") for key in needed)


@cache
def _build(name: str) -> PaymentGateway:
    if name == "sandbox":
        from .sandbox import SandboxGateway

        return SandboxGateway(webhook_secret=settings.PAYMENTS_SANDBOX_WEBHOOK_SECRET)
    if name == "stripe":
        from .stripe import StripeGateway

        return StripeGateway.from_settings()
    if name == "paypal":
        from .paypal import PayPalGateway

        return PayPalGateway.from_settings()
    raise KeyError(name)


def enabled_gateways() -> list[str]:
    """The gateways visitors can pay with here, in the order ``PAYMENT_GATEWAYS`` lists them."""
    return [name for name in settings.PAYMENT_GATEWAYS if _configured(name)]


def get_gateway(name: str) -> PaymentGateway | None:
    """The gateway called ``name`` when it is on here, else ``None``."""
    if name not in settings.PAYMENT_GATEWAYS or not _configured(name):
        return None
    return _build(name)


def reset() -> None:
    """Forget built gateways (settings changed: tests, a reload)."""
    _build.cache_clear()
