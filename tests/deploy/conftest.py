"""Shared helpers of the deploy tests: the repository root and the production entry
points the README documents (compose services, Kubernetes containers and the image's
default command must use these and nothing else)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

sys.path.insert(0, str(ROOT / "scripts"))
import serve  # noqa: E402  (scripts/serve.py: SERVICES, PERIODIC_COMMANDS)


def production_section() -> str:
    """README's "## Production" section, up to the next second-level heading."""
    text = README.read_text()
    start = text.index("\n## Production\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def documented_commands() -> set[str]:
    """Every container command README "Production" lists in its table of entry points:
    the backticked ``python ...`` commands of lines starting with ``| `python``."""
    commands = set()
    for line in production_section().splitlines():
        match = re.match(r"\|\s*`(python [^`]+)`", line)
        if match:
            commands.add(match.group(1).strip())
    return commands


def periodic_job_names() -> list[str]:
    return [name for name, _every in serve.PERIODIC_COMMANDS]
