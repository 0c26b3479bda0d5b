#!/usr/bin/env bash
# Validates packaging/ without running systemd as PID 1 (our machines do not):
#   1. systemd-analyze verify on packaging/cinder.service, in a scratch root holding the unit, the
#      binary at /usr/local/bin/cinder and the distribution's units (verify checks that every
#      Exec*= command exists and that the unit loads with its dependencies);
#   2. systemd-analyze security --offline: the hardening's exposure score must be below 2.0 ("OK");
#   3. cinder checkconfig accepts packaging/cinder.json (its static_dir pointed at a scratch copy).
# The sd_notify messages themselves are tested for real by tests/integration/42_systemd_notify.test.mjs.
#   scripts/systemd-check.sh [--bin build/server/cinder]
set -euo pipefail
cd "$(dirname "$0")/.."

bin=build/server/cinder
if [ "${1:-}" = "--bin" ]; then bin="$2"; fi
[ -x "$bin" ] || { echo "systemd-check: $bin is not built" >&2; exit 2; }
command -v systemd-analyze >/dev/null || { echo "systemd-check: systemd-analyze missing (Debian: systemd)" >&2; exit 2; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
install -m 0755 "$bin" "$root/usr/local/bin/cinder"
cp /bin/kill "$root/bin/kill"
cp packaging/cinder.service "$root/etc/systemd/system/cinder.service"

failures=0
if systemd-analyze verify --root="$root" cinder.service; then
    echo "ok   systemd-analyze verify cinder.service"
else
    echo "FAIL systemd-analyze verify cinder.service"; failures=$((failures + 1))
fi

score=$(systemd-analyze security --offline=true --root="$root" cinder.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for cinder.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s < 2.0) }'; then
    echo "ok   systemd-analyze security: exposure $score"
else
    echo "FAIL systemd-analyze security: exposure '${score}' (want < 2.0)"; failures=$((failures + 1))
fi

mkdir -p "$root/dashboard"
sed "s|\"/usr/local/share/cinder/dashboard\"|\"$root/dashboard\"|" packaging/cinder.json >"$root/cinder.json"
if "$bin" checkconfig -c "$root/cinder.json"; then
    echo "ok   cinder checkconfig packaging/cinder.json"
else
    echo "FAIL cinder checkconfig packaging/cinder.json"; failures=$((failures + 1))
fi

if [ "$failures" != 0 ]; then
    echo "systemd-check: $failures failed"
    exit 1
fi
echo "systemd-check: all checks passed"
