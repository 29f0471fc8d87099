"""`make bench`: run every scenario in bench/scenarios and write bench/report.md.

A scenario is a module with ``TITLE`` and ``run() -> str`` returning a Markdown
section, and optionally ``ORDER`` (default 50; lower runs and reports first). Each
scenario measures against a baseline in the same run (ratios, not absolute timings),
so the report is comparable across machines. Timings are reported, never asserted.
The report is rewritten after every scenario: an interrupted run keeps what it measured.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # Unwind like Ctrl-C, so every `finally` stops what its scenario started.
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseplatform.settings")
    from bench.web.servers import private_redis

    # A Redis of the bench's own for every scenario and the app servers they start:
    # nobody else's keys are touched, and its hit/miss counters are the bench's alone.
    with private_redis(ROOT / "var" / "bench" / "redis") as redis_url:
        os.environ["REDIS_URL"] = redis_url
        return _run_scenarios()


def _run_scenarios() -> int:
    import django

    django.setup()
    import bench.scenarios as scenarios
    from bench.web.phases import RUN

    # `make bench` notes when it began, before the database roles and migrations.
    began = os.environ.get("BENCH_STARTED_AT", "").strip()
    if began:
        RUN.add("setup (roles, migrations)", max(0.0, time.time() - float(began)))

    only = set(sys.argv[1:])
    names = [info.name for info in pkgutil.iter_modules(scenarios.__path__)]
    modules = [
        importlib.import_module(f"bench.scenarios.{name}")
        for name in names
        if not only or name in only
    ]
    # ORDER (default 50) puts the scenarios the report leads with first; then by name.
    modules.sort(key=lambda m: (getattr(m, "ORDER", 50), m.__name__))
    sections: list[str] = []
    failed = 0
    started_run = time.perf_counter()
    for module in modules:
        started = time.perf_counter()
        name = module.__name__.rsplit(".", 1)[-1]
        print(f"bench: {name} …", flush=True)
        phases_before = len(RUN.done)
        try:
            body = module.run()
        except Exception:
            failed += 1
            body = "```\n" + traceback.format_exc() + "```\n"
        elapsed = time.perf_counter() - started
        if len(RUN.done) == phases_before:  # a scenario without phases of its own
            RUN.add(f"scenario {name}", elapsed)
        sections.append(f"## {module.TITLE}\n\n{body}\n\n_scenario took {elapsed:.1f} s_\n")
        # Written after every scenario: an interrupted run still leaves what it measured.
        _write_report(sections, done=len(sections) == len(modules), total=started_run)
    print((ROOT / "bench" / "report.md").read_text())
    return 1 if failed else 0


def _write_report(sections: list[str], *, done: bool, total: float) -> None:
    from bench.web.phases import LIMIT, RUN

    header = (
        "# Benchmark report\n\n"
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC} on {platform.node()} "
        f"({os.cpu_count()} CPUs, Python {platform.python_version()}); "
        f"the run took {time.perf_counter() - total:.0f} s"
        f"{'' if done else ' so far (still running or interrupted)'}.\n"
        "Ratios compare against a baseline measured in the same run.\n\n"
        f"### Time budget (whole run under {LIMIT:.0f} s; budgets in bench/web/phases.py)\n\n"
        f"{RUN.table()}\n\n"
    )
    report = header + ("\n".join(sections) if sections else "No scenarios yet.\n")
    (ROOT / "bench" / "report.md").write_text(report)


if __name__ == "__main__":
    raise SystemExit(main())
