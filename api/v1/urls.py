"""Version 1 of the API, mounted at /api/v1/ under the ``v1`` namespace.

Each module adds one line here: ``path("<module>/", include("api.v1.<module>.urls"))``.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.docs import RedocView, redoc_bundle_view
from api.views import ApiRootView

urlpatterns = [
    path("", ApiRootView.as_view(), name="root"),
    path("auth/", include("api.v1.auth.urls")),
    path("security/", include("api.v1.security.urls")),
    path("audit/", include("api.v1.audit.urls")),
    path("infrastructure/", include("api.v1.infrastructure.urls")),
    path("wildlife/", include("api.v1.wildlife.urls")),
    path("tickets/", include("api.v1.tickets.urls")),
    path("education/", include("api.v1.education.urls")),
    path("exhibitions/", include("api.v1.exhibitions.urls")),
    path("documents/", include("api.v1.documents.urls")),
    path("payments/", include("api.v1.invoicing.urls")),  # invoices: /payments/invoices/
    path("payments/", include("api.v1.donations.urls")),  # /payments/campaigns/, donations/
    path("payments/", include("api.v1.finance.urls")),  # reports: /payments/reports/
    path("payments/", include("api.v1.payments.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="v1:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="v1:schema"), name="redoc"),
    path("redoc/redoc.standalone.js", redoc_bundle_view, name="redoc-bundle"),
]
