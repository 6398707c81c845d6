from typing import Any

from django.core.management.base import BaseCommand

from apps.business.payments.services import orders_expire, payments_resume_interrupted
from apps.support.common.idempotency import idempotency_keys_prune


class Command(BaseCommand):
    help = (
        "Record unpaid orders whose hold ran out as expired, ask the gateways again for payment "
        "attempts whose call died before recording their answer, and prune old "
        "Idempotency-Keys. "
        "Housekeeping for cron: held seats stop counting at their expiry without it. Orders "
        "being paid or cancelled at that moment are skipped and taken on the next run."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = payments_resume_interrupted()
        run = orders_expire()
        pruned = idempotency_keys_prune()
        self.stdout.write(
            f"{run.expired} orders expired, {run.skipped} skipped (in use, taken next run), "
            f"{resumed} interrupted payments asked again, {pruned} idempotency keys pruned."
        )
