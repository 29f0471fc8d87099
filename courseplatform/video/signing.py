"""Short-lived HMAC tokens for playback URLs, in Cloudflare's timed-HMAC format.

A signed URL carries one query parameter::

    <path>?verify=<issued>-<mac>

    issued  the Unix time (seconds, 10 digits) the token was minted
    mac     base64url(HMAC-SHA256(secret, <path> + <issued>)), no padding (43 chars)

This is exactly what Cloudflare's WAF function ``is_timed_hmac_valid_v0()``
checks at the edge (Rules language reference, "HMAC validation"): its
*MessageMAC* is ``<message><separator><timestamp>-<mac>``, the MAC is computed
over *message* followed directly by *timestamp* (the separator is not part of
it), the timestamp is the 10-digit issue time, and the token is valid while
``http.request.timestamp.sec < issued + ttl``. With the optional ``flags``
argument ``"s"`` the MAC is URL-safe base64 without padding, which is what we
emit, so no percent-encoding is involved. The rule for a CDN host serving R2
(``VIDEO_CDN_BASE_URL``), with ``?verify=`` as the 8-byte separator and both
signing secrets during a rotation::

    (http.host eq "cdn.example.com" and not (
        is_timed_hmac_valid_v0("<current secret>", http.request.uri, 300,
                               http.request.timestamp.sec, 8, "s")
        or is_timed_hmac_valid_v0("<previous secret>", http.request.uri, 300,
                                  http.request.timestamp.sec, 8, "s")))
    -> Block

``300`` there must equal ``VIDEO_TOKEN_TTL_SECONDS``: Cloudflare's ttl is counted
from the issue time, so the token embeds when it was issued (not when it
expires) and every verifier applies the same ttl. ``verify`` must be the URL's
only query parameter (``http.request.uri`` is the path plus the query). Two more
settings on that host make it work well: a Cache Rule whose cache key ignores the
query string (every viewer's token differs, the bytes do not; the WAF runs before
the cache, so every request is still checked), and a CORS policy on the R2 bucket
allowing GET from the schools' origins (hls.js fetches segments with XHR).

The app checks the same tokens with :func:`verify` (local segment serving, and
tokens of its own endpoints, whose *message* also names the viewer). Secrets
come from ``VIDEO_SIGNING_SECRETS``, current first: signing uses the current
one, verification accepts any listed (current, previous) so a secret can be
rotated without breaking URLs already handed out.

Signing is on the hot path (a two-hour video has 1,200 segments per rung and
every playlist fetch re-signs all of them), so the keyed HMAC state is built
once per secret and copied per URL, and nothing here touches URL resolving.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from functools import lru_cache
from typing import Final

from django.conf import settings

PARAM: Final = "verify"
SEPARATOR: Final = f"?{PARAM}="  # 8 bytes: Cloudflare's lengthOfSeparator
MAX_CLOCK_SKEW_SECONDS: Final = 60  # a token "issued" further in the future is refused
_TOKEN = re.compile(r"(\d{10})-([A-Za-z0-9_-]{43})")


class Signer:
    """Signs with the first secret, verifies against all of them."""

    __slots__ = ("_current", "_keys", "ttl")

    def __init__(self, secrets: tuple[str, ...], ttl: int) -> None:
        if not secrets or not all(secrets):
            raise ValueError("VIDEO_SIGNING_SECRETS must name at least one non-empty secret")
        if ttl <= 0:
            raise ValueError("VIDEO_TOKEN_TTL_SECONDS must be positive")
        self._keys = tuple(
            hmac.new(secret.encode(), digestmod=hashlib.sha256) for secret in secrets
        )
        self._current = self._keys[0]
        self.ttl = ttl

    def mac(self, message: str, issued: int, *, key: hmac.HMAC | None = None) -> str:
        h = (key or self._current).copy()
        h.update(f"{message}{issued}".encode())
        return base64.urlsafe_b64encode(h.digest())[:43].decode("ascii")

    def token(self, message: str, *, issued: int | None = None) -> str:
        """``<issued>-<mac>`` for ``message`` (the value of ``?verify=``)."""
        if issued is None:
            issued = int(time.time())
        return f"{issued}-{self.mac(message, issued)}"

    def sign_path(self, path: str, *, issued: int | None = None) -> str:
        """``path?verify=<issued>-<mac>``: the MAC covers the path exactly as given."""
        if issued is None:
            issued = int(time.time())
        return f"{path}{SEPARATOR}{issued}-{self.mac(path, issued)}"

    def sign_paths(
        self, paths: list[str], *, issued: int | None = None, url_prefix: str = ""
    ) -> list[str]:
        """Sign many paths with one issue time (a whole playlist); each URL is
        ``url_prefix + path + "?verify=…"`` (the prefix, e.g. a CDN origin, is not signed)."""
        if issued is None:
            issued = int(time.time())
        stamp = str(issued)
        suffix = f"{SEPARATOR}{stamp}-"
        current = self._current
        encode = base64.urlsafe_b64encode
        out = []
        for path in paths:
            h = current.copy()
            h.update((path + stamp).encode())
            out.append(url_prefix + path + suffix + encode(h.digest())[:43].decode("ascii"))
        return out

    def verify(
        self, message: str, token: str | None, *, now: int | None = None, ttl: int | None = None
    ) -> bool:
        """True when ``token`` was minted for ``message`` by a known secret and is not
        older than ``ttl`` seconds (nor issued in the future beyond a small skew)."""
        if not token:
            return False
        match = _TOKEN.fullmatch(token)
        if match is None:
            return False
        issued = int(match[1])
        if now is None:
            now = int(time.time())
        if not (issued - MAX_CLOCK_SKEW_SECONDS <= now < issued + (ttl or self.ttl)):
            return False
        given = match[2].encode("ascii")
        valid = False
        for key in self._keys:  # no early exit: the same work whichever secret matches
            expected = self.mac(message, issued, key=key).encode("ascii")
            valid |= hmac.compare_digest(expected, given)
        return valid


@lru_cache(maxsize=8)
def _signer(secrets: tuple[str, ...], ttl: int) -> Signer:
    return Signer(secrets, ttl)


def get_signer() -> Signer:
    """The signer for the current settings (cached; follows ``override_settings``)."""
    return _signer(tuple(settings.VIDEO_SIGNING_SECRETS), int(settings.VIDEO_TOKEN_TTL_SECONDS))


def sign_path(path: str, *, issued: int | None = None) -> str:
    return get_signer().sign_path(path, issued=issued)


def token(message: str, *, issued: int | None = None) -> str:
    return get_signer().token(message, issued=issued)


def verify(message: str, token: str | None, *, now: int | None = None) -> bool:
    return get_signer().verify(message, token, now=now)
