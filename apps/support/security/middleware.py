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
# Everything else (JSON, files): nothing may run or be framed.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            is_page = response.get("Content-Type", "").startswith("text/html")
            response["Content-Security-Policy"] = PAGE_POLICY if is_page else DATA_POLICY
        return response


class BackOfficeAxesMiddleware(AxesMiddleware):
    """django-axes' lockout response, for the back office only.

    Under /api/ the login service answers a lockout itself, in the API's error shape.
    """

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return self.get_response(request)
        return super().__call__(request)
