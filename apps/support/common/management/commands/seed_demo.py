"""``python manage.py seed_demo``: fill the park with demo data (idempotent)."""

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from apps.support.common.demo import DemoContext, demo_steps


class Command(BaseCommand):
    help = "Create or refresh the demo data of every module. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even with DEBUG off (demo accounts have published passwords).",
        )
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help="Hide the progress (a bar on a terminal, else one line per step).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "Refusing to load demo data with DEBUG off: demo accounts have well-known "
                "passwords. Pass --allow-production if this really is a demo server."
            )
        context = DemoContext()
        steps = demo_steps()
        # A bar redraws itself with carriage returns: only a terminal shows it as a bar.
        # Anywhere else (a file, a pipe, CI) each step is one plain line.
        bar = not options["no_progress"] and sys.stderr.isatty()
        lines = not options["no_progress"] and not bar
        with tqdm(
            steps, desc="Demo data", unit="step", disable=not bar, file=sys.stderr
        ) as progress:
            for number, step in enumerate(progress, start=1):
                if bar:
                    progress.set_postfix_str(step.name)
                elif lines:
                    self.stdout.write(f"Demo data {number}/{len(steps)}: {step.name}")
                if step.atomic:
                    with transaction.atomic():
                        step.run(context)
                else:
                    step.run(context)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({len(steps)} steps)."))
        if context.accounts:
            self.stdout.write("\nDemo accounts (password shown once here, documented in README):")
            width = max(len(account.email) for account in context.accounts)
            for account in context.accounts:
                self.stdout.write(
                    f"  {account.role:<16} {account.email:<{width}}  {account.password}"
                )
        if context.notes:
            self.stdout.write("")
            for note in context.notes:
                self.stdout.write(note)
