"""Request rates by scope, counted in the shared cache (Redis in production).

Rates are read from settings on every request (not once at import), so operators and tests
can change them. Scopes: ``anon`` and ``user`` for everything; ``login``, ``register``,
``password_reset`` on those endpoints; modules add theirs (``purchase``, ``donation``) with
``throttle_scope`` on a view.
"""

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


class _RatesFromSettings:
    def get_rate(self) -> Any:
        return api_settings.DEFAULT_THROTTLE_RATES.get(getattr(self, "scope", ""))


class AnonymousThrottle(_RatesFromSettings, AnonRateThrottle):
    """Per client IP, for requests without credentials."""


class UserThrottle(_RatesFromSettings, UserRateThrottle):
    """Per account, for authenticated requests (anonymous ones are AnonymousThrottle's: DRF's
    own class would count them a second time, by address)."""

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class ScopedThrottle(_RatesFromSettings, ScopedRateThrottle):
    """Per account or IP, for views that declare ``throttle_scope``."""

    def get_rate(self) -> Any:
        if not getattr(self, "scope", None):
            return None
        return super().get_rate()


class GuestOrderThrottle(AnonymousThrottle):
    """Orders placed by guests without an account (gifts), per address; signed-in visitors
    are not counted here."""

    scope = "guest_order"
