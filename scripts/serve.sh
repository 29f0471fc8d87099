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
# Video watchdog: every 60 s re-queue transcodes whose worker stopped sending heartbeats.
# Each run is bounded (timeout); the loop stops with the others (TERM ends its sleep too).
(
  s=""
  trap 'kill "$s" 2>/dev/null; exit 0' INT TERM
  while true; do
    sleep 60 & s=$!; wait "$s"
    timeout 120 "$PY" manage.py reclaim_stalled_videos --quiet || true
  done
) &
pids+=($!)
# Stop everything as soon as either process exits.
wait -n
