"""Playback tokens: Cloudflare's timed-HMAC format, expiry, tampering, rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

import pytest
from django.test import override_settings

from courseplatform.video import signing
from courseplatform.video.signing import Signer

from .playback_support import cloudflare_is_timed_hmac_valid_v0

PATH = "/schools/7/videos/0b1f8c1e-7a7e-4f0e-9a0b-5d7e3b1a2c3d/hls/720p/seg_00001.m4s"
NOW = 1_767_225_600
TTL = 300


def _split(url: str) -> tuple[str, int, str]:
    path, _, query = url.partition("?")
    match = re.fullmatch(r"verify=(\d{10})-([A-Za-z0-9_-]{43})", query)
    assert match, url
    return path, int(match[1]), match[2]


def test_signing_matches_cloudflares_published_example() -> None:
    # Known answer from a published Cloudflare token-authentication walkthrough:
    # secret "cloudflare", path "/tokenauth/kayak.mp4", issued 1657026353.
    signer = Signer(("cloudflare",), TTL)
    mac = signer.mac("/tokenauth/kayak.mp4", 1657026353)
    assert mac == "ZXJWAyFwAgJSY-5j3CkJE80TatA33E3MEH4D_kSnh7M"  # URL-safe, unpadded
    standard = "ZXJWAyFwAgJSY%2B5j3CkJE80TatA33E3MEH4D%2FkSnh7M%3D"
    uri = f"/tokenauth/kayak.mp4?verify=1657026353-{standard}"
    assert cloudflare_is_timed_hmac_valid_v0("cloudflare", uri, 10800, 1657026353 + 60, 8)


def test_signed_url_format_is_path_verify_issued_dash_urlsafe_mac() -> None:
    signer = Signer(("s3cret",), TTL)
    url = signer.sign_path(PATH, issued=NOW)
    path, issued, mac = _split(url)
    assert (path, issued) == (PATH, NOW)
    expected = hmac.new(b"s3cret", f"{PATH}{NOW}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(mac + "=") == expected


def test_cloudflare_rule_accepts_our_tokens_until_the_ttl() -> None:
    signer = Signer(("edge-secret",), TTL)
    uri = signer.sign_path(PATH, issued=NOW)
    check = cloudflare_is_timed_hmac_valid_v0
    assert check("edge-secret", uri, TTL, NOW, 8, "s")
    assert check("edge-secret", uri, TTL, NOW + TTL - 1, 8, "s")
    assert not check("edge-secret", uri, TTL, NOW + TTL, 8, "s")
    assert not check("another-secret", uri, TTL, NOW, 8, "s")
    assert not check("edge-secret", uri.replace("seg_00001", "seg_00002"), TTL, NOW, 8, "s")


def test_verify_round_trip_and_expiry() -> None:
    signer = Signer(("s3cret",), TTL)
    token = signer.token(PATH, issued=NOW)
    assert signer.verify(PATH, token, now=NOW)
    assert signer.verify(PATH, token, now=NOW + TTL - 1)
    assert not signer.verify(PATH, token, now=NOW + TTL)  # expired
    assert not signer.verify(PATH, token, now=NOW + 10 * TTL)


def test_verify_refuses_tokens_issued_in_the_future() -> None:
    signer = Signer(("s3cret",), TTL)
    token = signer.token(PATH, issued=NOW + 3600)  # would otherwise live for an hour more
    assert not signer.verify(PATH, token, now=NOW)
    slightly_ahead = signer.token(PATH, issued=NOW + 30)  # clock skew between servers
    assert signer.verify(PATH, slightly_ahead, now=NOW)


def test_verify_refuses_tampering_and_other_paths() -> None:
    signer = Signer(("s3cret",), TTL)
    token = signer.token(PATH, issued=NOW)
    issued, mac = token.split("-", 1)
    flipped = mac[:10] + ("A" if mac[10] != "A" else "B") + mac[11:]
    assert not signer.verify(PATH, f"{issued}-{flipped}", now=NOW)
    assert not signer.verify(PATH, f"{int(issued) + 60}-{mac}", now=NOW + 60)  # longer life
    assert not signer.verify(PATH.replace("720p", "1080p"), token, now=NOW)
    assert not signer.verify(PATH + "x", token, now=NOW)


@pytest.mark.parametrize(
    "token",
    ["", None, "nonsense", "1767225600-", "1767225600-short", "176722560-" + "A" * 43,
     "1767225600-" + "A" * 44, "1767225600-" + "+" * 43, " 1767225600-" + "A" * 43],
)  # fmt: skip
def test_verify_refuses_malformed_tokens(token: str | None) -> None:
    assert not Signer(("s3cret",), TTL).verify(PATH, token, now=NOW)


def test_previous_secret_is_accepted_and_unknown_secrets_refused() -> None:
    old = Signer(("old-secret",), TTL)
    rotated = Signer(("new-secret", "old-secret"), TTL)
    stranger = Signer(("someone-else",), TTL)
    assert rotated.verify(PATH, old.token(PATH, issued=NOW), now=NOW)
    assert rotated.verify(PATH, rotated.token(PATH, issued=NOW), now=NOW)
    assert not rotated.verify(PATH, stranger.token(PATH, issued=NOW), now=NOW)
    # New tokens are signed with the current (first) secret only.
    assert not old.verify(PATH, rotated.token(PATH, issued=NOW), now=NOW)
    # Once the old secret is dropped, its tokens stop working.
    assert not Signer(("new-secret",), TTL).verify(PATH, old.token(PATH, issued=NOW), now=NOW)


def test_sign_paths_equals_sign_path_for_each() -> None:
    signer = Signer(("s3cret", "old"), TTL)
    paths = [f"/v/seg_{i:05d}.m4s" for i in range(1, 50)]
    assert signer.sign_paths(paths, issued=NOW) == [signer.sign_path(p, issued=NOW) for p in paths]


def test_signer_needs_a_secret_and_a_positive_ttl() -> None:
    with pytest.raises(ValueError):
        Signer((), TTL)
    with pytest.raises(ValueError):
        Signer(("",), TTL)
    with pytest.raises(ValueError):
        Signer(("s",), 0)


def test_module_helpers_follow_settings() -> None:
    with override_settings(VIDEO_SIGNING_SECRETS=["one"], VIDEO_TOKEN_TTL_SECONDS=60):
        token = signing.token(PATH)
        assert signing.verify(PATH, token)
        assert signing.get_signer().ttl == 60
        assert not signing.verify(PATH, token, now=int(time.time()) + 61)
    with override_settings(VIDEO_SIGNING_SECRETS=["two", "one"]):
        assert signing.verify(PATH, token)
    with override_settings(VIDEO_SIGNING_SECRETS=["two"]):
        assert not signing.verify(PATH, token)


def test_default_secret_is_derived_and_not_the_secret_key() -> None:
    from django.conf import settings

    assert settings.VIDEO_SIGNING_SECRETS
    assert settings.SECRET_KEY not in settings.VIDEO_SIGNING_SECRETS


def test_sign_paths_url_prefix_is_not_signed() -> None:
    signer = Signer(("s3cret",), TTL)
    [url] = signer.sign_paths(["/media/x.m4s"], issued=NOW, url_prefix="https://cdn.example.test")
    assert url == "https://cdn.example.test" + signer.sign_path("/media/x.m4s", issued=NOW)
