"""The home page, the API root, and Django's own error pages answered in the API's error shape."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .errors import error_response
from .middleware import API_PREFIX


@csrf_exempt  # read only: a write is 405 (require_safe), not a CSRF failure page
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """``/`` (and the back office's "View site"): what this service is and where its parts are.

    In the request's language; it reads nothing from the database. GET and HEAD only.
    """
    return render(request, "home.html", {"debug_mode": settings.DEBUG})


class ApiRootSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="API version of this URL space, e.g. `v1`.")
    schema = serializers.URLField(help_text="OpenAPI 3 schema.")
    docs = serializers.URLField(help_text="Swagger UI.")
    redoc = serializers.URLField(help_text="ReDoc.")


class ApiRootView(APIView):
    """Which API version this is and where its documentation lives."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ApiRootSerializer, operation_id="api_root", tags=["api"])
    def get(self, request: Request) -> Response:
        version = request.version
        data = {
            "version": version,
            "schema": reverse(f"{version}:schema", request=request),
            "docs": reverse(f"{version}:docs", request=request),
            "redoc": reverse(f"{version}:redoc", request=request),
        }
        return Response(ApiRootSerializer(data).data)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Unknown routes under /api/: JSON 404, whatever DEBUG says."""
    return error_response(request, 404, message=_("No resource at this address."))


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_response(request, 400, message=_("Bad request."))
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_response(request, 403, message=_("You do not have permission."))
    return defaults.permission_denied(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a cookie-authenticated write without its CSRF token."""
    if request.path.startswith(API_PREFIX):
        return error_response(
            request,
            403,
            code="csrf_failed",
            message=_("CSRF check failed: %(reason)s") % {"reason": reason},
        )
    return csrf.csrf_failure(request, reason)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_response(
            request, 500, message=_("Something went wrong on our side; it has been logged.")
        )
    return defaults.server_error(request)
