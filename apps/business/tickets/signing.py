"""The code a ticket's QR carries: ``PM1-<secret>-<signature>``.

``secret`` is 80 random bits stored with the ticket; ``signature`` is an HMAC-SHA256 of it with
the site's ``SECRET_KEY`` (or one of ``SECRET_KEY_FALLBACKS`` while keys rotate), cut to 64 bits.
A forged or mistyped code is refused before the database is asked; a scanner that holds the key
can check codes offline. Upper-case hex and dashes keep the QR in its compact alphanumeric mode.
"""

import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

PREFIX = "PM1"
_SALT = "parque_marino.tickets.code"
_PATTERN = re.compile(r"^PM1-([0-9A-F]{20})-([0-9A-F]{16})$")


def _signature(secret: str, key: str) -> str:
    return salted_hmac(_SALT, secret, secret=key, algorithm="sha256").hexdigest()[:16].upper()


def ticket_code(secret: str) -> str:
    return f"{PREFIX}-{secret}-{_signature(secret, settings.SECRET_KEY)}"


def secret_from_code(code: str) -> str | None:
    """The ticket secret of a genuine code, else ``None``."""
    match = _PATTERN.match(code.strip().upper())
    if match is None:
        return None
    secret, signature = match.groups()
    for key in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())):
        if constant_time_compare(_signature(secret, key), signature):
            return secret
    return None
