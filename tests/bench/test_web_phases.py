"""The time budget of `make bench` (bench/web/phases.py): each phase against its budget,
and budgets that leave a margin under the issue's 15 minutes."""

from __future__ import annotations

from bench.web import phases


def test_the_budgets_add_up_to_the_total_with_a_margin_under_the_limit() -> None:
    assert sum(phases.BUDGETS.values()) <= phases.TOTAL_BUDGET
    assert phases.TOTAL_BUDGET <= 0.9 * phases.LIMIT  # at least 90 s to spare
    assert phases.LIMIT == 900  # issue 12: under 15 minutes


def test_phases_are_timed_and_judged_against_their_budgets() -> None:
    now = [100.0]
    said: list[str] = []
    run = phases.Phases(clock=lambda: now[0], say=said.append)
    with run.phase("web: seeding 100 schools"):
        now[0] += 4.5
    with run.phase("web: chart and report"):
        now[0] += 11.0  # over its 5 s
    run.add("something unbudgeted", 3.0)

    assert [(p.name, p.seconds, p.over) for p in run.done] == [
        ("web: seeding 100 schools", 4.5, False),
        ("web: chart and report", 11.0, True),
        ("something unbudgeted", 3.0, False),
    ]
    assert said[1] == "bench phase: web: chart and report: 11.0 s (budget 5 s, OVER)"
    assert said[2] == "bench phase: something unbudgeted: 3.0 s"
    table = run.table()
    assert "| web: seeding 100 schools | 4.5 | 5 | ✅ |" in table
    assert "| web: chart and report | 11.0 | 5 | ❌ over |" in table
    assert "| something unbudgeted | 3.0 | - |  |" in table
    assert "| **all phases** | **18** | 810 | ✅ |" in table


def test_a_phase_that_raises_is_still_recorded() -> None:
    now = [0.0]
    run = phases.Phases(clock=lambda: now[0], say=lambda _: None)
    try:
        with run.phase("scenario transcode"):
            now[0] = 2.0
            raise RuntimeError("broke")
    except RuntimeError:
        pass
    assert [(p.name, p.seconds) for p in run.done] == [("scenario transcode", 2.0)]
