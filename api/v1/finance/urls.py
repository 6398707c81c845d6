"""Mounted by api/v1/urls.py under payments/: /api/v1/payments/reports/..."""

from django.urls import path

from . import views

urlpatterns = [
    path("reports/sales/", views.SalesReportView.as_view(), name="payments-reports-sales"),
    path("reports/refunds/", views.RefundsReportView.as_view(), name="payments-reports-refunds"),
]
