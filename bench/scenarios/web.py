"""Web pages under load at 1, 100 and 10,000 schools, served like production.

1. Seed: three sample schools through the real services, cloned in bulk to 100
   schools (bench/web/seed.py); later to 10,000.
2. Serve: the app server with production settings (DEBUG off, the runtime database
   role only, Redis for cache and sessions, collected static files), on loopback.
3. Log in: the learner and the owner of each of the first 100 schools through the real
   login form; sessions of the other schools copy a real session's layout.
4. Load: first one visitor warm-up for the set: every (school, visitor page) asked
   once through each web process (connections pinned to processes through /metrics),
   which renders it once and leaves it in every process's memory, bounded in time; what the caches
   then hold (entries, bytes, Redis) is reported. Per page: for signed-in pages an
   unrecorded warm-up pass over the page's targets in wrk's order
   (bench/web/warmup.py, bounded in time), a short unrecorded wrk run, then a bounded
   wrk run (2 threads, 8 connections) rotating the Host header (and session cookie)
   over the schools of the set. The floor (``/healthz``) is measured at the start and
   the end of every set, a static file in between; Redis keyspace hits/misses are
   read around each run. In the 10,000-school set, each page with targets is measured
   again right after its run over the 100 schools of the 100-school set (same servers,
   same database, seconds apart): the baseline of the p95 target, which a shared
   machine's drift between sets minutes apart would otherwise swamp.
5. Round trips: a second app-server process whose database connections pass through
   a counting proxy (bench/web/pgcount.py) answers the same targets one at a time,
   twice; the second pass is the warm figure. Every answer's status is checked (a
   logged-out session would show up as a redirect here).

Knobs (environment): BENCH_WEB_SCHOOLS (10000), BENCH_WEB_SECONDS (5),
BENCH_WEB_WARMUP_SECONDS (1), BENCH_WEB_WARMUP_PASS_SECONDS (8),
BENCH_WEB_WARMUP_VISITOR_SECONDS (280, the whole visitor warm-up of a set),
BENCH_WEB_CONNECTIONS (8). Each phase's time and budget: bench/web/phases.py.
"""

from __future__ import annotations

import http.client
import os
import re
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from bench.web import phases, report, seed, servers, targets, warmup, wrk
from bench.web.pgcount import RoundTripProxy

TITLE = "Web pages: 1, 100 and 10,000 schools on the production app server (wrk)"
ORDER = 10  # first in the report (bench/run.py)

ROOT = Path(__file__).resolve().parents[2]
WORKDIR = ROOT / "var" / "bench"
CHART = ROOT / "bench" / "web-latency.png"
SCHOOLS = int(os.environ.get("BENCH_WEB_SCHOOLS", "10000"))
SECONDS = float(os.environ.get("BENCH_WEB_SECONDS", "5"))
WARMUP_SECONDS = float(os.environ.get("BENCH_WEB_WARMUP_SECONDS", "1"))
CONNECTIONS = int(os.environ.get("BENCH_WEB_CONNECTIONS", "8"))
# The warm-up passes: how long they may take at most. Signed-in pages (one pass before
# each page's run): kept under their caches' shortest lifetime less the run, so what
# was warmed first is still cached when the measured run ends; a signed-in request costs
# the same warm or not but for a few cache fills, so a partial pass is enough. Visitor
# pages live until their school's content changes (PUBLIC_PAGE_LIFETIME_SECONDS, an
# hour): one warm-up per set renders every school's three pages once and then hands
# them to every web process (each keeps its own copies), within this limit.
WARMUP_PASS_SECONDS = float(os.environ.get("BENCH_WEB_WARMUP_PASS_SECONDS", "8"))
WARMUP_VISITOR_SECONDS = float(os.environ.get("BENCH_WEB_WARMUP_VISITOR_SECONDS", "280"))
PROCESS_CACHE_MB = 128  # the default
# The visitor warm-up asks every page once through each web process (connections
# pinned to processes through /metrics, bench/web/warmup.py). Only if some process got
# no connection: at most this many passes from shifting connections, stopping as soon
# as /metrics shows every process holding every page.
VISITOR_PASSES = 6
WARMUP_PASSES = {"logged-in": 1, "ceiling": 1}
WRK_THREADS = 2
REAL_LOGINS = 5  # schools whose learner and owner log in through the form (Argon2: slow)
ROUND_TRIP_HOSTS = 30  # hosts per set in the round-trip pass (spread over the set)
ROUND_TRIP_MIN_REQUESTS = 20
STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"')


_STARTED = time.monotonic()


