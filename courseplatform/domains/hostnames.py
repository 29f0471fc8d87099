"""What a custom domain may be: one function, ``normalize_hostname``, decides.

The stored form is lowercase ASCII (IDN labels as punycode ``xn--``), so one name has
one spelling in the database, in DNS queries and in the Host header. Refused, each
with its own message: empty input, URLs and paths, ports, wildcards, IP literals (v4
and v6, also ``127.1``-style all-digit names), a trailing dot (refused rather than
silently dropped: the form shows exactly what will be stored, and ``learn.example.com.``
is a DNS spelling browsers never send), empty labels, single-label names, labels over
63 and names over 253 characters, characters outside letters/digits/hyphens (after
IDNA UTS #46 mapping, which also lowercases and maps full-width forms), the platform
domain and every name under it, and public suffixes themselves (``co.uk``,
``github.io``: the maintained Public Suffix List, private section included).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from publicsuffixlist import PublicSuffixList

MAX_LABEL = 63
MAX_NAME = 253
_ASCII_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
EXAMPLE = "learn.example.com"


@cache
def _public_suffixes() -> PublicSuffixList:
    # Parsing the bundled list takes a few milliseconds: once per process.
    return PublicSuffixList()


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_hostname")


def _is_ip_literal(value: str) -> bool:
    candidate = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        ipaddress.ip_address(candidate.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _to_ascii_label(label: str, shown: str) -> str:
    if label.isascii():
        if label.startswith("xn--"):
            try:
                idna.ulabel(label)
            except idna.IDNAError:
                raise _refuse(
                    gettext("“%(value)s” contains an invalid internationalised label.")
                    % {"value": shown}
                ) from None
        if not _ASCII_LABEL.match(label):
            raise _refuse(
                gettext(
                    "“%(value)s”: each part between dots may use only letters, digits and "
                    "hyphens, and may not start or end with a hyphen."
                )
                % {"value": shown}
            )
        return label
    try:
        return idna.alabel(label).decode("ascii")
    except idna.IDNAError:
        raise _refuse(
            gettext("“%(value)s” is not a valid internationalised domain name.") % {"value": shown}
        ) from None


def platform_domain() -> str:
    return str(settings.PLATFORM_DOMAIN).lower().rstrip(".")


def normalize_hostname(raw: str) -> str:
    """The stored form of ``raw``, or ``ValidationError`` saying what is wrong with it."""
    value = (raw or "").strip()
    if not value:
        raise _refuse(gettext("Enter a domain name, such as %(example)s.") % {"example": EXAMPLE})
    if "://" in value or "/" in value or "?" in value or "#" in value or "@" in value:
        raise _refuse(
            gettext("Enter only the domain name, without http:// or a path: e.g. %(example)s.")
            % {"example": EXAMPLE}
        )
    if any(char.isspace() for char in value):
        raise _refuse(gettext("A domain name cannot contain spaces."))
    if "*" in value:
        raise _refuse(
            gettext(
                "Wildcard domains are not supported: enter one exact name, such as %(example)s."
            )
            % {"example": EXAMPLE}
        )
    if _is_ip_literal(value):
        raise _refuse(
            gettext(
                "An IP address cannot be a custom domain: enter a domain name and point it at "
                "us with the DNS records shown."
            )
        )
    if ":" in value:
        raise _refuse(gettext("Enter the domain name without a port."))
    try:
        mapped = idna.uts46_remap(value, std3_rules=True, transitional=False)
    except idna.IDNAError:
        raise _refuse(
            gettext(
                "“%(value)s” contains characters that are not allowed in domain names "
                "(letters, digits and hyphens; e.g. underscores and symbols are not)."
            )
            % {"value": value}
        ) from None
    if mapped.endswith("."):
        raise _refuse(
            gettext("Leave out the final dot: enter “%(name)s”.") % {"name": mapped.rstrip(".")}
        )
    labels = mapped.split(".")
    if any(not label for label in labels):
        raise _refuse(gettext("“%(value)s” has an empty part between dots.") % {"value": value})
    if len(labels) < 2:
        raise _refuse(
            gettext("Enter a full domain name, such as %(example)s: a single word is not a domain.")
            % {"example": EXAMPLE}
        )
    ascii_labels = [_to_ascii_label(label, value) for label in labels]
    for label in ascii_labels:
        if len(label) > MAX_LABEL:
            raise _refuse(
                gettext(
                    "Each part between dots can be at most %(maximum)s characters; "
                    "“%(part)s…” has %(length)s."
                )
                % {"maximum": MAX_LABEL, "part": label[:20], "length": len(label)}
            )
    hostname = ".".join(ascii_labels)
    if len(hostname) > MAX_NAME:
        raise _refuse(
            gettext("A domain name can be at most %(maximum)s characters; this one has %(length)s.")
            % {"maximum": MAX_NAME, "length": len(hostname)}
        )
    if ascii_labels[-1].isdigit():
        raise _refuse(
            gettext("“%(value)s” does not end in a real top-level domain (like .com).")
            % {"value": value}
        )
    platform = platform_domain()
    if hostname == platform or hostname.endswith("." + platform):
        raise _refuse(
            gettext(
                "%(name)s is part of the platform's own domain; your school already "
                "has its address there. Enter a domain you own."
            )
            % {"name": hostname}
        )
    if _public_suffixes().is_public(hostname):
        raise _refuse(
            gettext(
                "%(name)s is a public suffix (like co.uk or github.io) that many owners "
                "share: enter a name you own under it."
            )
            % {"name": hostname}
        )
    return hostname


@dataclass(frozen=True)
class DnsNames:
    """Where a domain's records live and whether it is a zone apex."""

    hostname: str
    is_apex: bool
    txt_name: str


TXT_PREFIX = "_courseplatform"


def dns_names(hostname: str) -> DnsNames:
    """``hostname`` is an apex when it is the registrable name itself (``example.com``,
    ``example.co.uk``): a zone's apex cannot hold a CNAME, so it gets A/AAAA records."""
    registrable = _public_suffixes().privatesuffix(hostname)
    return DnsNames(
        hostname=hostname,
        is_apex=registrable == hostname,
        txt_name=f"{TXT_PREFIX}.{hostname}",
    )


def display_hostname(hostname: str) -> str:
    """The Unicode form of a stored punycode name, for people (``xn--bcher-kva`` →
    ``bücher``); the stored form when it does not decode."""
    try:
        return idna.decode(hostname)
    except idna.IDNAError:
        return hostname
