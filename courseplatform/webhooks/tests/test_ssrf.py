"""The SSRF guard: private, loopback, link-local and metadata destinations are refused
at save time and again at send time (also after a redirect), with loopback allowed only
by the test-only setting."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from courseplatform.ops.events import Event
from courseplatform.tenancy.rls import school_context
from courseplatform.webhooks import services
from courseplatform.webhooks.models import WebhookDelivery, WebhookEndpoint
from courseplatform.webhooks.tasks import run_delivery
from courseplatform.webhooks.urlguard import (
    UnsafeDestination,
    address_problem,
    check_destination,
    parse_destination,
)

from .conftest import Receiver, Reply

pytestmark = pytest.mark.django_db


def loopback_name_from_hosts() -> str:
    """A name /etc/hosts maps to a loopback address (not ``localhost``, which the guard
    refuses by name before any lookup): the refusal must come from its address."""
    for line in Path("/etc/hosts").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        try:
            address = ipaddress.ip_address(fields[0])
        except ValueError:
            continue
        if address.is_loopback:
            for name in fields[1:]:
                if "localhost" not in name:
                    return name
    raise AssertionError("/etc/hosts names no loopback host besides localhost")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.10",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "2001:db8::1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_the_test_setting_allows_loopback_and_nothing_else(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    assert address_problem(ipaddress.ip_address("127.0.0.1")) is None
    assert address_problem(ipaddress.ip_address("::1")) is None
    for other in ("10.0.0.1", "169.254.169.254", "192.168.0.1", "fe80::1"):
        assert address_problem(ipaddress.ip_address(other)) is not None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://93.184.215.14/hooks", "https://"),
        ("javascript:alert(1)", "https://"),
        ("https:///hooks", "needs a host name"),
        ("http://user:pass@93.184.215.14/hooks", "user names and passwords"),
        ("https://" + "a" * 1990 + ".example/", "at most 2000 characters"),
        ("http://93.184.215.14:99999/", "not a valid address"),
        ("http://exa mple.com/", "spaces or control characters"),
        ("http://127.0.0.1:8000/", "loopback"),
        ("http://10.0.0.7/hooks", "private address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://localhost:8000/", "local name"),
        ("http://school.internal/", "local name"),
        ("http://0.0.0.0/", "unspecified"),
    ],
)
def test_bad_urls_are_refused_with_a_clear_message(url: str, words: str) -> None:
    with pytest.raises(UnsafeDestination, match=words.replace("+", r"\+")):
        check_destination(url)


def test_a_name_resolving_to_loopback_is_refused_by_its_address() -> None:
    name = loopback_name_from_hosts()
    with pytest.raises(UnsafeDestination, match=r"\(127\.[0-9.]+\) is a loopback address"):
        check_destination(f"http://{name}:8080/hooks")


def test_a_public_address_and_its_parts() -> None:
    destination = check_destination("https://93.184.215.14:8443/in?x=1")
    assert destination.host == "93.184.215.14" and destination.port == 8443
    assert destination.target == "/in?x=1" and destination.host_header == "93.184.215.14:8443"
    assert parse_destination("http://[2606:4700::1]/").host_header == "[2606:4700::1]"
    assert parse_destination("https://bücher.example/").host == "xn--bcher-kva.example"


# --- at send time: the receiver is real and must never be reached -------------------------


def _endpoint_at(school: Any, owner: Any, url: str, settings: Any) -> WebhookEndpoint:
    """An endpoint saved while loopback was allowed (or whose DNS changed since)."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with school_context(school):
        endpoint = services.create_endpoint(
            school=school,
            actor=owner,
            url="http://127.0.0.1:9/hooks",
            event_types=["course.published"],
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url)
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    return endpoint


def _send(school: Any) -> WebhookDelivery:
    with school_context(school):
        [delivery] = services.queue_event(
            Event(school_id=school.pk, type="course.published", data={"id": 1})
        )
    assert run_delivery(school_id=school.pk, delivery_id=delivery.pk) == "retrying"
    with school_context(school):
        return WebhookDelivery.objects.get(pk=delivery.pk)


@pytest.mark.parametrize(
    "make_url",
    [
        lambda r: r.url(),
        lambda r: r.url(host="[::1]"),
        lambda r: r.url(host="localhost"),
        lambda r: r.url(host=loopback_name_from_hosts()),
        lambda r: "http://10.255.255.1/hooks",
        lambda r: "http://169.254.169.254/latest/meta-data/",
    ],
    ids=["127.0.0.1", "[::1]", "localhost", "hosts-file-name", "10.x", "metadata"],
)
def test_sending_to_a_forbidden_destination_is_refused_at_send_time(
    school_a: Any, receiver: Receiver, settings: Any, make_url: Callable[[Receiver], str]
) -> None:
    _endpoint_at(school_a.school, school_a.owner, make_url(receiver), settings)
    delivery = _send(school_a.school)
    assert delivery.error.startswith("Refused:")
    assert delivery.response_status is None
    assert receiver.received == []


def test_a_redirect_to_loopback_is_refused(
    school_a: Any, make_receiver: Callable[[], Receiver], settings: Any
) -> None:
    """The first hop is allowed (loopback on, as if it were a public host); the moment it
    answers, loopback is switched off, so the redirect's target must pass the guard on
    its own — and does not."""
    first, target = make_receiver(), make_receiver()

    def forbid_loopback() -> None:
        settings.WEBHOOKS_ALLOW_LOOPBACK = False

    first.replies.append(
        Reply(status=302, location=target.url("/internal"), before=forbid_loopback)
    )
    _endpoint_at(school_a.school, school_a.owner, first.url(), settings)
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    delivery = _send(school_a.school)
    assert len(first.received) == 1
    assert target.received == []
    assert delivery.error.startswith("Refused after a redirect:")
    assert "loopback" in delivery.error


def test_a_url_refused_on_save_keeps_nothing(school_a: Any) -> None:
    from django.core.exceptions import ValidationError

    with school_context(school_a.school):
        with pytest.raises(ValidationError) as caught:
            services.create_endpoint(
                school=school_a.school,
                actor=school_a.owner,
                url="http://169.254.169.254/",
                event_types=["course.published"],
            )
        assert "link-local" in caught.value.message_dict["url"][0]
        assert not WebhookEndpoint.objects.exists()


def test_send_time_hosts_are_pinned_with_the_original_host_header(
    hooked: SimpleNamespace,
) -> None:
    with school_context(hooked.school):
        WebhookEndpoint.objects.filter(pk=hooked.endpoint.pk).update(
            url=hooked.receiver.url(host="localhost")
        )
        [delivery] = services.queue_event(
            Event(school_id=hooked.school.pk, type="course.published", data={})
        )
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "succeeded"
    [request] = hooked.receiver.received
    assert request.headers["host"] == f"localhost:{hooked.receiver.port}"