def _say(message: str) -> None:
    print(f"bench web [{time.monotonic() - _STARTED:6.1f} s]: {message}", flush=True)


def _server_env(*, port: int) -> dict[str, str]:
    """Production settings for the app server, from the bench's own environment."""
    from django.conf import settings

    env = dict(os.environ)
    env.pop("DATABASE_OWNER_URL", None)  # web processes get the runtime and platform roles
    env.update(
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        PLATFORM_PORT=str(port),
        STATIC_ROOT=str(WORKDIR / "static"),
        WHITENOISE_USE_FINDERS="false",
        STATIC_MANIFEST="true",  # hashed, compressed static files, as `make serve` (README)
        # Metrics of every worker in one answer, as `make serve` runs them (scripts/serve.py):
        # the bench reads each process's page cache from /metrics on loopback.
        PROMETHEUS_MULTIPROC_DIR=str(WORKDIR / "prometheus"),
        METRICS_ALLOWED_CIDRS="127.0.0.1/32",
        EMAIL_URL="dummy:",
        SERVE_STOP_SECONDS="10",
        # The three visitor pages of each of 10,000 schools fit (ops/pagecache.py).
        PUBLIC_PROCESS_CACHE_MB=str(PROCESS_CACHE_MB),
        VAR_DIR=str(WORKDIR / "var"),
    )
    return env


def _via_proxy(url: str, proxy_port: int) -> str:
    return re.sub(r"@[^/@]+/", f"@127.0.0.1:{proxy_port}/", url, count=1)


