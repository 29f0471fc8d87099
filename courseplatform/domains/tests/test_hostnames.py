"""``normalize_hostname``: every kind of bad input has its own clear message."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from courseplatform.domains.hostnames import display_hostname, dns_names, normalize_hostname


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("learn.example.com", "learn.example.com"),
        ("  Learn.EXAMPLE.com ", "learn.example.com"),  # uppercase and spaces around
        ("bücher.example", "xn--bcher-kva.example"),  # IDN → punycode
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("\uff4c\uff45\uff41\uff52\uff4e\uff0eexample\uff0ecom", "learn.example.com"),  # full-width
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),  # punycode stays
        ("example.com", "example.com"),  # apex
        ("example.co.uk", "example.co.uk"),
        ("me.github.io", "me.github.io"),  # under a private public suffix
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("x" * 63 + ".example.com", "x" * 63 + ".example.com"),
        ("learn.localhost.example.com", "learn.localhost.example.com"),
    ],
)
def test_good_names_are_normalised(raw: str, stored: str) -> None:
    assert normalize_hostname(raw) == stored


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "Enter a domain name"),
        ("   ", "Enter a domain name"),
        ("https://learn.example.com/", "without http://"),
        ("learn.example.com/path", "without http://"),
        ("user@learn.example.com", "without http://"),
        ("learn example.com", "spaces"),
        ("*.example.com", "Wildcard"),
        ("learn.*.com", "Wildcard"),
        ("192.0.2.10", "IP address"),
        ("::1", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("2001:db8::1", "IP address"),
        ("127.1", "top-level domain"),
        ("learn.example.123", "top-level domain"),
        ("learn.example.com:8443", "without a port"),
        ("learn.example.com.", "Leave out the final dot"),
        ("learn..example.com", "empty part"),
        (".example.com", "empty part"),
        ("intranet", "single word"),
        ("bücher", "single word"),
        ("-learn.example.com", "may not start or end with a hyphen"),
        ("learn-.example.com", "may not start or end with a hyphen"),
        ("under_score.example.com", "not allowed in domain names"),
        ("learn!.example.com", "not allowed in domain names"),
        ("xn--zz.example.com", "invalid internationalised"),
        ("x" * 64 + ".example.com", "at most 63 characters"),
        (".".join(["a" * 60] * 5) + ".com", "at most 253 characters"),
        ("localhost", "single word"),
        ("demo.localhost", "platform's own domain"),
        ("deep.demo.localhost", "platform's own domain"),
        ("co.uk", "public suffix"),
        ("github.io", "public suffix"),
        ("CO.UK", "public suffix"),
        ("com.", "Leave out the final dot"),
    ],
)
def test_bad_names_are_refused_with_a_clear_message(raw: str, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        normalize_hostname(raw)
    assert words in refused.value.messages[0], refused.value.messages


def test_the_platform_domain_itself_is_refused(settings) -> None:
    settings.PLATFORM_DOMAIN = "courses.example.net"
    for name in ["courses.example.net", "COURSES.example.net", "acme.courses.example.net"]:
        with pytest.raises(ValidationError, match="platform's own domain"):
            normalize_hostname(name)
    assert normalize_hostname("example.net") == "example.net"


def test_apex_and_subdomain_are_told_apart() -> None:
    assert dns_names("example.com").is_apex
    assert dns_names("example.co.uk").is_apex
    assert dns_names("me.github.io").is_apex
    learn = dns_names("learn.example.com")
    assert not learn.is_apex
    assert learn.txt_name == "_courseplatform.learn.example.com"


def test_display_form_is_unicode() -> None:
    assert display_hostname("xn--bcher-kva.example") == "bücher.example"
    assert display_hostname("learn.example.com") == "learn.example.com"
