"""Public reads: ``ETag`` and ``If-None-Match`` → 304, and copies kept in the cache.

The tag is a hash of the rendered body, so it changes exactly when what a client would see
changes (a publication, a language, a page), whatever caused it.

``CachedReadMixin`` also keeps the rendered body of the JSON reads it serves in the cache,
under the versions of the namespaces the view depends on (``apps.support.common.readcache``):
a write to any of them commits, changes its version, and the next read through any process
reads the database again (docs/adr/0043). What a cached view answers must depend only on the
path and query, the language, the caller's roles and the namespaces' data (never on who the
caller is); ``cache_valid_until`` bounds a copy whose answer also changes with the clock.
"""

import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language
from rest_framework.request import Request
from rest_framework.response import Response

from apps.support.common import readcache, replica
from apps.support.security.roles import role_names

CACHE_HEADER = "X-Cache"  # HIT: served from the cache; MISS: read from the database and kept
COPIED_HEADERS = ("Cache-Control", "Vary", "Content-Language", "Expires", CACHE_HEADER)
STORED_HEADERS = ("Content-Type", "Content-Language")


class ETagMixin:
    """For views whose successful GETs may be revalidated; ``etag_response`` decides which."""

    def etag_response(self, request: Request, response: Response) -> bool:
        return True

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if (
            request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or not self.etag_response(request, response)
        ):
            return response
        patch_vary_headers(response, ("Accept-Language",))
        if "ETag" not in response:  # a copy from the cache has its own
            response.render()
            response["ETag"] = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
            self.rendered(request, response)
        tag = response["ETag"]
        # A proxy that compresses the body weakens the tag (W/"..."): it still matches.
        wanted = {
            etag.removeprefix("W/")
            for etag in parse_etags(request.headers.get("If-None-Match", ""))
        }
        if tag in wanted or "*" in wanted:
            not_modified = HttpResponseNotModified()
            not_modified["ETag"] = tag
            for header in COPIED_HEADERS:
                if header in response:
                    not_modified[header] = response[header]
            return not_modified
        return response

    def rendered(self, request: Request, response: Response) -> None:
        """Called with each response rendered and tagged here (before any 304)."""


class CachedReadMixin(ETagMixin):
    """ETags, and the JSON answers of ``cached_actions`` kept in the cache.

    - ``cache_namespaces``: what the answers are made of (``readcache.NAMESPACES``);
    - ``cache_valid_until(request, response, since)``: when an answer read at ``since`` (a
      moment before its rows were read) changes without a write (a hold running out, a
      campaign ending), or ``None``.
    """

    cache_namespaces: tuple[str, ...] = ()
    cached_actions: tuple[str, ...] = ("list", "retrieve")

    def cache_valid_until(
        self, request: Request, response: Response, since: datetime
    ) -> datetime | None:
        return None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._read_cache_key: str | None = None
        # Before any row is read: what changes with time after this moment is looked for
        # from it, so nothing that happens while the answer is made can be missed.
        self._read_at = timezone.now()
        found = self._versions(request)
        if found is None:
            return
        key = self._read_cache_key = self._cache_key(request, found)
        stored = cache.get(key)
        method = request.method.lower()  # type: ignore[union-attr]
        # The dispatcher is about to call the handler: it is replaced by the copy, or read
        # from the replica when what it shows has not changed for longer than the replica
        # may lag (docs/adr/0045).
        if stored and (stored["until"] is None or stored["until"] > timezone.now()):
            setattr(self, method, _serve(stored))
        elif replica.alias() and (
            time.time() - readcache.changed_at(found) >= settings.DATABASE_REPLICA_LAG_SECONDS
        ):
            setattr(self, method, _from_replica(getattr(self, method)))

    def _versions(self, request: Request) -> tuple[str, ...] | None:
        if (
            request.method not in ("GET", "HEAD")
            or getattr(self, "action", None) not in self.cached_actions
            or settings.READ_CACHE_SECONDS <= 0
            or getattr(request, "accepted_renderer", None) is None
            or request.accepted_renderer.format != "json"
        ):
            return None
        return readcache.versions(self.cache_namespaces)

    def _cache_key(self, request: Request, found: tuple[str, ...]) -> str:
        user = request.user
        roles = sorted(role_names(user))
        if user is not None and getattr(user, "is_superuser", False):
            roles.append("*superuser")
        parts = (
            type(self).__module__,
            type(self).__qualname__,
            str(getattr(self, "action", "")),
            # Links in the body (pages, pictures) are absolute: this host's, this scheme's.
            request.scheme or "",
            request.get_host(),
            request.get_full_path(),
            get_language() or "",
            ",".join(roles),
            request.accepted_media_type,
            *found,
        )
        digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=20).hexdigest()
        return f"readcache:read:{digest}"

    def rendered(self, request: Request, response: Response) -> None:
        key = getattr(self, "_read_cache_key", None)
        if key is None or CACHE_HEADER in response:
            return
        response[CACHE_HEADER] = "MISS"
        until = self.cache_valid_until(request, response, self._read_at)
        seconds = float(settings.READ_CACHE_SECONDS)
        if until is not None:
            seconds = min(seconds, (until - timezone.now()).total_seconds())
        if seconds >= 1:  # else it changes (or changed) before anyone could be served it
            stored = {
                "content": response.content,
                "headers": {name: response[name] for name in STORED_HEADERS if name in response},
                "etag": response["ETag"],
                "until": until,
            }
            cache.set(key, stored, int(seconds))


def _from_replica(handler: Callable[..., Any]) -> Callable[..., Any]:
    def read(request: Request, *args: Any, **kwargs: Any) -> Any:
        try:
            with replica.reads():  # serializers have read every row by the time they return
                return handler(request, *args, **kwargs)
        except DatabaseError as error:  # the replica is down or behind a failover
            replica.unavailable(error)
        return handler(request, *args, **kwargs)  # it wrote nothing: read it again here

    return read


def _serve(stored: dict[str, Any]) -> Callable[..., HttpResponse]:
    def handler(request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        response = HttpResponse(stored["content"])
        for name, value in stored["headers"].items():
            response[name] = value
        response["ETag"] = stored["etag"]
        response[CACHE_HEADER] = "HIT"
        return response

    return handler
