"""Mounted by api/v1/payments/urls.py: /api/v1/payments/invoices/..."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("invoices", views.InvoiceViewSet, basename="invoice")

urlpatterns = router.urls
