"""Secrets never reach the audit trail: values under sensitive keys are replaced."""

import re
from functools import lru_cache
from typing import Any

from django.conf import settings

MASK = "***"


def _word_matches(word: str, marker: str) -> bool:
    return word == marker or (word.startswith(marker) and word[len(marker) :].isdigit())


def _is_sensitive(key: str) -> bool:
    return _is_sensitive_under(key, tuple(settings.AUDIT_MASKED_KEYS))


@lru_cache(maxsize=4096)  # an audited write names the same few keys every time
def _is_sensitive_under(key: str, markers: tuple[str, ...]) -> bool:
    # "newPassword" and "new_password" are the same words.
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    words = [word for word in re.split(r"[^a-z0-9]+", spaced.lower()) if word]
    for marker in markers:
        marker_words = marker.split("_")
        size = len(marker_words)
        for start in range(len(words) - size + 1):
            window = words[start : start + size]
            if window[:-1] == marker_words[:-1] and _word_matches(window[-1], marker_words[-1]):
                return True
    return False


def mask(value: Any) -> Any:
    """A copy of ``value`` in which every value under a sensitive key is ``"***"``.

    Keys match a marker of ``settings.AUDIT_MASKED_KEYS`` (``password``, ``token``,
    ``secret``, ``card``…) word by word, at any depth of dicts and lists: ``new_password1``
    and ``card_number`` are masked, ``company`` and ``spin_count`` are not.
    """
    if isinstance(value, dict):
        return {
            key: (MASK if _is_sensitive(str(key)) else mask(item)) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    return value
