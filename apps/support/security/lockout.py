"""How django-axes identifies a sign-in attempt: the normalised email and the client IP."""

from typing import Any

from django.http import HttpRequest

from apps.support.common.http import client_ip

from .models import UserManager


def username_from_credentials(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """``Ana@Example.org`` and ``ana@example.org`` are one account, so one counter."""
    credentials = credentials or {}
    raw = credentials.get("username") or request.POST.get("username", "")
    return UserManager.normalize_email(str(raw))


def client_ip_address(request: HttpRequest) -> str:
    return client_ip(request)
