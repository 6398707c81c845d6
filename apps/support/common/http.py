"""Facts about the HTTP client, computed one way for throttling, lockout and audit."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.ipv6 import clean_ipv6_address


def client_ip(request: HttpRequest) -> str:
    """The client's address.

    ``X-Forwarded-For`` is believed only when ``TRUSTED_PROXY_COUNT`` proxies are configured:
    then the address that the outermost trusted proxy saw is used. Otherwise a client could
    send any address it likes and dodge lockouts or lock others out.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return _valid_ip(forwarded[-proxies]) or remote


def _valid_ip(value: str) -> str:
    """The address as GenericIPAddressField stores it (IPv4-mapped IPv6 written as
    ``::ffff:10.0.0.1``, no zone id), so what is hashed is what is read back."""
    try:
        address = ipaddress.ip_address(value.strip().split("%", 1)[0])
    except ValueError:
        return ""
    if address.version == 6:
        return clean_ipv6_address(str(address))
    return str(address)
