from typing import Any

from django.core.management.base import BaseCommand

from apps.business.invoicing.services import invoices_issue_missing


class Command(BaseCommand):
    help = (
        "Issue the invoices of paid orders and the credit notes of succeeded refunds that have "
        "none (their task was lost). Idempotent; for cron, every few minutes. Orders in use at "
        "that moment are skipped and taken on the next run."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = invoices_issue_missing()
        self.stdout.write(
            f"{run.invoices} invoices and {run.credit_notes} credit notes issued, "
            f"{run.skipped} skipped (in use, taken next run)."
        )
