"""Absolute URLs of stored files, the way serializers' FileField gives them, but fast."""

import re
from collections.abc import Callable
from typing import Any

from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.encoding import filepath_to_uri

# Names made by upload_to functions (species/12/<uuid>.jpg) need no quoting.
_URL_SAFE = re.compile(r"[A-Za-z0-9/._-]+")


def media_url_builder(request: Any) -> Callable[[str], str]:
    """A function from a stored file name to its absolute URL, for many files in one response.

    For the local file system the base URL is resolved once (``storage.url`` parses and joins
    URLs on every call); other storages (S3, signed URLs) are asked for each file.
    """
    absolute: Callable[[str], str] = (
        request.build_absolute_uri if request is not None else (lambda url: url)
    )
    storage = default_storage
    if isinstance(storage, FileSystemStorage):  # the lazy proxy reports the real class
        base = absolute(storage.base_url)
        return lambda name: base + (name if _URL_SAFE.fullmatch(name) else filepath_to_uri(name))
    return lambda name: absolute(storage.url(name))
