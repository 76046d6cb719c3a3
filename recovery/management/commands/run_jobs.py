from __future__ import annotations

from django.core.management.base import BaseCommand

from recovery import jobs


class Command(BaseCommand):
    help = "Run every periodic job once, now, in the foreground. Safe to run any number of times."

    def handle(self, *args, **options) -> None:
        result = jobs.sweep()
        self.stdout.write(
            f"Escalation sweep: {result.patients} patients in {result.batches} batches, "
            f"{result.escalations} new escalations recorded."
        )
