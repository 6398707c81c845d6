from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")
router.register("payments", views.PaymentViewSet, basename="payment")

urlpatterns = [
    path("webhooks/<slug:gateway>/", views.WebhookView.as_view(), name="payments-webhook"),
    *router.urls,
]
