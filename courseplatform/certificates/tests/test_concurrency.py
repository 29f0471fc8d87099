"""Issuing under concurrency: many requests at once, exactly one certificate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from courseplatform.certificates import services
from courseplatform.certificates.models import Certificate
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context
from tests.fixtures.concurrency import run_together

from .conftest import build

WORKERS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_issue_creates_exactly_one_certificate(make_school: Callable[..., Any]) -> None:
    setup = build(make_school, "alpha", enabled=True)
    # Completed while the certificate was off, so nothing was issued on completion.
    with school_context(setup.school):
        from courseplatform.certificates.models import CertificateSettings

        CertificateSettings.objects.filter(school=setup.school).update(enabled=False)
    setup.complete_all()
    with school_context(setup.school):
        CertificateSettings.objects.filter(school=setup.school).update(enabled=True)
    assert setup.certificate() is None

    def issue() -> tuple[str, bool]:
        certificate, created = services.issue_certificate(
            school=setup.school, actor=None, course=setup.course, student=setup.student
        )
        return certificate.code, created

    outcomes = run_together(setup.school, [issue] * WORKERS)
    assert [o.error for o in outcomes] == [None] * WORKERS
    codes = {o.value[0] for o in outcomes}
    created = [o.value[1] for o in outcomes]
    assert len(codes) == 1 and created.count(True) == 1
    with school_context(setup.school):
        assert Certificate.objects.filter(school=setup.school).count() == 1
        assert (
            AuditLog.objects.filter(school=setup.school, action="certificate.issued").count() == 1
        )
    assert len(mail.outbox) == 1
