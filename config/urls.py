from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from wagtail.admin import urls as wagtailadmin_urls

from api import operations, views

urlpatterns = [
    # What this service is, with links to the API, its docs, the back office and health; also
    # where the back office's "View site" leads (its site_url, "/").
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    # The content editors' screen (Wagtail): exhibitions, their revisions, images, previews.
    path("cms/", include(wagtailadmin_urls)),
    path("api/v1/", include(("api.v1.urls", "v1"), namespace="v1")),
    # Anything else under /api/ is a JSON 404, never an HTML page, even with DEBUG on.
    re_path(r"^api/", views.api_not_found),
    path("health/live/", operations.live, name="health-live"),
    path("health/ready/", operations.ReadyView.as_view(), name="health-ready"),
    path("metrics", operations.metrics, name="metrics"),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = views.handler400
handler403 = views.handler403
handler404 = views.handler404
handler500 = views.handler500
