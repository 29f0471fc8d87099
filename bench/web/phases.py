"""Where `make bench`'s time goes: each phase's budget against what it took.

The whole run must finish in under 15 minutes on a quiet 2-core machine (issue 12);
the budgets below add up to about 13½ minutes, so a run that meets them has a margin.
A phase over its budget is reported, never fatal: the budgets say where to look when
the run grows, they do not cut measurements short (the time limits of the warm-up
passes and wrk's ``-d`` do that).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# Seconds per phase on a quiet 2-core machine. The web scenario's phases are named by
# bench/scenarios/web.py; the other scenarios by bench/run.py ("scenario <name>").
BUDGETS: dict[str, float] = {
    "setup (roles, migrations)": 15,
    "web: seeding 100 schools": 5,  # 3 schools through the services, 97 bulk clones
    "web: app servers and logins": 12,  # collectstatic, two servers, 10 Argon2 logins
    "web: visitor warm-up, 1 school": 2,
    "web: measuring 1 school": 63,  # 10 runs x (1 + 5) s, round trips
    "web: visitor warm-up, 100 schools": 5,
    "web: measuring 100 schools": 68,  # + 4 signed-in warm-ups of 100 requests
    "web: seeding 10,000 schools": 35,  # bulk clones, 19,800 sessions
    "web: visitor warm-up, 10,000 schools": 280,  # 30,000 renders (~15 ms CPU each), spread
    # + 4 signed-in warm-ups of at most 8 s, + 6 runs at 100 schools beside the 10,000
    "web: measuring 10,000 schools": 142,
    "web: stopping the servers": 6,
    "web: chart and report": 5,  # matplotlib
    "scenario playback": 18,
    "scenario redeem": 5,
    "scenario transcode": 140,  # 3 x 30 s 1080p ladders (ours and plain best of 2)
}
TOTAL_BUDGET = 810.0  # seconds: the sum of the phases above is about this
LIMIT = 900.0  # the bound for the whole run


@dataclass
class Phase:
    name: str
    seconds: float
    budget: float | None

    @property
    def over(self) -> bool:
        return self.budget is not None and self.seconds > self.budget


@dataclass
class Phases:
    """Records phases in order; ``clock`` is replaced in tests."""

    clock: Callable[[], float] = time.monotonic
    say: Callable[[str], None] = print
    done: list[Phase] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = self.clock()
        try:
            yield
        finally:
            self.add(name, self.clock() - started)

    def add(self, name: str, seconds: float) -> Phase:
        phase = Phase(name, seconds, BUDGETS.get(name))
        self.done.append(phase)
        budget = ""
        if phase.budget is not None:
            budget = f" (budget {phase.budget:.0f} s{', OVER' if phase.over else ''})"
        self.say(f"bench phase: {name}: {seconds:.1f} s{budget}")
        return phase

    def total(self) -> float:
        return sum(p.seconds for p in self.done)

    def table(self) -> str:
        lines = ["| phase | took s | budget s | |", "|---|---:|---:|---|"]
        for p in self.done:
            budget = "-" if p.budget is None else f"{p.budget:.0f}"
            mark = "" if p.budget is None else ("❌ over" if p.over else "✅")
            lines.append(f"| {p.name} | {p.seconds:.1f} | {budget} | {mark} |")
        lines.append(f"| **all phases** | **{self.total():.0f}** | {TOTAL_BUDGET:.0f} | "
                     f"{'✅' if self.total() <= TOTAL_BUDGET else '❌ over'} |")  # fmt: skip
        return "\n".join(lines)


RUN = Phases()  # the phases of this `make bench` run (bench/run.py writes the table)
