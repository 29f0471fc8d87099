"""Every Prometheus series the platform records (README "Metrics and alerts").

prometheus-client's multiprocess mode is on when ``PROMETHEUS_MULTIPROC_DIR`` is set in
the environment *before* this module is imported (``scripts/serve.py`` sets it for the
web server and the task worker): each process then writes its values to memory-mapped
files there and ``/metrics`` adds up every process's files, so the granian workers and
the task worker are one view. Without it the values live in this process only.

Label values are always from small fixed sets (route *names*, status classes, outcome
words, queue names): never a path, a slug, a school or a user, so the number of series
stays bounded whatever the number of schools.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

NAMESPACE = "courseplatform"
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# --- requests ---------------------------------------------------------------------------
REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time from the first middleware to the response, by route name, method and status class.",
    ["route", "method", "status"],
    namespace=NAMESPACE,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS_IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "Requests being answered right now (all web processes together).",
    namespace=NAMESPACE,
    multiprocess_mode="livesum",
)
REQUEST_QUERIES = Histogram(
    "http_request_db_queries",
    "SQL statements (database round trips) one request made, by route name.",
    ["route"],
    namespace=NAMESPACE,
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100),
)

# The labelled children of the two per-request histograms, by (route, method, status
# class): ``labels()`` normalises and locks on every call, a dict read does not. Bounded
# like the label values themselves.
_request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def observe_request(route: str, method: str, status: str, seconds: float, queries: int) -> None:
    """One finished request: its latency and its SQL statement count."""
    key = (route, method, status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUEST_SECONDS.labels(route, method, status), REQUEST_QUERIES.labels(route))
        _request_children[key] = children
    children[0].observe(seconds)
    children[1].observe(queries)


# --- caches -------------------------------------------------------------------------------
# cache: host (host → school, hit = no PostgreSQL), page (a visitor's whole page),
# course_tree and lesson (the course outline / lesson body behind signed-in pages).
CACHE_LOOKUPS = Counter(
    "cache_lookups",
    "Cache lookups by cache and result (hit or miss).",
    ["cache", "result"],
    namespace=NAMESPACE,
)


# What each web process keeps of visitors' pages in its own memory (ops/pagecache.py):
# per process (``pid`` label in multiprocess mode), so an operator can see whether
# PUBLIC_PROCESS_CACHE_MB holds every school's pages or the LRU is evicting.
PAGE_PROCESS_CACHE_ENTRIES = Gauge(
    "page_process_cache_entries",
    "Visitor pages kept in this web process's memory.",
    namespace=NAMESPACE,
    multiprocess_mode="liveall",
)
PAGE_PROCESS_CACHE_BYTES = Gauge(
    "page_process_cache_bytes",
    "Bytes counted against PUBLIC_PROCESS_CACHE_MB by this web process's page copies.",
    namespace=NAMESPACE,
    multiprocess_mode="liveall",
)
PAGE_PROCESS_CACHE_EVICTIONS = Counter(
    "page_process_cache_evictions",
    "Page copies dropped to stay within PUBLIC_PROCESS_CACHE_MB (least recently used).",
    namespace=NAMESPACE,
)


def cache_hit(cache: str) -> None:
    CACHE_LOOKUPS.labels(cache, "hit").inc()


def cache_miss(cache: str) -> None:
    CACHE_LOOKUPS.labels(cache, "miss").inc()


# --- tasks ----------------------------------------------------------------------------------
TASKS = Counter(
    "tasks",
    "Background tasks run, by task name, queue and final status (SUCCESSFUL or FAILED).",
    ["task", "queue", "status"],
    namespace=NAMESPACE,
)
TASK_SECONDS = Histogram(
    "task_duration_seconds",
    "Run time of background tasks, by task name and queue.",
    ["task", "queue"],
    namespace=NAMESPACE,
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
)

# --- video --------------------------------------------------------------------------------------
TRANSCODE_SECONDS = Histogram(
    "transcode_duration_seconds",
    "Wall time of successful transcodes (probe, every rendition, upload of the HLS files).",
    namespace=NAMESPACE,
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
TRANSCODE_REALTIME_FACTOR = Histogram(
    "transcode_realtime_factor",
    "Seconds of video transcoded per second of wall time (above 1: faster than real time).",
    namespace=NAMESPACE,
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
)
TRANSCODE_FAILURES = Counter(
    "transcode_failures",
    "Failed transcode attempts: kind=permanent (the file), retrying (a transient error, "
    "queued again) or exhausted (failed for good after the last attempt).",
    ["kind"],
    namespace=NAMESPACE,
)
UPLOAD_BYTES = Counter(
    "upload_bytes",
    "Bytes of completed uploads, by kind (video).",
    ["kind"],
    namespace=NAMESPACE,
)

# --- access codes and webhooks -------------------------------------------------------------------
CODE_REDEMPTIONS = Counter(
    "code_redemptions",
    "Access-code redemptions by outcome: redeemed, already_enrolled, or the refusal "
    "(format, invalid, revoked, expired, exhausted).",
    ["outcome"],
    namespace=NAMESPACE,
)
WEBHOOK_DELIVERIES = Counter(
    "webhook_deliveries",
    "Webhook delivery attempts by outcome (succeeded, retrying, failed, cancelled, …).",
    ["outcome"],
    namespace=NAMESPACE,
)
