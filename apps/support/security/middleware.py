"""HTTP security middleware: Content-Security-Policy and the back office's lockout page."""

from collections.abc import Callable

from axes.middleware import AxesMiddleware
from django.http import HttpRequest, HttpResponse

# Pages (the back office, Swagger UI, ReDoc): only this server's scripts, no inline script,
# no framing, no plugins. Inline styles and data:/blob: images and workers are what the admin,
# Swagger UI and ReDoc need to render.
PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# The editors' screen (/cms/) shows its live preview of a draft in a frame of its own pages.
CMS_PAGE_POLICY = PAGE_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
# Everything else (JSON, files): nothing may run or be framed.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            is_page = response.get("Content-Type", "").startswith("text/html")
            if not is_page:
                response["Content-Security-Policy"] = DATA_POLICY
            elif request.path.startswith("/cms/"):
                response["Content-Security-Policy"] = CMS_PAGE_POLICY
            else:
                response["Content-Security-Policy"] = PAGE_POLICY
        return response


class BackOfficeAxesMiddleware(AxesMiddleware):
    """django-axes' lockout response, for the back office only.

    Under /api/ the login service answers a lockout itself, in the API's error shape.
    """

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return self.get_response(request)
        return super().__call__(request)
