"""Demo data of payments: a refund finance gave (two tickets of the school group's order)."""

from apps.support.common.demo import DemoContext, demo_step
from apps.support.security.models import User

from . import services
from .models import Order, OrderStatus, Refund


@demo_step(order=43, name="payments.refunds", atomic=False)
def refund_part_of_an_order(context: DemoContext) -> None:
    """Finance refunds two of the twelve tickets of the demo visitor's group order (two pupils
    fell ill): the refund, the voided tickets and, with invoices, the credit note."""
    if Refund.objects.exists():
        return
    group = (
        Order.objects.filter(
            user__email="visitor@parquemarino.test",
            status=OrderStatus.PAID,
            lines__quantity__gte=12,
        )
        .order_by("pk")
        .first()
    )
    line = group.lines.order_by("-quantity", "pk").first() if group is not None else None
    if group is None or line is None:
        return
    finance = User.objects.get(email="finance@parquemarino.test")
    services.refund_request(
        order=group,
        actor=finance,
        lines=[services.LineRefund(line=line.pk, quantity=2)],
        reason="Two pupils fell ill",
    )
