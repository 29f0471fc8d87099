"""``/metrics``: every series of ``courseplatform.telemetry.metrics`` in Prometheus text
format, plus the figures read at scrape time (task queues, schools).

Where it answers (``HealthCheckMiddleware``, before host resolution): on the platform
host, and on a bare IP address (Prometheus scraping one instance by its address; no
school is ever an IP). On school subdomains and custom domains it does not exist (the
school's own 404). Who may read it: a request bearing ``Authorization: Bearer
METRICS_TOKEN``, or one from an address in ``METRICS_ALLOWED_CIDRS`` (the client address
as ``ops.net.client_ip`` sees it, so ``TRUSTED_PROXY_COUNT`` applies). With neither
configured it refuses everyone.

Multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``): the answer adds up the files of every
process that wrote to the directory (all granian workers and the task worker), and the
in-flight gauge of a process that died is dropped at the next scrape. The scrape-time
figures are two cheap queries: the ready tasks per queue (the task table's partial
index on ready rows, through the platform connection the task rows always use) and the
schools per plan and status (the runtime role with no school set, which may read every
school row, as host resolution does). A query that fails leaves its series out and sets
``courseplatform_scrape_collector_up{collector=…}`` to 0; the rest is still served.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
from collections.abc import Iterator
from pathlib import Path

import structlog
from django.conf import settings
from django.db.models import Case, Count, F, Min, When
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from courseplatform.telemetry.metrics import NAMESPACE
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

from .net import client_ip

METRICS_PATH = "/metrics"
log = structlog.get_logger(__name__)
# prometheus-client's per-process file names: gauge_livesum_1234.db and the like.
_LIVE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


# --- where and who ------------------------------------------------------------------------


def is_metrics_host(request: HttpRequest) -> bool:
    """The platform host, or an IP address (never a school's host)."""
    host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
    domain, _port = split_domain_port(host.strip().lower())
    if domain.rstrip(".") == settings.PLATFORM_DOMAIN:
        return True
    try:
        ipaddress.ip_address(domain.strip("[]"))
    except ValueError:
        return False
    return True


def _bearer(request: HttpRequest) -> str:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the request may read the metrics, else the answer to give."""
    token = settings.METRICS_TOKEN
    if token and hmac.compare_digest(_bearer(request).encode(), token.encode()):
        return None
    networks = settings.METRICS_ALLOWED_CIDRS
    if networks:
        address = ipaddress.ip_address(client_ip(request))
        if any(address in network for network in networks):
            return None
    if token:
        response = HttpResponse("Unauthorized.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    else:
        response = HttpResponse("Forbidden.\n", status=403, content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response


# --- what -------------------------------------------------------------------------------------


def _collector_up() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        f"{NAMESPACE}_scrape_collector_up",
        "1 when the scrape-time query of this collector worked, 0 when it failed.",
        labels=["collector"],
    )


def _queue_families() -> list[Metric]:
    from django_tasks_db.models import DBTaskResult

    depth = GaugeMetricFamily(
        f"{NAMESPACE}_task_queue_depth",
        "Tasks ready to run now (due, not yet claimed by a worker), by queue.",
        labels=["queue"],
    )
    age = GaugeMetricFamily(
        f"{NAMESPACE}_task_queue_oldest_age_seconds",
        "How long the oldest ready task of the queue has been waiting since it was due.",
        labels=["queue"],
    )
    rows = (
        DBTaskResult.objects.ready()
        .values("queue_name")
        .annotate(
            depth=Count("id"),
            # A task without run_after is due from its enqueueing (its run_after is
            # the far-future placeholder), a scheduled one from its run_after.
            due_since=Min(
                Case(
                    When(run_after__gt=timezone.now(), then=F("enqueued_at")),
                    default=F("run_after"),
                )
            ),
        )
        .order_by()
    )
    now = timezone.now()
    found = {row["queue_name"]: row for row in rows}
    queues = list(dict.fromkeys([*settings.TASKS["default"].get("QUEUES", []), *found]))
    for queue in queues:
        row = found.get(queue)
        depth.add_metric([queue], row["depth"] if row else 0)
        waited = (now - row["due_since"]).total_seconds() if row else 0.0
        age.add_metric([queue], max(0.0, waited))
    return [depth, age]


def _school_families() -> list[Metric]:
    schools = GaugeMetricFamily(
        f"{NAMESPACE}_schools",
        "Schools by plan (code) and status.",
        labels=["plan", "status"],
    )
    with school_context(None):
        rows = (
            School.objects.values_list("plan__code", "status")
            .annotate(count=Count("id"))
            .order_by()
        )
        for plan, status, count in rows:
            schools.add_metric([plan, status], count)
    return [schools]


class ScrapeTimeCollector(Collector):
    """The figures that are read when Prometheus scrapes, not counted as things happen."""

    def collect(self) -> Iterator[Metric]:
        up = _collector_up()
        for name, families in (("task_queue", _queue_families), ("schools", _school_families)):
            try:
                yield from families()
            except Exception:
                log.exception("metrics.collector_failed", collector=name)
                up.add_metric([name], 0)
            else:
                up.add_metric([name], 1)
        yield up


_scrape_registry = CollectorRegistry(auto_describe=False)
_scrape_registry.register(ScrapeTimeCollector())


def drop_dead_live_gauges(directory: str) -> None:
    """Forget the in-flight gauges of processes that are gone (a respawned granian
    worker): ``livesum`` would otherwise count their last value forever."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = _LIVE_FILE.match(name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            multiprocess.mark_process_dead(int(match.group(1)), directory)


def exposition() -> bytes:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        drop_dead_live_gauges(directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        recorded = generate_latest(registry)
    else:
        recorded = generate_latest(REGISTRY)
    return recorded + generate_latest(_scrape_registry)


def metrics_view(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
