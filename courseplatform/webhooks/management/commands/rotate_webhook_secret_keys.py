"""Re-encrypt every webhook signing secret with the current (first) encryption key.

Run it with ``rotate_access_code_keys`` when rolling a new key into ENCRYPTION_KEYS
(new key first, old ones after it; run both commands; then drop the old keys). The
secrets themselves do not change: receivers notice nothing. Works across all schools
through the audited RLS bypass and can be re-run safely.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from courseplatform.ops.crypto import rotate
from courseplatform.tenancy.rls import platform_bypass
from courseplatform.webhooks.models import WebhookEndpoint


def _rotated(ciphertext: str) -> str:
    return rotate(ciphertext) if ciphertext else ciphertext


class Command(BaseCommand):
    help = "Re-encrypt every webhook signing secret with the first key of ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        done, failed = 0, []
        with (
            platform_bypass(actor=None, reason="rotate webhook secret keys"),
            transaction.atomic(),
        ):
            for endpoint in WebhookEndpoint.objects.select_for_update().order_by("pk"):
                try:
                    endpoint.secret_ciphertext = _rotated(endpoint.secret_ciphertext)
                    endpoint.previous_secret_ciphertext = _rotated(
                        endpoint.previous_secret_ciphertext
                    )
                except InvalidToken:
                    failed.append(endpoint.pk)
                    continue
                endpoint.save(update_fields=["secret_ciphertext", "previous_secret_ciphertext"])
                done += 1
        self.stdout.write(f"Re-encrypted the secrets of {done} webhook endpoint(s).")
        if failed:
            raise CommandError(
                f"{len(failed)} endpoint(s) could not be decrypted with any configured key "
                f"(ids: {', '.join(map(str, failed[:20]))}). Add the key they were encrypted "
                "with to ENCRYPTION_KEYS and run the command again."
            )
