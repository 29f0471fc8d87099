"""Figures of the web bench → Markdown tables, target verdicts and a latency chart.

Pure computation on the measurements (tested in tests/bench/): nothing here runs a
server or a load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .wrk import WrkResult

# The targets: (most DB round trips per request on a warm cache,
# least throughput as a share of the same run's /healthz floor).
TARGETS: dict[str, tuple[int, float]] = {"anonymous": (1, 0.70), "logged-in": (4, 0.35)}
P95_GROWTH_LIMIT = 1.10  # p95 at the most schools / p95 at 100 schools
GROWTH_BASE = 100


@dataclass
class Measurement:
    page: str  # key, e.g. "landing"
    label: str
    kind: str  # "floor", "static", "anonymous", "logged-in"
    schools: int
    result: WrkResult | None = None
    failure: str = ""  # why there is no result (the run of this page broke)
    redis_hits: int = 0
    redis_misses: int = 0
    host_lookups: int | None = None  # requests that got past the in-memory page cache
    warmup: str = ""  # what the unrecorded warm-up pass covered
    round_trips: float | None = None  # per request, warm (second pass over the same hosts)
    round_trips_first: float | None = None  # per request, first pass (fresh app process)
    checked: int = 0  # sequential requests whose status was checked
    bad_statuses: str = ""  # e.g. "302 x3" when a checked answer was not 200
    # Set for a run at ``schools`` made right after this page's run at ``beside``
    # schools, on the same servers and database: the p95 target's baseline, free of the
    # drift of a shared machine between sets minutes apart (README "Benchmarks").
    beside: int | None = None

    @property
    def hit_ratio(self) -> float | None:
        total = self.redis_hits + self.redis_misses
        return self.redis_hits / total if total else None

    @property
    def memory_hit_ratio(self) -> float | None:
        """Share of a visitor page's requests answered from a web process's memory
        (ops/pagecache.py): every other request made one host lookup (one MGET)."""
        if self.kind != "anonymous" or self.result is None or self.host_lookups is None:
            return None
        if not self.result.requests:
            return None
        return max(0.0, 1.0 - self.host_lookups / self.result.requests)


def set_runs(measurements: Sequence[Measurement]) -> list[Measurement]:
    """The runs of the sets (1, 100, 10,000 schools), without the runs made beside another."""
    return [m for m in measurements if m.beside is None]


def floor_throughput(measurements: Sequence[Measurement], schools: int) -> float | None:
    """Mean throughput of the floor runs (/healthz) of the set at this school count."""
    rates = [
        m.result.throughput
        for m in set_runs(measurements)
        if m.kind == "floor" and m.schools == schools and m.result is not None
    ]
    return sum(rates) / len(rates) if rates else None


def floor_ratio(m: Measurement, measurements: Sequence[Measurement]) -> float | None:
    floor = floor_throughput(measurements, m.beside or m.schools)
    if m.result is None or not floor:
        return None
    return m.result.throughput / floor


def p95_growth(page: str, measurements: Sequence[Measurement]) -> float | None:
    """p95 at the largest school count over p95 of the 100-school set (None if either is
    missing)."""
    by_count = {
        m.schools: m for m in set_runs(measurements) if m.page == page and m.result is not None
    }
    if GROWTH_BASE not in by_count:
        return None
    top = max(by_count)
    if top <= GROWTH_BASE:
        return None
    base = by_count[GROWTH_BASE].result
    assert base is not None
    high = by_count[top].result
    assert high is not None
    return high.p95_ms / base.p95_ms if base.p95_ms > 0 else None


def _top_and_beside(
    page: str, measurements: Sequence[Measurement]
) -> tuple[Measurement, Measurement] | None:
    runs = [m for m in set_runs(measurements) if m.page == page and m.result is not None]
    if not runs:
        return None
    top = max(runs, key=lambda m: m.schools)
    base = next(
        (
            m
            for m in measurements
            if m.page == page and m.beside == top.schools and m.schools == GROWTH_BASE
            and m.result is not None
        ),
        None,
    )  # fmt: skip
    return (top, base) if base is not None else None


def p95_growth_beside(page: str, measurements: Sequence[Measurement]) -> float | None:
    """p95 at the largest school count over p95 at 100 schools measured right after it."""
    pair = _top_and_beside(page, measurements)
    if pair is None:
        return None
    top, base = pair
    assert top.result is not None and base.result is not None
    return top.result.p95_ms / base.result.p95_ms if base.result.p95_ms > 0 else None


@dataclass(frozen=True)
class Verdict:
    met: bool
    text: str


def row_verdicts(m: Measurement, measurements: Sequence[Measurement]) -> list[Verdict]:
    """Round-trip and floor-ratio targets for one page at one school count."""
    if m.kind not in TARGETS or m.beside is not None:
        return []
    if m.result is None:
        return [Verdict(False, f"not measured: {m.failure}")]
    max_trips, min_ratio = TARGETS[m.kind]
    verdicts = []
    if m.round_trips is None:
        verdicts.append(Verdict(False, "round trips not measured"))
    else:
        ok = m.round_trips <= max_trips + 1e-9
        verdicts.append(Verdict(ok, f"RT {m.round_trips:.1f} {'≤' if ok else '>'} {max_trips}"))
    ratio = floor_ratio(m, measurements)
    if ratio is None:
        verdicts.append(Verdict(False, "no floor to compare with"))
    else:
        ok = ratio >= min_ratio
        verdicts.append(Verdict(ok, f"{ratio:.0%} {'≥' if ok else '<'} {min_ratio:.0%} of floor"))
    if m.result.errors:
        verdicts.append(Verdict(False, f"{m.result.errors} errors"))
    if m.bad_statuses:
        verdicts.append(Verdict(False, f"answers not 200: {m.bad_statuses}"))
    return verdicts


def growth_verdict(page: str, measurements: Sequence[Measurement]) -> Verdict | None:
    """Judged on the 100-school run made beside the largest set when there is one (the
    ratio to the 100-school set is shown next to it), else on the 100-school set."""
    growth = p95_growth(page, measurements)
    beside = p95_growth_beside(page, measurements)
    judged = beside if beside is not None else growth
    if judged is None:
        return None
    ok = judged <= P95_GROWTH_LIMIT
    text = f"p95 x{judged:.2f} {'≤' if ok else '>'} x{P95_GROWTH_LIMIT:.2f}"
    if beside is not None:
        text += f" beside {GROWTH_BASE}"
        if growth is not None:
            text += f" (x{growth:.2f} vs the {GROWTH_BASE}-school set)"
    return Verdict(ok, text)


# --- Markdown --------------------------------------------------------------------------


def _num(value: float | None, fmt: str = "{:.1f}", missing: str = "-") -> str:
    return missing if value is None else fmt.format(value)


def _mark(verdicts: Sequence[Verdict]) -> str:
    if not verdicts:
        return ""
    return ("✅ " if all(v.met for v in verdicts) else "❌ ") + "; ".join(v.text for v in verdicts)


def results_table(measurements: Sequence[Measurement]) -> str:
    lines = [
        "| page | schools | req/s | p50 ms | p95 ms | p99 ms | errors | DB RT warm | "
        "DB RT first | Redis hit | memory hit | x floor | targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in measurements:
        r = m.result
        if r is None:
            lines.append(
                f"| {m.label} | {m.schools:,} | - | - | - | - | - | - | - | - | - | - | "
                f"❌ not measured: {m.failure} |"
            )
            continue
        errors = f"{r.errors}" if not r.errors else (
            f"{r.errors} ({r.status_errors} status, {r.socket_errors} socket)"
        )  # fmt: skip
        hit = m.hit_ratio
        schools = f"{m.schools:,}" + (f", beside {m.beside:,}" if m.beside else "")
        lines.append(
            f"| {m.label} | {schools} | {r.throughput:,.0f} | {r.p50_ms:.1f} | "
            f"{r.p95_ms:.1f} | {r.p99_ms:.1f} | {errors} | {_num(m.round_trips)} | "
            f"{_num(m.round_trips_first)} | {_num(hit, '{:.0%}')} | "
            f"{_num(m.memory_hit_ratio, '{:.0%}')} | "
            f"{_num(floor_ratio(m, measurements), '{:.0%}')} | "
            f"{_mark(row_verdicts(m, measurements))} |"
        )
    return "\n".join(lines)


def summary_table(measurements: Sequence[Measurement]) -> str:
    """One line per page: every target, met or missed."""
    pages: dict[str, Measurement] = {}
    for m in measurements:
        if m.kind in TARGETS:
            pages.setdefault(m.page, m)
    runs = set_runs(measurements)
    counts = sorted({m.schools for m in runs})
    header = " | ".join(f"{c:,} school{'s' if c != 1 else ''}" for c in counts)
    top = max(counts) if counts else 0
    lines = [
        f"| page | target | {header} | p95 at {top:,} vs {GROWTH_BASE} | all met |",
        "|---|---|" + "---|" * len(counts) + "---|---|",
    ]
    for key, first in pages.items():
        max_trips, min_ratio = TARGETS[first.kind]
        cells, every = [], []
        for count in counts:
            run = next((x for x in runs if x.page == key and x.schools == count), None)
            if run is None:
                cells.append("-")
                continue
            verdicts = row_verdicts(run, measurements)
            every.extend(verdicts)
            cells.append(_mark(verdicts))
        growth = growth_verdict(key, measurements)
        if growth is not None:
            every.append(growth)
        met = bool(every) and all(v.met for v in every)
        lines.append(
            f"| {first.label} | ≤ {max_trips} RT, ≥ {min_ratio:.0%} of floor, p95 ≤ "
            f"x{P95_GROWTH_LIMIT:.2f} | "
            + " | ".join(cells)
            + f" | {_mark([growth]) if growth else '-'} | {'yes' if met else 'no'} |"
        )
    return "\n".join(lines)


def ceiling_lines(measurements: Sequence[Measurement]) -> list[str]:
    """The signed-in ceiling against the floor, and each signed-in page against it."""
    out = []
    runs = set_runs(measurements)
    for count in sorted({m.schools for m in runs}):
        ceiling = next((m for m in runs if m.kind == "ceiling" and m.schools == count), None)
        ratio = floor_ratio(ceiling, measurements) if ceiling is not None else None
        if ceiling is None or ceiling.result is None or ratio is None:
            continue
        pages = [
            f"{m.label} {m.result.throughput / ceiling.result.throughput:.0%}"
            for m in runs
            if m.kind == "logged-in" and m.schools == count and m.result is not None
            and ceiling.result.throughput > 0
        ]  # fmt: skip
        out.append(
            f"- {count:,} school{'s' if count != 1 else ''}: the cheapest signed-in page "
            f"reaches {ratio:.0%} of the floor ({ceiling.result.throughput:,.0f} req/s, "
            f"p50 {ceiling.result.p50_ms:.1f} ms); the signed-in pages reach, of that "
            f"ceiling: {', '.join(pages) or '-'}."
        )
    return out


# --- chart -----------------------------------------------------------------------------


def chart(measurements: Sequence[Measurement], path: Path) -> Path:
    """p50 and p95 latency against school count, one panel per page (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pages: dict[str, str] = {}
    for m in measurements:
        pages.setdefault(m.page, m.label)
    columns = 3
    rows = max(1, -(-len(pages) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for index, (key, label) in enumerate(pages.items()):
        ax = axes[index // columns][index % columns]
        points = sorted(
            (m.schools, m.result)
            for m in set_runs(measurements)
            if m.page == key and m.result is not None
        )
        xs = [count for count, _ in points]
        ax.plot(xs, [r.p50_ms for _, r in points], "o-", label="p50")
        ax.plot(xs, [r.p95_ms for _, r in points], "s--", label="p95")
        ax.set_xscale("log")
        ax.set_xticks(xs or [1])
        ax.set_xticklabels([f"{x:,}" for x in xs] or ["1"])
        ax.set_ylim(bottom=0)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("schools rotated")
        ax.set_ylabel("latency (ms)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    for index in range(len(pages), rows * columns):
        axes[index // columns][index % columns].axis("off")
    fig.suptitle("make bench: latency against the number of schools (wrk, loopback)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def growth_lines(measurements: Sequence[Measurement]) -> list[str]:
    """Per page, p95 at the largest school count against 100 schools, next to what
    differs between the two runs (requests answered from memory, Redis hits, p99):
    the figures the reading of the p95 target starts from (README "Reading the report")."""
    out = []
    pages: dict[str, str] = {}
    for m in measurements:
        if m.kind in TARGETS:
            pages.setdefault(m.page, m.label)
    for key, label in pages.items():
        runs = {
            m.schools: m for m in set_runs(measurements) if m.page == key and m.result is not None
        }
        growth = p95_growth(key, measurements)
        if growth is None:
            continue
        base, top = runs[GROWTH_BASE], runs[max(runs)]
        assert base.result is not None and top.result is not None

        def pct(value: float | None) -> str:
            return "-" if value is None else f"{value:.0%}"

        parts = [
            f"p95 {base.result.p95_ms:.1f} → {top.result.p95_ms:.1f} ms (x{growth:.2f})",
            f"p99 {base.result.p99_ms:.1f} → {top.result.p99_ms:.1f} ms",
        ]
        if top.kind == "anonymous":
            parts.append(f"from memory {pct(base.memory_hit_ratio)} → {pct(top.memory_hit_ratio)}")
        parts.append(f"Redis hits {pct(base.hit_ratio)} → {pct(top.hit_ratio)}")
        pair = _top_and_beside(key, measurements)
        if pair is not None:
            beside = pair[1]
            assert beside.result is not None
            parts.append(
                f"{GROWTH_BASE} schools measured right after it: p95 "
                f"{beside.result.p95_ms:.1f} ms (x{top.result.p95_ms / beside.result.p95_ms:.2f})"
                if beside.result.p95_ms > 0
                else f"{GROWTH_BASE} schools measured right after it: p95 0 ms"
            )
        out.append(f"- {label}, {GROWTH_BASE} → {top.schools:,} schools: " + "; ".join(parts))
    return out


def noise_lines(measurements: Sequence[Measurement]) -> list[str]:
    """The same page twice in one set (the floor at its start and its end): how far two
    runs of one page apart drift on this machine, to read the p95 ratios against."""
    out = []
    runs = set_runs(measurements)
    for count in sorted({m.schools for m in runs}):
        floors = [m for m in runs if m.kind == "floor" and m.schools == count and m.result]
        if len(floors) < 2:
            continue
        first, last = floors[0].result, floors[-1].result
        assert first is not None and last is not None
        if first.p95_ms <= 0:
            continue
        out.append(
            f"- {count:,} school{'s' if count != 1 else ''}: /healthz p95 {first.p95_ms:.1f} ms "
            f"at the start of the set, {last.p95_ms:.1f} ms at its end "
            f"(x{last.p95_ms / first.p95_ms:.2f}, nothing changed in between but time)."
        )
    return out
