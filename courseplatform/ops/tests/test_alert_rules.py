"""``deploy/prometheus/alerts.yml``: valid for Prometheus (``promtool check rules``), each
alert fires on series that break its target and stays quiet on healthy ones (``promtool
test rules``), and every metric and label it names exists in a live ``/metrics`` answer
after real requests and a real task. promtool is Debian's ``prometheus`` package
(``scripts/install-system-deps.sh``)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from tests.fixtures.schools import host_of
from tests.fixtures.tasks import write_marker

from .metrics_support import TOKEN, parse

RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus" / "alerts.yml"
# Made by Prometheus itself (scrape health) and by a blackbox exporter probing /readyz.
NOT_OURS = {"up", "probe_success"}
PROMQL_WORDS = {
    "sum", "max", "min", "by", "and", "or", "unless", "rate", "increase", "histogram_quantile",
    "without", "on", "ignoring", "le", "bool",
}  # fmt: skip


def _promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: run `make system-deps` (Debian package prometheus)"
    return found


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in result.stdout


def test_every_alert_has_a_summary_a_runbook_and_a_severity() -> None:
    for rule in _rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert len(rule["annotations"]["runbook"]) > 40, rule["alert"]


def _series(name: str, values: str, **labels: str) -> dict[str, str]:
    inner = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


LATENCY = "courseplatform_http_request_duration_seconds"
CACHE = "courseplatform_cache_lookups_total"
AGE = "courseplatform_task_queue_oldest_age_seconds"

# (alert, series that break the target, when, labels each firing alert carries)
FIRING: list[tuple[str, list[dict[str, str]], str, list[dict[str, str]]]] = [
    (
        "CourseplatformLatencyP95High",  # 90 % of requests between 0.5 and 1 s
        [
            _series(f"{LATENCY}_bucket", "0+10x40", route="school_home", le="0.5"),
            _series(f"{LATENCY}_bucket", "0+100x40", route="school_home", le="1"),
            _series(f"{LATENCY}_bucket", "0+100x40", route="school_home", le="+Inf"),
        ],
        "20m",
        [{}],
    ),
    (
        "CourseplatformLatencyAverageHigh",  # 0.3 s on average
        [
            _series(f"{LATENCY}_sum", "0+30x40", route="school_home"),
            _series(f"{LATENCY}_count", "0+100x40", route="school_home"),
        ],
        "25m",
        [{}],
    ),
    (
        "CourseplatformErrorRateHigh",  # 1 % answer 5xx
        [
            _series(f"{LATENCY}_count", "0+99x40", route="school_home", status="2xx"),
            _series(f"{LATENCY}_count", "0+1x40", route="school_home", status="5xx"),
        ],
        "20m",
        [{}],
    ),
    (
        "CourseplatformHostCacheHitRatioLow",  # half of 2 lookups a second
        [
            _series(CACHE, "0+60x60", cache="host", result="hit"),
            _series(CACHE, "0+60x60", cache="host", result="miss"),
        ],
        "50m",
        [{}],
    ),
    (
        "CourseplatformPageCacheHitRatioLow",  # 20 % from the process, 0 from Redis
        [
            _series(CACHE, "0+30x60", cache="page_process", result="hit"),
            _series(CACHE, "0+120x60", cache="page", result="miss"),
        ],
        "50m",
        [{}],
    ),
    (
        "CourseplatformTaskQueueStuck",
        [_series(AGE, "400x20", queue="webhooks"), _series(AGE, "0x20", queue="default")],
        "10m",
        [{"queue": "webhooks"}],
    ),
    (
        "CourseplatformVideoQueueBacklog",
        [_series(AGE, "2000x30", queue="video")],
        "15m",
        [{}],
    ),
    (
        "CourseplatformTranscodesFailing",
        [_series("courseplatform_transcode_failures_total", "0 0 1 1 1", kind="exhausted")],
        "3m",
        [{}],
    ),
    (
        "CourseplatformDown",
        [_series("up", "0x10", job="courseplatform", instance="web1:8000")],
        "5m",
        [{"job": "courseplatform", "instance": "web1:8000"}],
    ),
    (
        "CourseplatformDatabaseUnreachableFromWeb",
        [
            _series(
                "courseplatform_scrape_collector_up",
                "0x10",
                instance="web1:8000",
                collector="schools",
            )
        ],
        "8m",
        [{"instance": "web1:8000"}],
    ),
    (
        "CourseplatformNotReady",
        [_series("probe_success", "0x10", job="courseplatform-readyz", instance="web1")],
        "5m",
        [{"job": "courseplatform-readyz", "instance": "web1"}],
    ),
]

# Healthy figures: no alert at all.
QUIET = [
    _series(f"{LATENCY}_bucket", "0+99x60", route="school_home", le="0.1"),
    _series(f"{LATENCY}_bucket", "0+100x60", route="school_home", le="0.5"),
    _series(f"{LATENCY}_bucket", "0+100x60", route="school_home", le="+Inf"),
    _series(f"{LATENCY}_sum", "0+5x60", route="school_home", status="2xx"),
    _series(f"{LATENCY}_count", "0+100x60", route="school_home", status="2xx"),
    # Slow probes do not count: they are not what visitors wait for.
    _series(f"{LATENCY}_bucket", "0+0x60", route="healthz", le="0.5"),
    _series(f"{LATENCY}_bucket", "0+1000x60", route="healthz", le="+Inf"),
    _series(CACHE, "0+120x60", cache="host", result="hit"),
    _series(CACHE, "0+1x60", cache="host", result="miss"),
    _series(CACHE, "0+100x60", cache="page_process", result="hit"),
    _series(CACHE, "0+19x60", cache="page", result="hit"),
    _series(CACHE, "0+1x60", cache="page", result="miss"),
    # A quiet school after a restart: all misses, but under one lookup a second.
    _series(CACHE, "0+10x60", cache="host", result="miss"),
    _series(AGE, "30x60", queue="webhooks"),
    _series(AGE, "900x60", queue="video"),
    _series("courseplatform_transcode_failures_total", "0+1x60", kind="permanent"),
    _series("up", "1x60", job="courseplatform", instance="web1:8000"),
    _series(
        "courseplatform_scrape_collector_up", "1x60", instance="web1:8000", collector="schools"
    ),
    _series("probe_success", "1x60", job="courseplatform-readyz", instance="web1"),
]


def _expected(rule: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    def fill(text: str) -> str:
        return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)

    return {
        "exp_labels": {**rule["labels"], **labels},
        "exp_annotations": {key: fill(value) for key, value in rule["annotations"].items()},
    }


def test_each_alert_fires_on_its_breach_and_none_on_healthy_figures(tmp_path: Path) -> None:
    rules = {rule["alert"]: rule for rule in _rules()}
    assert set(rules) == {case[0] for case in FIRING}, "every alert needs a firing case"
    tests: list[dict[str, Any]] = [
        {
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [
                {
                    "eval_time": when,
                    "alertname": alert,
                    "exp_alerts": [_expected(rules[alert], labels) for labels in firing],
                }
            ],
        }
        for alert, series, when, firing in FIRING
    ]
    tests.append(
        {
            "interval": "1m",
            "input_series": QUIET,
            "alert_rule_test": [
                {"eval_time": "55m", "alertname": alert, "exp_alerts": []} for alert in rules
            ],
        }
    )
    spec = tmp_path / "alerts.test.yml"
    spec.write_text(
        yaml.safe_dump({"rule_files": [str(RULES)], "evaluation_interval": "1m", "tests": tests})
    )
    result = subprocess.run(
        [_promtool(), "test", "rules", str(spec)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the names against a live /metrics -------------------------------------------------------


def _selectors(expr: str) -> Iterator[tuple[str, set[str]]]:
    """(metric name, label names) of every series selector in a PromQL expression."""
    expr = re.sub(r"\[\d+[smhd]\]", "", expr)  # range windows
    expr = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # label lists
    for match in re.finditer(r"\b([a-z_][a-z0-9_]*)\s*(\{[^}]*\})?", expr):
        name, matchers = match.group(1), match.group(2) or ""
        following = expr[match.end() :].lstrip()[:1]
        if name in PROMQL_WORDS or following == "(":
            continue  # a function or an aggregation
        labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", matchers))
        yield name, labels


def _known(text: str) -> dict[str, set[str]]:
    """Every sample name a scrape answered, with the label names seen on it; families
    without samples yet (a labelled counter nobody incremented) by their TYPE."""
    scrape = parse(text)
    known: dict[str, set[str]] = {}
    for name, labels, _ in scrape.samples:
        known.setdefault(name, set()).update(labels)
    for kind_line in re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.M):
        family, kind = kind_line
        suffixes = {"counter": ["", "_total"], "histogram": ["_bucket", "_sum", "_count"]}
        for suffix in suffixes.get(kind, [""]):
            known.setdefault(family + suffix, set())
    return known


@pytest.fixture
def _keep_signal_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_keep_signal_handlers")
def test_every_metric_and_label_in_the_rules_is_in_a_live_scrape(
    make_school: Any, settings: Any, tmp_path: Path
) -> None:
    settings.METRICS_TOKEN = TOKEN
    school = make_school("alpha").school
    visitor = Client(HTTP_HOST=host_of(school))
    for path in ("/", "/", "/courses/", "/nope/"):
        visitor.get(path)
    write_marker.enqueue(str(tmp_path / "m.txt"), "x")
    call_command(
        "db_worker", queue_name="*", batch=True, startup_delay=False, reload=False, verbosity=0
    )
    response = Client(HTTP_HOST="localhost").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    known = _known(response.content.decode())
    checked: set[str] = set()
    for rule in _rules():
        for name, labels in _selectors(rule["expr"]):
            if name in NOT_OURS:
                continue
            assert name in known, f"{rule['alert']}: {name} is not in /metrics"
            if labels and known[name]:
                assert labels <= known[name] | {"instance", "job"}, (rule["alert"], name, labels)
            checked.add(name)
    assert checked == {
        f"{LATENCY}_bucket",
        f"{LATENCY}_sum",
        f"{LATENCY}_count",
        CACHE,
        AGE,
        "courseplatform_transcode_failures_total",
        "courseplatform_scrape_collector_up",
    }
