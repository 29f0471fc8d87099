"""Re-verify the DNS proof of custom domains that are due (all schools)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseplatform.domains.periodic import verify_custom_domains


class Command(BaseCommand):
    help = (
        "Look up the DNS records of every live custom domain last checked more than "
        "CUSTOM_DOMAIN_CHECK_MINUTES ago: activate verified ones, turn active ones whose "
        "proof disappeared into failing (they keep serving CUSTOM_DOMAIN_GRACE_HOURS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="domains per run")
        parser.add_argument("--quiet", action="store_true", help="print only status changes")

    def handle(self, *args: Any, **options: Any) -> None:
        checked = verify_custom_domains(limit=options["limit"])
        for item in checked:
            if item.before != item.after or not options["quiet"]:
                self.stdout.write(
                    f"{item.hostname} (school {item.school_id}): {item.before} → {item.after} "
                    f"[{item.outcome}]"
                )
        if not checked and not options["quiet"]:
            self.stdout.write("No custom domains due for a check.")
