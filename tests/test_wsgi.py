"""The WSGI entry point (courseplatform.wsgi, what granian serves) freezes what it loaded
out of the garbage collector's reach, so a full collection in a web process walks only
what requests created: a full collection of the loaded app took ~80 ms of CPU, a pause
for every request of the process (README "Benchmarks")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, time
import courseplatform.wsgi
frozen = gc.get_freeze_count()
started = time.process_time()
gc.collect()
print(json.dumps({"frozen": frozen, "tracked": len(gc.get_objects()),
                  "full_ms": (time.process_time() - started) * 1000}))
"""


def test_the_loaded_app_is_frozen_out_of_garbage_collections() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "courseplatform.settings"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300, check=True,
    )  # fmt: skip
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    # Django and the apps are tens of thousands of objects; what a collection still
    # walks afterwards is a small fraction of them.
    assert probe["frozen"] > 30_000
    assert probe["tracked"] < probe["frozen"] / 4
