from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

from courseplatform.telemetry import metrics, queries

from . import edgecache, requestcount
from .health import healthz, readyz
from .prometheus import METRICS_PATH, is_metrics_host, metrics_view
from .routes import route_name

# A sane inbound X-Request-ID (also checked again where a queued task carries one).
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Any other method a client invents is "other": label values stay a fixed set.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
request_log = structlog.get_logger("courseplatform.request")


class RequestTelemetryMiddleware:
    """Outermost: the request id, the request's metrics and its one log line.

    The id is a sane inbound ``X-Request-ID`` or a new one; it is bound to every log
    line of the request (with ``school_id`` and ``user_id``, bound further in) and sent
    back in the response's ``X-Request-ID``. Then: requests in flight, the latency
    histogram by route name, method and status class, the SQL statements the request
    made (``telemetry.queries``), and one ``request`` line with all of it, for every
    request including the load balancer's probes of /healthz and /readyz (README "Logs").
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        counter, token = queries.start()
        metrics.REQUESTS_IN_FLIGHT.inc()
        status = 500  # what the server answers if an exception escapes Django's handler
        try:
            response = self.get_response(request)
            status = response.status_code
        finally:
            metrics.REQUESTS_IN_FLIGHT.dec()
            queries.stop(token)
            seconds = time.perf_counter() - started
            route = route_name(request)
            method = request.method if request.method in _METHODS else "other"
            metrics.observe_request(route, method, f"{status // 100}xx", seconds, counter[0])
            if route not in requestcount.NOT_COUNTED:
                requestcount.count_request()  # the console's requests per week
            request_log.info(
                "request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 2),
                queries=counter[0],
            )
            # Threads are reused: the next request (or a task) must not inherit our ids.
            structlog.contextvars.clear_contextvars()
        response["X-Request-ID"] = request_id
        return response


class HealthCheckMiddleware:
    """/healthz and /readyz answer on every host, before host resolution,
    so load balancers can probe by IP; /metrics answers here on the platform host
    and on IP addresses (``ops/prometheus.py``), elsewhere the host's own 404."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return healthz(request)
        if request.path == "/readyz":
            return readyz(request)
        if request.path == METRICS_PATH and is_metrics_host(request):
            return metrics_view(request)
        return self.get_response(request)


class SharedCacheGuardMiddleware:
    """Nothing personal is ever shared-cacheable (ops/edgecache.py).

    Sits outside the session, CSRF and messages middleware, so it sees the cookies they
    set: a response that sets any cookie, or an HTML page answered to a request that
    carries a session cookie, leaves with ``Cache-Control: private, no-store`` whatever
    the view said. (Public, non-HTML answers to a session — a page image, a static
    file — are the same for everyone and keep their headers.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "public" not in response.get("Cache-Control", ""):
            return response
        html = response.get("Content-Type", "").startswith("text/html")
        if response.cookies or (html and not edgecache.is_visitor(request)):
            edgecache.make_private(response)
        return response
