"""Container health check: is this container's service doing its job?

    python deploy/healthcheck.py                 # web: GET /healthz on 127.0.0.1:$PORT is 200
    python deploy/healthcheck.py --process db_worker
                                                 # worker: a db_worker process is running

The image's HEALTHCHECK runs the first form (the web server is the image's default
command); compose.yaml gives the worker the second. Kubernetes ignores HEALTHCHECK and
probes /healthz and /readyz itself (deploy/k8s/). The slim image has no curl, hence a
few lines of standard library; exit 0 is healthy, 1 is not, with the reason on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT_SECONDS = 5.0


def check_http(path: str) -> str | None:
    """None when the local web server answers 200 on ``path``, else why not."""
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        return f"{url}: {exc}"
    return None if status == 200 else f"{url}: HTTP {status}"


def check_process(needle: str, proc: Path = Path("/proc")) -> str | None:
    """None when a process other than this one has ``needle`` among its arguments."""
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # it exited meanwhile, or is not ours to read
            continue
        if needle.encode() in argv:
            return None
    return f"no running process with the argument {needle!r}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default="/healthz", help="web: the path to GET")
    parser.add_argument("--process", help="check for a process with this argument instead")
    args = parser.parse_args(argv)
    problem = check_process(args.process) if args.process else check_http(args.path)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
