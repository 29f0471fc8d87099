#!/usr/bin/env bash
# Web server and task worker together; Ctrl-C (or SIGTERM) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
PY=.venv/bin/python
export PLATFORM_PORT="${PLATFORM_PORT:-$PORT}"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

echo "Platform: http://localhost:${PORT}/   (schools at http://<slug>.localhost:${PORT}/)"
"$PY" manage.py runserver "0.0.0.0:${PORT}" --noreload &
pids+=($!)
"$PY" manage.py db_worker --queue-name '*' &
pids+=($!)
# Stop everything as soon as either process exits.
wait -n
