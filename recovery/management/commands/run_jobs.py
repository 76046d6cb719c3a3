from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from recovery import jobs


class Command(BaseCommand):
    help = "Run every periodic job once, now, in the foreground. Safe to run any number of times."

    def handle(self, *args, **options) -> None:
        result = jobs.sweep()
        self.stdout.write(
            f"Escalation sweep: {result.patients} patients in {result.batches} batches, "
            f"{result.escalations} new escalations recorded."
        )
        if result.failed:
            # The others were swept; these are in the log, with what went wrong.
            ids = ", ".join(str(patient_id) for patient_id in result.failed)
            raise CommandError(f"The sweep could not re-evaluate patients {ids} (see the log).")
