"""Driving Debian's ``wrk`` with the host-rotating Lua script, and reading its result.

A *target* is one request shape: the Host header (which school), the path and the
Cookie header (a logged-in session, or none). ``rotate.lua`` walks a list of them
round-robin; its ``done()`` prints a ``WRK_RESULT {json}`` line that ``parse_output``
reads, so nothing depends on the layout of wrk's human-readable summary.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("rotate.lua")
RESULT_PREFIX = "WRK_RESULT "


class WrkError(RuntimeError):
    """wrk could not run, or printed no result line."""


@dataclass(frozen=True)
class Target:
    host: str
    path: str
    cookie: str = ""

    def as_line(self) -> str:
        for value in (self.host, self.path, self.cookie):
            if "\t" in value or "\n" in value or "\r" in value:
                raise ValueError(f"a target field cannot hold tabs or line breaks: {value!r}")
        if not self.path.startswith("/"):
            raise ValueError(f"a target path starts with '/': {self.path!r}")
        return f"{self.host}\t{self.path}\t{self.cookie}"


def write_targets(path: Path, targets: Iterable[Target]) -> int:
    """Write the targets file ``rotate.lua`` reads; returns how many targets it holds."""
    lines = [target.as_line() for target in targets]
    if not lines:
        raise ValueError("no targets")
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    bytes: int
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int  # responses with a status of 400 or more (wrk: "Non-2xx or 3xx")
    timeouts: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @property
    def throughput(self) -> float:
        """Requests per second over the run (answered requests, errors included)."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def socket_errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors


def parse_output(text: str) -> WrkResult:
    """The result of one wrk run from its standard output (the last result line wins)."""
    lines = [line for line in text.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise WrkError("wrk printed no WRK_RESULT line:\n" + text[-2000:])
    data = json.loads(lines[-1][len(RESULT_PREFIX) :])

    def ms(key: str) -> float:
        return float(data[key]) / 1000.0

    return WrkResult(
        requests=int(data["requests"]),
        duration_s=float(data["duration_us"]) / 1_000_000,
        bytes=int(data["bytes"]),
        connect_errors=int(data["connect_errors"]),
        read_errors=int(data["read_errors"]),
        write_errors=int(data["write_errors"]),
        status_errors=int(data["status_errors"]),
        timeouts=int(data["timeouts"]),
        p50_ms=ms("p50_us"),
        p90_ms=ms("p90_us"),
        p95_ms=ms("p95_us"),
        p99_ms=ms("p99_us"),
        mean_ms=ms("mean_us"),
        max_ms=ms("max_us"),
    )


def wrk_binary() -> str:
    found = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
    if not found:
        raise WrkError("wrk is not installed: run `make system-deps` (Debian package wrk)")
    return found


def command(
    base_url: str,
    targets_file: Path,
    *,
    seconds: float,
    threads: int = 2,
    connections: int = 8,
    timeout_s: float = 10.0,
) -> list[str]:
    return [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        str(targets_file),
        str(threads),
    ]


def run(
    base_url: str,
    targets_file: Path,
    *,
    seconds: float,
    threads: int = 2,
    connections: int = 8,
) -> WrkResult:
    """One bounded wrk run (loopback URL); raises WrkError when wrk fails."""
    cmd = command(base_url, targets_file, seconds=seconds, threads=threads, connections=connections)
    try:
        # subprocess.run kills wrk on any exception (Ctrl-C included) before re-raising.
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish: {' '.join(cmd)}") from exc
    if done.returncode != 0:
        raise WrkError(f"wrk exited {done.returncode}: {done.stderr.strip() or done.stdout[-500:]}")
    return parse_output(done.stdout)
