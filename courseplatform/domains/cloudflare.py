"""Cloudflare for SaaS custom hostnames, through the official ``cloudflare`` SDK.

The automated mode of custom domains (on when ``CLOUDFLARE_API_TOKEN`` and
``CLOUDFLARE_ZONE_ID`` are set): each domain a school adds becomes a *custom hostname*
in our SaaS zone; Cloudflare proves ownership and issues and renews the certificate,
and serves the name from its edge to our fallback origin. Four calls, no more:
create, get, list-by-name (only to clear an orphan) and delete on
``/zones/{zone_id}/custom_hostnames``.

Validation is **TXT pre-validation** for both the hostname and its certificate
(``ssl.method = "txt"``): Cloudflare's docs recommend pre-validation when a customer's
domain already serves production traffic, because the records can be created before
the CNAME moves, so the switch has no downtime; the records Cloudflare asks for
(``ownership_verification`` and ``ssl.validation_records``) are shown on the Domains
page for the owner to create, and the periodic check polls until both statuses are
``active``.

Errors come back as :class:`CloudflareProblem` with a message for the person and
``retry_later`` (rate limits, timeouts, Cloudflare's own 5xx: nothing is wrong with
the domain). The SDK retries 429/5xx itself with backoff (``CLOUDFLARE_MAX_RETRIES``).
Cloudflare's error codes used here: 1406 "duplicate custom hostname" (the name is
already in our zone; the caller clears the orphan, see ``services``) and the 14xx
codes it answers for a hostname it will not accept (also 1400 for a malformed body).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import cloudflare
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

logger = logging.getLogger(__name__)

DUPLICATE_HOSTNAME = 1406
# Cloudflare answers these for a hostname it refuses (invalid, not allowed, a
# Cloudflare-owned or blocked name); the person gets Cloudflare's own words with ours.
INVALID_HOSTNAME_CODES = frozenset({1400, 1401, 1404, 1407, 1408, 1409, 1411, 1412, 1413, 1414})
RETRY_LATER = gettext_lazy(
    "Cloudflare is busy right now (rate limit). Try again later: nothing was changed."
)
UNREACHABLE = gettext_lazy("Cloudflare could not be reached. Try again later: nothing was changed.")


class CloudflareProblem(Exception):
    """A refusal or failure of the Cloudflare API, with a message for the person."""

    def __init__(
        self,
        message: str,
        *,
        retry_later: bool = False,
        duplicate: bool = False,
        invalid_hostname: bool = False,
        not_found: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_later = retry_later
        self.duplicate = duplicate
        self.invalid_hostname = invalid_hostname
        self.not_found = not_found


@dataclass(frozen=True)
class ValidationRecord:
    """A DNS record (or HTTP file) Cloudflare asks the domain's owner to create."""

    purpose: str  # "ownership" | "certificate"
    type: str  # "TXT" | "CNAME" | "HTTP"
    name: str
    value: str


@dataclass(frozen=True)
class HostnameState:
    id: str
    hostname: str
    status: str  # Cloudflare's hostname status: pending, active, moved, blocked, ...
    ssl_status: str  # initializing, pending_validation, pending_issuance, active, ...
    records: list[ValidationRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def hostname_active(self) -> bool:
        return self.status == "active"

    @property
    def certificate_active(self) -> bool:
        return self.ssl_status == "active"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hostname": self.hostname,
            "status": self.status,
            "ssl_status": self.ssl_status,
            "records": [record.__dict__ for record in self.records],
            "errors": list(self.errors),
        }


def is_enabled() -> bool:
    return bool(settings.CLOUDFLARE_API_TOKEN and settings.CLOUDFLARE_ZONE_ID)


