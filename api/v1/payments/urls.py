from django.urls import path
from rest_framework.routers import SimpleRouter

from . import reconciliation, views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("refunds", views.RefundViewSet, basename="refund")
router.register("webhook-events", views.WebhookEventViewSet, basename="webhook-event")

urlpatterns = [
    path("gateways/", views.GatewayListView.as_view(), name="payments-gateways"),
    path("webhooks/<slug:gateway>/", views.WebhookView.as_view(), name="payments-webhook"),
    path(
        "reports/reconciliation/",
        reconciliation.ReconciliationView.as_view(),
        name="payments-reconciliation",
    ),
    path(
        "reports/reconciliation/fetch/",
        reconciliation.ReconciliationFetchView.as_view(),
        name="payments-reconciliation-fetch",
    ),
    *router.urls,
]