def _collectstatic(env: dict[str, str]) -> None:
    import subprocess

    subprocess.run(
        [servers.python(), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True, timeout=300,
    )  # fmt: skip


def _static_path(port: int, host: str) -> tuple[str, int]:
    """The first stylesheet or script the landing page links (hashed name or not), and
    the landing page's size in bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/", headers={"Host": host})
        body = conn.getresponse().read().decode("utf-8", "replace")
    finally:
        conn.close()
    found = STATIC_LINK.search(body)
    if not found:
        raise RuntimeError("the landing page links no static file")
    return found.group(1), len(body.encode())


class Bench:
    def __init__(self, stack: ExitStack) -> None:
        from django.conf import settings

        self.stack = stack
        self.cookie_name = settings.SESSION_COOKIE_NAME
        self.redis_url = settings.CACHES["default"].get("LOCATION", "")
        self.port = servers.free_port()
        self.count_port = servers.free_port()
        self.sessions: dict[int, tuple[str, str]] = {}
        self.measurements: list[report.Measurement] = []
        self.notes: list[str] = []
        self.warmups: list[str] = []
        self.caches: list[str] = []
        self.static_path = ""
        self.phases = phases.RUN

    def start_servers(self) -> None:
        import shutil

        env = _server_env(port=self.port)
        _collectstatic({k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"})
        # Fresh metric files: a previous run's processes must not show up as workers.
        shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
        Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True)
        main = servers.app_server(self.port, env=env, log=WORKDIR / "app-server.log")
        self.stack.callback(main.stop)
        self.main = main
        # The counting twin: one worker, one thread, database traffic through the proxy.
        proxy = self.stack.enter_context(RoundTripProxy(servers.postgres_address(env)))
        self.proxy = proxy
        twin_env = dict(env)
        twin_env["PROMETHEUS_MULTIPROC_DIR"] = str(WORKDIR / "prometheus-count")
        shutil.rmtree(twin_env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
        Path(twin_env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True)
        for key in ("DATABASE_URL", "DATABASE_PLATFORM_URL"):
            twin_env[key] = _via_proxy(env[key], proxy.port)
        twin = servers.app_server(
            self.count_port, env=twin_env, log=WORKDIR / "count-server.log", workers=1, threads=1
        )
        self.stack.callback(twin.stop)
        self.twin = twin
        servers.wait_until_answers(self.port, process=main)
        servers.wait_until_answers(self.count_port, process=twin)
        launched = servers.app_server_command(
            {**env, "PORT": str(self.port), "WEB_HOST": "127.0.0.1"}
        )
        self.notes.append(f"App server (`deploy/web.py`, as `make serve` runs it): `{launched}`")

    def log_in(self, rows: Sequence[targets.SchoolRow]) -> None:
        """Real logins for the first REAL_LOGINS schools, minted sessions for the rest."""
        started = time.perf_counter()
        fresh = [r for r in rows if r.school_id not in self.sessions]
        room = max(0, REAL_LOGINS - len(self.sessions))
        real, rest = fresh[:room], fresh[room:]
        if real:
            jobs = []
            for row in real:
                host = targets.host_of(row.slug, self.port)
                jobs += [(host, row.learner_email), (host, row.owner_email)]
            keys = targets.login_many(
                jobs, port=self.port, password=seed.SAMPLE_PASSWORD, cookie_name=self.cookie_name
            )
            for i, row in enumerate(real):
                self.sessions[row.school_id] = (keys[2 * i], keys[2 * i + 1])
            self.notes.append(
                f"{len(jobs)} real logins through /accounts/login/ in "
                f"{time.perf_counter() - started:.1f} s."
            )
        if rest:
            started = time.perf_counter()
            any_real = next(iter(self.sessions.values()))[0]
            layout = targets.session_layout(any_real)
            people = [(r.learner_id, r.learner_password_hash) for r in rest]
            people += [(r.owner_id, r.owner_password_hash) for r in rest]
            keys = targets.mint_sessions(layout, people)
            for i, row in enumerate(rest):
                self.sessions[row.school_id] = (keys[i], keys[len(rest) + i])
            self.notes.append(
                f"{len(people):,} sessions written with the session engine (layout of a real "
                f"login's session: {', '.join(sorted(layout))}) in "
                f"{time.perf_counter() - started:.1f} s."
            )

    def _targets(self, page: targets.Page, rows: Sequence[targets.SchoolRow]) -> list[wrk.Target]:
        return [
            page.target(
                row,
                targets.host_of(row.slug, self.port),
                self.sessions,
                cookie_name=self.cookie_name,
                static_path=self.static_path,
            )
            for row in rows
        ]

    def warm_visitor_pages(self, rows: Sequence[targets.SchoolRow]) -> None:
        """Every (school, visitor page) of the set rendered once and then held by every
        web process, within WARMUP_VISITOR_SECONDS; reports what the caches then hold."""
        count = len(rows)
        pages = [page for page in targets.PAGES if page.kind == "anonymous"]
        lists = [self._targets(page, rows) for page in pages]
        plan = warmup.interleave(lists, warmup.wrk_order(count, WRK_THREADS))
        deadline = time.monotonic() + WARMUP_VISITOR_SECONDS

        def entries() -> dict[int, int]:
            return {c.pid: c.entries for c in servers.process_caches(self.port)[0]}

        # Each connection pinned to a known web process, then every page asked once
        # through each process (bench/web/warmup.py).
        pinned = warmup.pin_connections(
            self.port, warmup.probe_targets(lists[0] + lists[1]), entries
        )
        try:
            done, _ = warmup.spread(pinned, plan, seconds=WARMUP_VISITOR_SECONDS)
        finally:
            warmup.close_all(pinned)
        how = "connections pinned per web process: " + ", ".join(
            f"pid {pid} {len(conns)}" for pid, conns in pinned.items()
        )
        # A process no probe reached (unlikely): passes from shifting connections.
        for k in range(VISITOR_PASSES if not pinned or not all(pinned.values()) else 0):
            left = deadline - time.monotonic()
            if left <= 0 or all(n >= len(plan) for n in entries().values()):
                break
            warmed = warmup.warm(
                self.port, plan, passes=1, seconds=left, connections=CONNECTIONS,
                threads=WRK_THREADS, order=range(len(plan)), shift=k,
            )  # fmt: skip
            done = warmup.combine(done, warmed)
            how += f"; pass {k + 1} from shifting connections"
        caches, evictions = servers.process_caches(self.port)
        in_redis = servers.redis_pages(self.redis_url)
        line = warmup.describe_visitor_warmup(
            done, pages=len(pages), schools=count, caches=caches, evictions=evictions,
            redis=in_redis, budget_mb=PROCESS_CACHE_MB,
        )  # fmt: skip
        self.warmups.append(f"visitor pages ({', '.join(p.label for p in pages)}), {line} ({how})")
        _say(f"visitor warm-up: {line} ({how})")

    def measure_set(
        self, rows: Sequence[targets.SchoolRow], *, beside: Sequence[targets.SchoolRow] = ()
    ) -> None:
        """Every page over ``rows``; each page with targets then again over ``beside``."""
        schools = f"{len(rows):,} school{'s' if len(rows) != 1 else ''}"
        with self.phases.phase(f"web: visitor warm-up, {schools}"):
            self.warm_visitor_pages(rows)
        with self.phases.phase(f"web: measuring {schools}"):
            self._measure_set(rows, beside)

    def _run_page(self, page: targets.Page, rows: Sequence[targets.SchoolRow],
                  m: report.Measurement) -> None:  # fmt: skip
        """Warm-up (signed-in pages), unrecorded wrk, then the measured wrk run into ``m``."""
        count = len(rows)
        path = WORKDIR / f"targets-{page.key}-{count}.tsv"
        wrk.write_targets(path, self._targets(page, rows))
        base_url = f"http://127.0.0.1:{self.port}/"
        passes = WARMUP_PASSES.get(page.kind, 0)
        if passes and WARMUP_PASS_SECONDS > 0:
            warmed = warmup.warm(
                self.port, self._targets(page, rows), passes=passes,
                seconds=WARMUP_PASS_SECONDS, connections=CONNECTIONS, threads=WRK_THREADS,
            )  # fmt: skip
            m.warmup = warmed.describe()
            where = f", beside {m.beside:,}" if m.beside else ""
            self.warmups.append(f"{page.label}, {count:,} schools{where}: {m.warmup}")
        try:
            if WARMUP_SECONDS > 0:
                wrk.run(base_url, path, seconds=WARMUP_SECONDS, threads=WRK_THREADS,
                        connections=CONNECTIONS)  # fmt: skip
            before = servers.redis_stats(self.redis_url)
            m.result = wrk.run(
                base_url, path, seconds=SECONDS, threads=WRK_THREADS, connections=CONNECTIONS
            )
            after = servers.redis_stats(self.redis_url)
            m.redis_hits = after["hits"] - before["hits"]
            m.redis_misses = after["misses"] - before["misses"]
            m.host_lookups = after["mget"] - before["mget"]
        except wrk.WrkError as exc:
            m.failure = str(exc).splitlines()[0][:200]
        if not self.main.alive():
            raise RuntimeError(f"the app server died:\n{self.main.tail()}")

    def _measure_set(
        self, rows: Sequence[targets.SchoolRow], beside: Sequence[targets.SchoolRow]
    ) -> None:
        count = len(rows)
        load_before = os.getloadavg()[0]
        pages = list(targets.PAGES)
        # The floor again at the end: a shared machine drifts; the ratio uses the mean.
        pages.append(targets.Page("floor-end", "floor again (end of set)", "floor"))
        results: dict[str, report.Measurement] = {}
        for page in pages:
            m = report.Measurement(page.key, page.label, page.kind, count)
            results[page.key] = m
            self.measurements.append(m)
            self._run_page(page, rows, m)
            if beside and page.kind in report.TARGETS:
                again = report.Measurement(
                    page.key, page.label, page.kind, len(beside), beside=count
                )
                self.measurements.append(again)
                self._run_page(page, beside, again)
        for page in pages:
            self.count_round_trips(page, rows, results[page.key])
        self.notes.append(
            f"{count:,} school{'s' if count != 1 else ''}: load average {load_before:.2f} "
            f"before the set, {os.getloadavg()[0]:.2f} after (2 cores, shared with other work)."
        )

    def count_round_trips(
        self, page: targets.Page, rows: Sequence[targets.SchoolRow], m: report.Measurement
    ) -> None:
        step = max(1, len(rows) // ROUND_TRIP_HOSTS)
        chosen = list(rows[::step])[:ROUND_TRIP_HOSTS]
        plan = self._targets(page, chosen)
        while len(plan) < ROUND_TRIP_MIN_REQUESTS:
            plan = plan + plan[: ROUND_TRIP_MIN_REQUESTS - len(plan)]
        statuses: Counter[int] = Counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.count_port, timeout=60)
        try:
            passes = []
            for _ in range(2):
                before = self.proxy.round_trips
                for target in plan:
                    headers = {"Host": target.host}
                    if target.cookie:
                        headers["Cookie"] = target.cookie
                    conn.request("GET", target.path, headers=headers)
                    answer = conn.getresponse()
                    answer.read()
                    statuses[answer.status] += 1
                passes.append((self.proxy.round_trips - before) / len(plan))
        finally:
            conn.close()
        m.round_trips_first, m.round_trips = passes
        m.checked = sum(statuses.values())
        bad = {status: n for status, n in statuses.items() if status != 200}
        m.bad_statuses = ", ".join(f"{status} x{n}" for status, n in sorted(bad.items()))


def run() -> str:
    from django.db import connections

    WORKDIR.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    with ExitStack() as stack:
        bench = Bench(stack)
        phase = bench.phases.phase
        with phase(f"web: seeding {min(100, SCHOOLS):,} schools"):
            _say("sample schools through the services")
            started = time.perf_counter()
            samples = seed.create_samples()
            sample_seconds = time.perf_counter() - started
            _say(f"samples done in {sample_seconds:.1f} s; cloning to {min(100, SCHOOLS)}")
            first = seed.clone_schools(samples=samples, total=min(100, SCHOOLS) - len(samples))
            connections.close_all()
        with phase("web: app servers and logins"):
            _say("starting the app servers")
            bench.start_servers()
            rows = targets.rotation(targets.school_rows())
            bench.static_path, landing_bytes = _static_path(
                bench.port, targets.host_of(rows[0].slug, bench.port)
            )
            bench.notes.append(
                f"A landing page is {landing_bytes / 1024:.0f} KiB; each web process may keep "
                f"{PROCESS_CACHE_MB} MiB of visitor pages in memory (PUBLIC_PROCESS_CACHE_MB, "
                "the default; what they held after the visitor warm-up is under *Warm-up "
                "passes*)."
            )
            _say("logging in")
            bench.log_in(rows)
        sets = [c for c in (1, 100) if c <= len(rows)]
        ordered = sorted(rows, key=lambda r: r.school_id)  # the 1-school set: the first sample
        for count in sets:
            _say(f"measuring {count} schools")
            subset = ordered[:count]
            bench.measure_set(targets.rotation(subset))
        second = None
        if SCHOOLS > 100:
            with phase(f"web: seeding {SCHOOLS:,} schools"):
                _say(f"cloning to {SCHOOLS} schools")
                second = seed.clone_schools(samples=samples, total=SCHOOLS - len(ordered))
                rows = targets.rotation(targets.school_rows())
                _say(f"sessions for {len(rows)} schools")
                bench.log_in(rows)
            _say(f"measuring {len(rows)} schools, and {len(ordered)} beside them")
            bench.measure_set(rows, beside=targets.rotation(ordered[:100]))
        _say("writing the report")
        lines += _seeding_lines(samples, sample_seconds, first, second)
        stopping = time.monotonic()
    bench.phases.add("web: stopping the servers", time.monotonic() - stopping)
    measurements = bench.measurements
    with phase("web: chart and report"):
        report.chart(measurements, CHART)
    lines += [
        "",
        "### Targets",
        "",
        report.summary_table(measurements),
        "",
        "### Every run",
        "",
        report.results_table(measurements),
        "",
        f"![latency against school count]({CHART.name})",
        "",
        "### p95 at the most schools against 100 schools",
        "",
        *report.growth_lines(measurements),
        "",
        "How far two runs of the same page drift apart on this machine within one set:",
        "",
        *report.noise_lines(measurements),
        "",
        "### The signed-in ceiling",
        "",
        *report.ceiling_lines(measurements),
        "",
        "### Warm-up passes (unrecorded: the set's visitor warm-up, then before each page's run)",
        "",
        *[f"- {line}" for line in bench.warmups],
        "",
        "### How it ran",
        "",
        *[f"- {note}" for note in bench.notes],
        f"- wrk: {WRK_THREADS} threads, {CONNECTIONS} connections, {SECONDS:.0f} s per run "
        f"after the set's visitor warm-up (every page through each web process, at most "
        f"{WARMUP_VISITOR_SECONDS:.0f} s), for signed-in pages a warm-up pass over the "
        f"page's targets (at most {WARMUP_PASS_SECONDS:.0f} s, in wrk's order), and "
        f"{WARMUP_SECONDS:.0f} s of unrecorded wrk, Host (and Cookie) rotated "
        "round-robin over the set's schools in a fixed shuffled order.",
        f"- In the {SCHOOLS:,}-school set, each page with targets is measured a second time "
        f"right after its run, over the {min(100, SCHOOLS)} schools of the 100-school set "
        "(*beside* in the tables): the p95 target is judged on that pair, measured seconds "
        "apart on the same servers and database; the ratio to the 100-school set, measured "
        "minutes earlier on a database a hundredth the size, is shown next to it.",
        "- How to read this table: README, section *Benchmarks*.",
    ]
    return "\n".join(lines)


def _seeding_lines(
    samples: Sequence[seed.Sample],
    sample_seconds: float,
    first: seed.CloneStats,
    second: seed.CloneStats | None,
) -> list[str]:
    def rows(stats: seed.CloneStats) -> str:
        return ", ".join(f"{table} {n:,}" for table, n in sorted(stats.rows.items()))

    out = [
        "### Seeding",
        "",
        f"- {len(samples)} sample schools through the real services "
        f"({', '.join(s.slug for s in samples)}): {sample_seconds:.1f} s.",
        f"- Cloned to {len(samples) + first.schools:,} schools (bulk INSERT … SELECT as "
        f"the schema owner): {first.seconds:.1f} s ({rows(first)}).",
    ]
    if second is not None:
        total = len(samples) + first.schools + second.schools
        out.append(f"- Cloned to {total:,} schools: {second.seconds:.1f} s ({rows(second)}).")
    return out
