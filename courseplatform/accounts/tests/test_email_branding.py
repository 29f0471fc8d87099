"""School emails wear the branding sites hands in; with none set, nothing is sent."""

from __future__ import annotations

from typing import Any

import pytest

from courseplatform.accounts import services
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db


def test_school_email_uses_the_branding_provider(
    school_a: Any, mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Any, str | None]] = []

    def branding(school: Any, *, port: str | None = None) -> dict[str, str]:
        seen.append((school, port))
        return {"primary": "#123456", "on_primary": "#ffffff", "radius": "8px", "logo_url": ""}

    monkeypatch.setattr(services, "_email_branding", None)
    services.use_email_branding(branding)
    with school_context(school_a.school):
        services.send_verification_email(school=school_a.school, user=school_a.owner, port="8000")
    assert seen == [(school_a.school, "8000")]
    assert len(mailoutbox) == 1
    html = mailoutbox[0].alternatives[0][0]
    assert "#123456" in html


def test_school_email_without_a_branding_provider_is_refused(
    school_a: Any, mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "_email_branding", None)
    with school_context(school_a.school), pytest.raises(LookupError, match="email branding"):
        services.send_verification_email(school=school_a.school, user=school_a.owner)
    assert mailoutbox == []
