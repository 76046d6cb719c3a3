from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.models import Role


class Command(BaseCommand):
    help = "Create a patient or therapist account, non-interactively."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument(
            "--name", default="", help="the name shown to others (default: the address before @)"
        )
        parser.add_argument("--timezone", default="UTC")

    def handle(self, *args, **options) -> None:
        try:
            user = services.user_create(
                email=options["email"],
                password=options["password"],
                role=options["role"],
                name=options["name"] or options["email"].partition("@")[0],
                timezone_name=options["timezone"],
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            )
            raise CommandError(problems) from None
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} {user.email} (id {user.id})."))
