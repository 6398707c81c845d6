from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    """Finance reports: SQL aggregates over payments' orders, payments and refunds (and the
    names of what tickets sells), and the daily sales totals of closed days (docs/adr/0030)."""

    name = "apps.business.finance"
    label = "finance"
    verbose_name = _("Finance")
