"""Re-encrypt every stored access code with the current (first) encryption key.

Key rotation: put the new Fernet key first in ENCRYPTION_KEYS, keep the
old ones after it, run this command, then drop the old keys. It works across all
schools (through the audited RLS bypass), commits chunk by chunk and can be re-run
safely: a code already under the new key is simply re-encrypted again.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from courseplatform.access.codes import reencrypt_code
from courseplatform.access.models import AccessCode
from courseplatform.tenancy.rls import platform_bypass


class Command(BaseCommand):
    help = "Re-encrypt every access code with the first key of ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size", type=int, default=1000, help="codes per transaction (default 1000)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = max(1, int(options["chunk_size"]))
        done = 0
        failed: list[int] = []
        last_pk = 0
        with platform_bypass(actor=None, reason="rotate access code keys"):
            while True:
                chunk = list(
                    AccessCode.objects.filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", "ciphertext")[:chunk_size]
                )
                if not chunk:
                    break
                last_pk = chunk[-1].pk
                changed = []
                for row in chunk:
                    try:
                        row.ciphertext = reencrypt_code(row.ciphertext)
                    except InvalidToken:
                        failed.append(row.pk)
                        continue
                    changed.append(row)
                with transaction.atomic():
                    AccessCode.objects.bulk_update(changed, ["ciphertext"])
                done += len(changed)
        plural = "s" if done != 1 else ""
        self.stdout.write(f"Re-encrypted {done} access code{plural} with the current key.")
        if failed:
            shown = ", ".join(str(pk) for pk in failed[:20])
            raise CommandError(
                f"{len(failed)} code(s) could not be decrypted with any configured key "
                f"(ids: {shown}{', …' if len(failed) > 20 else ''}). Add the key they were "
                "encrypted with to ENCRYPTION_KEYS and run the command again."
            )