def _client() -> cloudflare.Cloudflare:
    return cloudflare.Cloudflare(
        api_token=settings.CLOUDFLARE_API_TOKEN,
        base_url=settings.CLOUDFLARE_API_BASE_URL or None,
        max_retries=settings.CLOUDFLARE_MAX_RETRIES,
        timeout=settings.CLOUDFLARE_TIMEOUT_SECONDS,
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _state(result: Any) -> HostnameState:
    records: list[ValidationRecord] = []
    ownership = getattr(result, "ownership_verification", None)
    if ownership is not None and ownership.name and ownership.value:
        records.append(
            ValidationRecord(
                "ownership", _text(ownership.type or "txt").upper(), ownership.name, ownership.value
            )
        )
    ssl = getattr(result, "ssl", None)
    ssl_errors: list[str] = []
    for record in (getattr(ssl, "validation_records", None) or []) if ssl else []:
        if record.txt_name and record.txt_value:
            records.append(
                ValidationRecord("certificate", "TXT", record.txt_name, record.txt_value)
            )
        elif record.cname and record.cname_target:
            records.append(
                ValidationRecord("certificate", "CNAME", record.cname, record.cname_target)
            )
        elif record.http_url and record.http_body:
            records.append(
                ValidationRecord("certificate", "HTTP", record.http_url, record.http_body)
            )
    if ssl is not None:
        ssl_errors = [e.message for e in (ssl.validation_errors or []) if e.message]
    return HostnameState(
        id=_text(result.id),
        hostname=_text(result.hostname),
        status=_text(result.status),
        ssl_status=_text(getattr(ssl, "status", None)),
        records=records,
        errors=[*(result.verification_errors or []), *ssl_errors],
    )


def _problem(error: cloudflare.APIError, hostname: str) -> CloudflareProblem:
    """Our words for what the API answered."""
    if isinstance(error, cloudflare.RateLimitError):
        return CloudflareProblem(str(RETRY_LATER), retry_later=True)
    if isinstance(error, cloudflare.APIConnectionError):  # includes APITimeoutError
        return CloudflareProblem(str(UNREACHABLE), retry_later=True)
    codes = {getattr(e, "code", None) for e in getattr(error, "errors", [])}
    said = "; ".join(e.message for e in getattr(error, "errors", []) if getattr(e, "message", ""))
    status = getattr(error, "status_code", 0)
    if DUPLICATE_HOSTNAME in codes or status == 409:
        return CloudflareProblem(
            gettext("%(name)s is already registered in our Cloudflare zone.") % {"name": hostname},
            duplicate=True,
        )
    if codes & INVALID_HOSTNAME_CODES or status == 422:
        refused = gettext("Cloudflare does not accept %(name)s as a custom hostname.") % {
            "name": hostname
        }
        if said:
            refused += " " + gettext("Cloudflare says: %(said)s") % {"said": said}
        return CloudflareProblem(refused, invalid_hostname=True)
    if status == 404:
        return CloudflareProblem(gettext("Cloudflare has no such custom hostname."), not_found=True)
    if isinstance(error, cloudflare.InternalServerError):
        return CloudflareProblem(str(UNREACHABLE), retry_later=True)
    logger.warning("Cloudflare API error for %s: %s (%s)", hostname, said or error, status)
    if said:
        return CloudflareProblem(
            gettext("Cloudflare refused the request: %(said)s. Try again later.") % {"said": said}
        )
    return CloudflareProblem(gettext("Cloudflare refused the request. Try again later."))


def create_hostname(hostname: str) -> HostnameState:
    try:
        result = _client().custom_hostnames.create(
            zone_id=settings.CLOUDFLARE_ZONE_ID,
            hostname=hostname,
            ssl={"method": "txt", "type": "dv", "settings": {"min_tls_version": "1.2"}},
        )
    except cloudflare.APIError as error:
        raise _problem(error, hostname) from error
    if result is None:
        raise CloudflareProblem(
            gettext("Cloudflare answered without the new hostname. Try again later.")
        )
    return _state(result)


def get_hostname(hostname_id: str, *, hostname: str = "") -> HostnameState:
    try:
        result = _client().custom_hostnames.get(hostname_id, zone_id=settings.CLOUDFLARE_ZONE_ID)
    except cloudflare.APIError as error:
        raise _problem(error, hostname or hostname_id) from error
    if result is None:
        raise CloudflareProblem(gettext("Cloudflare has no such custom hostname."), not_found=True)
    return _state(result)


def find_hostname_id(hostname: str) -> str | None:
    """The id of the custom hostname named exactly ``hostname`` in our zone, if any."""
    try:
        page = _client().custom_hostnames.list(
            zone_id=settings.CLOUDFLARE_ZONE_ID, hostname={"exact": hostname}
        )
    except cloudflare.APIError as error:
        raise _problem(error, hostname) from error
    for item in page.result:
        if item.hostname == hostname:
            return str(item.id)
    return None


def delete_hostname(hostname_id: str, *, hostname: str = "") -> None:
    """Delete it; one that is already gone counts as deleted."""
    try:
        _client().custom_hostnames.delete(hostname_id, zone_id=settings.CLOUDFLARE_ZONE_ID)
    except cloudflare.APIError as error:
        problem = _problem(error, hostname or hostname_id)
        if not problem.not_found:
            raise problem from error
