"""`manage.py migrate --check` as the runtime role: the Kubernetes init containers of
web and worker (deploy/k8s/) wait on it until the migration Job has run. It must only
look: the runtime role may read the migration history but may not grant privileges."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_migrate_check_as_the_runtime_role_passes_and_grants_nothing() -> None:
    # Every migration is applied in the test database: no SystemExit. Before the check
    # skipped the grant step this raised "permission denied" (runtime role granting).
    call_command("migrate", "--check", database="default", verbosity=0)
    call_command("migrate", "--plan", database="default", verbosity=0)
