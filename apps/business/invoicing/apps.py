from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "apps.business.invoicing"
    label = "invoicing"
    verbose_name = _("Invoicing")

    def ready(self) -> None:
        from apps.business.payments.signals import order_paid, refund_succeeded

        from . import receivers

        order_paid.connect(receivers.order_paid, dispatch_uid="invoicing:order-paid")
        refund_succeeded.connect(
            receivers.refund_succeeded, dispatch_uid="invoicing:refund-succeeded"
        )
