"""The operator console's audit log is read-only, a new school's slug is editable
only when adding, and an unknown school status is refused with nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.ops import schools
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass

PASSWORD = "a-long-test-passphrase-42"


def _staff_client(client_for: Callable[..., Client]) -> tuple[Client, User]:
    staff = User.objects.create_superuser("ops@platform.test", PASSWORD)
    client = client_for("localhost")
    client.force_login(staff)
    return client, staff


@pytest.mark.django_db(transaction=True)
def test_operator_console_audit_log_is_listed_but_never_added_changed_or_deleted(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client, _ = _staff_client(client_for)
    listing = client.get("/admin/ops/auditlog/")
    assert listing.status_code == 200
    assert "platform.rls_bypass" in listing.content.decode()
    assert "/admin/ops/auditlog/add/" not in listing.content.decode()
    assert client.get("/admin/ops/auditlog/add/").status_code == 403

    entry = AuditLog.objects.filter(action="platform.rls_bypass").first()
    assert entry is not None
    detail = client.get(f"/admin/ops/auditlog/{entry.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert client.post(f"/admin/ops/auditlog/{entry.pk}/delete/", {"post": "yes"}).status_code == (
        403
    )
    assert AuditLog.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_operator_console_slug_is_editable_when_adding_and_read_only_after(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client, _ = _staff_client(client_for)
    add_form = client.get("/admin/tenancy/school/add/").content.decode()
    assert 'name="slug"' in add_form
    change_form = client.get(f"/admin/tenancy/school/{school_a.school.pk}/change/")
    assert change_form.status_code == 200
    assert 'name="slug"' not in change_form.content.decode()
    assert "alpha" in change_form.content.decode()


def test_set_school_status_refuses_an_unknown_status_and_changes_nothing(school_a: Any) -> None:
    school = school_a.school
    with pytest.raises(ValidationError) as raised:
        with platform_bypass(actor=None, reason="test: unknown status"):
            schools.set_school_status(school=school, actor=None, status="closed")
    assert raised.value.message_dict == {"status": ["Unknown status."]}
    school.refresh_from_db()
    assert school.status == School.Status.ACTIVE
    with platform_bypass(actor=None, reason="test: read audit"):
        assert not AuditLog.objects.filter(action__startswith="school.").exists()
