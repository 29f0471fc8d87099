"""The operator console lists every school's custom domains, read-only, tokens hidden."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.domains.models import CustomDomain
from courseplatform.tenancy.rls import school_context

PASSWORD = "a-long-test-passphrase-42"


@pytest.mark.django_db(transaction=True)
def test_console_lists_domains_of_every_school_read_only(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    domains = []
    for created, name in ((school_a, "learn.alpha.test"), (school_b, "learn.bravo.test")):
        with school_context(created.school):
            domains.append(CustomDomain.objects.create(school=created.school, hostname=name))
    staff = User.objects.create_superuser("ops@platform.test", PASSWORD)
    client = client_for("localhost")
    client.force_login(staff)
    listing = client.get("/admin/domains/customdomain/").content.decode()
    assert "learn.alpha.test" in listing and "learn.bravo.test" in listing
    assert "/admin/domains/customdomain/add/" not in listing
    detail = client.get(f"/admin/domains/customdomain/{domains[0].pk}/change/").content.decode()
    assert domains[0].verification_token not in detail and 'name="_save"' not in detail
    assert (
        client.post(
            f"/admin/domains/customdomain/{domains[0].pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    with school_context(school_a.school):
        assert CustomDomain.objects.filter(pk=domains[0].pk).exists()
