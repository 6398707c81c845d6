"""``python manage.py audit_verify``: check that no audit entry was altered or removed."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.support.audit.selectors import audit_chain_first_break


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; names the first entry that was altered."

    def handle(self, *args: Any, **options: Any) -> None:
        broken, reason, checked = audit_chain_first_break()
        if broken is not None:
            raise CommandError(
                f"Audit chain broken at entry #{broken.sequence} (id {broken.pk}, "
                f"{broken.action}): {reason}. {checked - 1} entries before it are intact."
            )
        if reason:
            raise CommandError(f"Audit chain broken after entry #{checked}: {reason}.")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} entries verified."))
