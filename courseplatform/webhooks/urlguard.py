"""Which webhook destinations are allowed: the SSRF guard.

A destination must be an ``http``/``https`` URL without credentials whose host resolves
only to public addresses. Refused: loopback, private (RFC 1918, IPv6 ULA), link-local
(169.254.0.0/16 with the cloud metadata address, fe80::/10), shared/CGNAT
(100.64.0.0/10), multicast, unspecified, reserved and documentation ranges, and IPv6
forms that embed one of those (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::``,
6to4, Teredo). The check runs when an endpoint is saved (a clear form error) and again
at every send and after every redirect, where the connection then goes to the very
address that was checked (``transport.py``): a name that resolves to a public address
for the check and to a private one a moment later (DNS rebinding) never reaches it.

``WEBHOOKS_ALLOW_LOOPBACK`` (tests only) lets loopback addresses through; nothing else.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import URL_MAX

if TYPE_CHECKING:  # django-stubs, a development dependency
    from django_stubs_ext import StrOrPromise

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")
CGNAT = ipaddress.ip_network("100.64.0.0/10")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")


class UnsafeDestination(ValueError):
    """A destination we will not send to; the message is safe to show to the owner."""


@dataclass(frozen=True)
class Destination:
    url: str
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, no brackets
    port: int
    target: str  # path and query, what goes on the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_problem(address: IPAddress) -> StrOrPromise | None:
    """Why ``address`` is not a public destination, or None when it is: a whole sentence
    (lazy, so it translates where it is shown) with a ``%(host)s`` placeholder."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            problem = address_problem(embedded)
            if problem:
                return problem
    if address.is_loopback:
        if getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK", False):
            return None
        return gettext_lazy("%(host)s is a loopback address: webhooks go to public addresses only.")
    if address.is_unspecified:
        return gettext_lazy(
            "%(host)s is an unspecified address: webhooks go to public addresses only."
        )
    if address.is_link_local:
        return gettext_lazy(
            "%(host)s is a link-local address: webhooks go to public addresses only."
        )
    if address.is_multicast:
        return gettext_lazy(
            "%(host)s is a multicast address: webhooks go to public addresses only."
        )
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return gettext_lazy(
            "%(host)s is a shared (carrier-grade NAT) address: "
            "webhooks go to public addresses only."
        )
    if address.is_private:
        return gettext_lazy("%(host)s is a private address: webhooks go to public addresses only.")
    if address.is_reserved or not address.is_global:
        return gettext_lazy("%(host)s is a reserved address: webhooks go to public addresses only.")
    return None


def parse_destination(url: str) -> Destination:
    """Check the URL's form (no DNS); raises UnsafeDestination with a clear message."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeDestination(_("Enter the address (URL) of your endpoint."))
    url = url.strip()
    if len(url) > URL_MAX:
        raise UnsafeDestination(
            _("Use an address of at most %(limit)d characters.") % {"limit": URL_MAX}
        )
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise UnsafeDestination(_("The address may not contain spaces or control characters."))
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeDestination(_("This is not a valid address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeDestination(_("Use an address starting with https:// (or http://)."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeDestination(
            _(
                "Leave user names and passwords out of the address: verify deliveries with "
                "the signing secret instead."
            )
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeDestination(_("The address needs a host name, like https://example.com/hooks."))
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        try:
            ipaddress.ip_address(host)
            ascii_host = host
        except ValueError:
            raise UnsafeDestination(_("The host name is not valid.")) from None
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Destination(
        url=url,
        scheme=scheme,
        host=ascii_host,
        port=port or (443 if scheme == "https" else 80),
        target=target,
    )


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve_public(destination: Destination) -> list[str]:
    """The checked addresses to connect to (in resolver order): every address the host
    resolves to must be public (a name with one private answer among public ones is
    refused as a whole)."""
    literal = _literal(destination.host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        name = destination.host
        if (name == "localhost" or name.endswith(LOCAL_SUFFIXES)) and not getattr(
            settings, "WEBHOOKS_ALLOW_LOOPBACK", False
        ):
            raise UnsafeDestination(
                _("%(host)s is a local name: use a public address.") % {"host": name}
            )
        try:
            answers = socket.getaddrinfo(name, destination.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise UnsafeDestination(
                _("The host name %(host)s could not be resolved.") % {"host": name}
            ) from None
        addresses = []
        for *_info, sockaddr in answers:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:  # pragma: no cover - getaddrinfo raises instead
            raise UnsafeDestination(
                _("The host name %(host)s could not be resolved.") % {"host": name}
            )
    for address in addresses:
        problem = address_problem(address)
        if problem:
            shown = destination.host if literal is not None else f"{destination.host} ({address})"
            raise UnsafeDestination(problem % {"host": shown})
    return [str(address) for address in addresses]


def check_destination(url: str) -> Destination:
    """Form and addresses: what an endpoint's URL must pass when it is saved."""
    destination = parse_destination(url)
    resolve_public(destination)
    return destination
