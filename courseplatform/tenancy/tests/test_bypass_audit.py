"""Every RLS bypass is audited through the auditor ops hands in; without one, none runs."""

from __future__ import annotations

from typing import Any

import pytest

from courseplatform.tenancy import rls

pytestmark = pytest.mark.django_db


def test_bypass_is_refused_when_no_auditor_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rls, "_bypass_auditor", None)
    entered = False
    with pytest.raises(RuntimeError, match="must be audited"):
        with rls.platform_bypass(actor=None, reason="test"):
            entered = True
    assert not entered
    assert not rls._bypass.get()


def test_bypass_hands_actor_reason_and_ip_to_the_auditor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(rls, "_bypass_auditor", None)
    rls.audit_bypasses_with(lambda **entry: calls.append(entry))
    with rls.platform_bypass(actor="operator", reason="nightly report", ip="127.0.0.1"):
        assert rls._bypass.get()
    assert calls == [{"actor": "operator", "reason": "nightly report", "ip": "127.0.0.1"}]
    assert not rls._bypass.get()


def test_bypass_without_audit_records_nothing_but_still_needs_an_auditor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``audit=False``: a timed read-only scan whose caller audits what it changes."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(rls, "_bypass_auditor", None)
    with pytest.raises(RuntimeError, match="must be audited"):
        with rls.platform_bypass(actor=None, reason="scan", audit=False):
            pass
    rls.audit_bypasses_with(lambda **entry: calls.append(entry))
    with rls.platform_bypass(actor=None, reason="scan", audit=False):
        assert rls._bypass.get()
    assert calls == []
