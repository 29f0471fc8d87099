from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from courseplatform.onboarding.services import create_school
from courseplatform.tenancy.selectors import school_url


class Command(BaseCommand):
    help = "Create a school with its owner, default theme and landing page."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Subdomain, e.g. 'acme' for acme.<PLATFORM_DOMAIN>")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-name", default="")
        parser.add_argument(
            "--password",
            default=None,
            help="Owner password; omit to have the owner use password reset.",
        )
        parser.add_argument("--plan", default="free", choices=["free", "premium", "enterprise"])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = create_school(
                slug=options["slug"],
                name=options["name"],
                owner_email=options["owner_email"],
                owner_password=options["password"],
                owner_name=options["owner_name"] or options["owner_email"].split("@")[0],
                plan_code=options["plan"],
            )
        except ValidationError as exc:
            messages = (
                "; ".join(
                    f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()
                )
                if hasattr(exc, "error_dict")
                else " ".join(exc.messages)
            )
            raise CommandError(messages) from exc
        self.stdout.write(school_url(created.school, "/"))
