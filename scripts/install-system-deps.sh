#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only when they are missing.
#
#   chromium          -> /usr/bin/chromium, driven by Playwright in the e2e tests
#   gettext           -> xgettext/msgfmt for makemessages and compilemessages (scripts/messages.py)
#   fonts-liberation  -> metric-compatible fonts so screenshots render the same everywhere
#   wrk               -> HTTP load generator driven by `make bench` (web scenarios)
#   caddy             -> the TLS edge (on-demand certificates), started on loopback by tests
#   dnsmasq           -> a real DNS server on loopback for custom-domain verification tests
#   prometheus        -> promtool, which checks and unit-tests deploy/prometheus/alerts.yml
#                        (the Prometheus server it also brings is never started)
#   postgresql-client -> pg_dump and pg_restore for the backup-and-restore drill
#   docker-compose    -> `docker-compose config` validates compose.yaml (no daemon needed)
#   libnss3-tools     -> certutil: the production smoke test makes Chromium trust Caddy's
#                        local CA in an NSS database of its own
#
# Idempotent: when everything is present it only prints a line and exits 0 without
# touching apt. Runs as root in CI; as another user it uses sudo when available.
set -euo pipefail

PACKAGES=(chromium fonts-liberation wrk caddy dnsmasq prometheus postgresql-client docker-compose libnss3-tools gettext)

is_installed() {
    # dpkg-query prints "install ok installed" for a fully installed package.
    local status
    status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]]
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: this script needs a Debian/Ubuntu system (dpkg-query, apt-get)." >&2
    echo "install-system-deps: install these packages by other means: ${PACKAGES[*]}" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! is_installed "$pkg"; then
        missing+=("$pkg")
    fi
done
# The package being installed is not enough if the binary the tests launch is absent.
if [[ ! -x /usr/bin/chromium ]] && [[ " ${missing[*]} " != *" chromium "* ]]; then
    missing+=(chromium)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-system-deps: already installed: ${PACKAGES[*]}"
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-system-deps: missing packages: ${missing[*]}" >&2
    echo "install-system-deps: not running as root and sudo is not available." >&2
    echo "install-system-deps: run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "install-system-deps: installing: ${missing[*]}"
"${SUDO[@]}" apt-get update
# A policy-rc.d that answers 101 keeps apt from starting the dnsmasq, caddy and
# prometheus system services: the tests start their own caddy and dnsmasq on loopback
# high ports (and need only promtool of prometheus), and a daemon on :53, :80 or :9090
# is not wanted on a CI runner. An existing policy file is left alone.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    made_policy=1
fi
status=0
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}" || status=$?
if [[ -n "$made_policy" ]]; then "${SUDO[@]}" rm -f "$policy"; fi
if [[ $status -ne 0 ]]; then exit "$status"; fi

if [[ ! -x /usr/bin/chromium ]]; then
    echo "install-system-deps: chromium was installed but /usr/bin/chromium is missing." >&2
    exit 1
fi
echo "install-system-deps: done"
