"""client_ip: the address rate limits and audit entries are keyed on.

X-Forwarded-For is written left to right by every hop, and anyone can put anything at
its left end; only the entries appended by our own proxies (the rightmost
TRUSTED_PROXY_COUNT) can be believed.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from courseplatform.ops.net import UNKNOWN_IP, client_ip


def _request(remote: str | None = "203.0.113.9", forwarded: str | None = None) -> Any:
    request = RequestFactory().get("/")
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    return request


def test_client_ip_without_proxies_ignores_forwarded_for(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    request = _request(remote="198.51.100.7", forwarded="1.1.1.1")
    assert client_ip(request) == "198.51.100.7"


def test_client_ip_behind_one_proxy_takes_the_hop_it_appended(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    # The client claimed 1.1.1.1; our proxy appended the address it really saw.
    request = _request(remote="10.0.0.2", forwarded="1.1.1.1, 198.51.100.7")
    assert client_ip(request) == "198.51.100.7"


def test_client_ip_behind_two_proxies_skips_the_inner_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 2
    request = _request(remote="10.0.0.3", forwarded="6.6.6.6, 198.51.100.7, 10.0.0.2")
    assert client_ip(request) == "198.51.100.7"


def test_client_ip_with_fewer_hops_than_trusted_keeps_the_peer(settings: Any) -> None:
    """A request that reached us around the proxies carries too few entries: its own
    X-Forwarded-For is not believed."""
    settings.TRUSTED_PROXY_COUNT = 2
    request = _request(remote="192.0.2.44", forwarded="1.1.1.1")
    assert client_ip(request) == "192.0.2.44"
    assert client_ip(_request(remote="192.0.2.44")) == "192.0.2.44"


def test_client_ip_ignores_blank_entries_and_spaces(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = _request(remote="10.0.0.2", forwarded=" , 1.1.1.1 ,,  198.51.100.7  , ")
    assert client_ip(request) == "198.51.100.7"
    assert client_ip(_request(remote="10.0.0.2", forwarded=" , ,")) == "10.0.0.2"


def test_client_ip_normalises_ipv6(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = _request(remote="::1", forwarded="2001:DB8:0:0:0:0:0:1")
    assert client_ip(request) == "2001:db8::1"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(remote="2001:0db8::0001")) == "2001:db8::1"


@pytest.mark.parametrize(
    "forwarded",
    [
        "not-an-address",
        "198.51.100.7:4431",  # a port is not part of the address
        "[2001:db8::1]:443",
        "198.51.100.300",
        "unknown",
        "198.51.100.7\x00",
    ],
)
def test_client_ip_malformed_trusted_hop_is_unknown(settings: Any, forwarded: str) -> None:
    """A garbled entry where the address should be gives the shared unknown key, never
    the garbage itself (it would become a fresh rate-limit bucket per request)."""
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(remote="10.0.0.2", forwarded=forwarded)) == UNKNOWN_IP


@pytest.mark.parametrize("remote", [None, "", "garbage", "999.1.1.1"])
def test_client_ip_missing_or_garbled_peer_is_unknown(settings: Any, remote: str | None) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(remote=remote)) == UNKNOWN_IP
