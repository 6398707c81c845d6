"""Facts about the HTTP client, computed one way for throttling, lockout and audit."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.ipv6 import clean_ipv6_address


def client_ip(request: HttpRequest) -> str:
    """The client's address.

    ``X-Forwarded-For`` is believed only when ``TRUSTED_PROXY_COUNT`` proxies are configured:
    then the address that the outermost trusted proxy saw is used (``ip:port`` and
    ``[ipv6]:port``, as some load balancers write it, included). Otherwise a client could send
    any address it likes and dodge lockouts or lock others out. Behind proxies, an address that
    cannot be read is unknown (``""``), never the proxy's own: that one is everybody's.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return ""
    return _valid_ip(_without_port(forwarded[-proxies]))


def _without_port(value: str) -> str:
    """``10.0.0.1:8080`` and ``[2001:db8::1]:8080`` (or ``[2001:db8::1]``) as addresses."""
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


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
