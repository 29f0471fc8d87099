"""The deploy check refuses the development signing key."""

from __future__ import annotations

from django.test import override_settings

from courseplatform.certificates.checks import check_signing_key


def test_deploy_check_refuses_the_derived_key() -> None:
    with override_settings(CERTIFICATE_SIGNING_KEY_FROM_ENV=False):
        errors = check_signing_key()
    assert [error.id for error in errors] == ["certificates.E001"]
    with override_settings(CERTIFICATE_SIGNING_KEY_FROM_ENV=True):
        assert check_signing_key() == []
