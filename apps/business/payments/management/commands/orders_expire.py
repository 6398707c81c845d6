from typing import Any

from django.core.management.base import BaseCommand

from apps.business.payments.services import orders_expire
from apps.support.common.idempotency import idempotency_keys_prune


class Command(BaseCommand):
    help = (
        "Record unpaid orders whose hold ran out as expired, and prune old Idempotency-Keys. "
        "Housekeeping for cron: held seats stop counting at their expiry without it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        expired = orders_expire()
        pruned = idempotency_keys_prune()
        self.stdout.write(f"{expired} orders expired, {pruned} idempotency keys pruned.")
