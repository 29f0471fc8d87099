"""The Cloudflare for SaaS client: the official SDK against a fake of exactly the
endpoints used, over real HTTP on loopback (tests/fixtures/cloudflare.py)."""

from __future__ import annotations

import pytest

from courseplatform.domains import cloudflare
from tests.fixtures.cloudflare import REFUSED_SUFFIX, ZONE_ID, FakeCloudflare


def test_enabled_only_with_token_and_zone(settings) -> None:
    settings.CLOUDFLARE_API_TOKEN = "t"
    settings.CLOUDFLARE_ZONE_ID = ""
    assert cloudflare.is_enabled() is False
    settings.CLOUDFLARE_ZONE_ID = "z"
    assert cloudflare.is_enabled() is True
    settings.CLOUDFLARE_API_TOKEN = ""
    assert cloudflare.is_enabled() is False


def test_create_returns_the_records_cloudflare_asks_for(fake_cloudflare: FakeCloudflare) -> None:
    state = cloudflare.create_hostname("learn.example.test")
    stored = fake_cloudflare.by_name("learn.example.test")
    assert stored is not None and state.id == stored["id"]
    assert (state.status, state.ssl_status) == ("pending", "pending_validation")
    assert not state.hostname_active and not state.certificate_active
    kinds = {(r.purpose, r.type, r.name, r.value) for r in state.records}
    assert kinds == {
        (
            "ownership",
            "TXT",
            "_cf-custom-hostname.learn.example.test",
            stored["ownership_verification"]["value"],
        ),
        (
            "certificate",
            "TXT",
            "_acme-challenge.learn.example.test",
            stored["ssl"]["validation_records"][0]["txt_value"],
        ),
    }
    assert state.errors == ["custom hostname does not CNAME to this zone."]
    method, path = fake_cloudflare.requests[-1]
    assert (method, path) == ("POST", f"/client/v4/zones/{ZONE_ID}/custom_hostnames")


def test_get_follows_validation_to_active(fake_cloudflare: FakeCloudflare) -> None:
    created = cloudflare.create_hostname("learn.example.test")
    fake_cloudflare.activate("learn.example.test")
    state = cloudflare.get_hostname(created.id)
    assert state.hostname_active and state.certificate_active
    assert state.records == [] and state.errors == []
    assert state.as_json()["status"] == "active"


def test_already_exists_is_reported_as_duplicate(fake_cloudflare: FakeCloudflare) -> None:
    seeded = fake_cloudflare.seed("learn.example.test")
    with pytest.raises(cloudflare.CloudflareProblem) as refused:
        cloudflare.create_hostname("learn.example.test")
    assert refused.value.duplicate and not refused.value.retry_later
    assert "already registered" in refused.value.message
    assert cloudflare.find_hostname_id("learn.example.test") == seeded["id"]
    assert cloudflare.find_hostname_id("other.example.test") is None


def test_a_hostname_cloudflare_refuses_gets_a_clear_message(
    fake_cloudflare: FakeCloudflare,
) -> None:
    name = "shop" + REFUSED_SUFFIX
    with pytest.raises(cloudflare.CloudflareProblem) as refused:
        cloudflare.create_hostname(name)
    assert refused.value.invalid_hostname
    assert f"Cloudflare does not accept {name}" in refused.value.message
    assert "not allowed" in refused.value.message  # Cloudflare's own words
    assert fake_cloudflare.by_name(name) is None


def test_rate_limit_is_retried_by_the_sdk(fake_cloudflare: FakeCloudflare) -> None:
    fake_cloudflare.fail_next(2, status=429)  # max_retries=2: the third attempt succeeds
    state = cloudflare.create_hostname("learn.example.test")
    assert state.status == "pending"
    posts = [r for r in fake_cloudflare.requests if r[0] == "POST"]
    assert len(posts) == 3


def test_a_lasting_rate_limit_says_try_again_later(fake_cloudflare: FakeCloudflare) -> None:
    fake_cloudflare.fail_next(3, status=429)
    with pytest.raises(cloudflare.CloudflareProblem) as refused:
        cloudflare.create_hostname("learn.example.test")
    assert refused.value.retry_later
    assert "Try again later" in refused.value.message
    assert fake_cloudflare.hostnames == {}


def test_cloudflare_errors_and_an_unreachable_api_are_retry_later(
    fake_cloudflare: FakeCloudflare, settings
) -> None:
    fake_cloudflare.fail_next(3, status=503)
    with pytest.raises(cloudflare.CloudflareProblem) as failed:
        cloudflare.create_hostname("learn.example.test")
    assert failed.value.retry_later
    settings.CLOUDFLARE_API_BASE_URL = "http://127.0.0.1:9/client/v4"  # nothing listens
    settings.CLOUDFLARE_MAX_RETRIES = 0
    with pytest.raises(cloudflare.CloudflareProblem) as unreachable:
        cloudflare.get_hostname("abc")
    assert unreachable.value.retry_later
    assert "could not be reached" in unreachable.value.message


def test_a_wrong_token_is_refused_not_retried(fake_cloudflare: FakeCloudflare, settings) -> None:
    settings.CLOUDFLARE_API_TOKEN = "not-the-token"
    with pytest.raises(cloudflare.CloudflareProblem) as refused:
        cloudflare.create_hostname("learn.example.test")
    assert not refused.value.retry_later
    assert "Authentication error" in refused.value.message
    assert len(fake_cloudflare.requests) == 1


def test_delete_removes_it_and_a_missing_one_counts_as_deleted(
    fake_cloudflare: FakeCloudflare,
) -> None:
    created = cloudflare.create_hostname("learn.example.test")
    cloudflare.delete_hostname(created.id)
    assert fake_cloudflare.hostnames == {}
    cloudflare.delete_hostname(created.id)  # already gone: no error
    with pytest.raises(cloudflare.CloudflareProblem) as missing:
        cloudflare.get_hostname(created.id)
    assert missing.value.not_found
