#!/usr/bin/env bash
# Validates docker/ without a Docker engine (none runs on our machines), as far as that is possible:
#
#   1. Dockerfile: bookworm build stage, bookworm-slim runtime, a non-root USER, HEALTHCHECK, STOPSIGNAL
#      SIGTERM, and every file it COPYs from the context exists. With --stages: the build and dashboard
#      stages replayed on this host from exactly what they COPY (their RUN lines but apt-get).
#   2. docker-compose.yml parses (python3-yaml) and has what it promises: two cinder nodes built from
#      docker/Dockerfile on Redis (redis://redis:6379/0), Redis, ports, health checks, start order.
#   3. The build stage's and the runtime stage's package lists resolve with apt on this bookworm host
#      (apt-get install --dry-run).
#   4. The image's HEALTHCHECK command, run as written, passes against a running cinder and fails
#      against a closed port.
#   5. With --rootfs: a bookworm minbase root from debootstrap (what bookworm-slim is built from) gets
#      the runtime packages with apt-get in a chroot, the built cinder and the dashboard are copied in,
#      the binary's libraries all resolve there, `cinder version` runs as an unprivileged user, and a
#      cinder started in the chroot serves /health, /ready and /metrics and passes the HEALTHCHECK.
#
# What this cannot check: that the image builds (the node:20 dashboard stage, COPY --from, layer
# caching), that the container starts under a real runtime (users, signals through docker stop, the
# HEALTHCHECK as Docker runs it), and compose's networking between containers. Those need an engine.
#
#   scripts/docker-check.sh [--stages] [--rootfs] [--rootfs-dir DIR] [--bin build/server/cinder]
# Needs root for --rootfs (debootstrap, chroot, mounts); installs python3-yaml and debootstrap if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

rootfs=0
stages=0
rootfs_dir=/tmp/cinder-rootfs
bin=build/server/cinder
while [ $# -gt 0 ]; do
    case "$1" in
    --rootfs) rootfs=1 ;;
    --stages) stages=1 ;;
    --rootfs-dir) rootfs_dir="$2"; shift ;;
    --bin) bin="$2"; shift ;;
    *) echo "usage: $0 [--stages] [--rootfs] [--rootfs-dir DIR] [--bin PATH]" >&2; exit 2 ;;
    esac
    shift
done

failures=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { # check "description" command...
    local what="$1"; shift
    if "$@" >/tmp/docker-check.$$ 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' /tmp/docker-check.$$ | tail -20; fi
    rm -f /tmp/docker-check.$$
}
sudo_cmd=""
if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
need_pkg() { # install Debian packages that are missing
    local missing=()
    for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "docker-check: installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

dockerfile=docker/Dockerfile
compose=docker/docker-compose.yml
# ARG NAME="a b \
#     c" -> "a b c"
arg_list() {
    awk -v name="$1" '
        $0 ~ "^ARG " name "=" { on = 1; sub("^ARG " name "=\"?", "") }
        on { line = $0; cont = sub(/\\$/, "", line); sub(/"$/, "", line); printf "%s ", line; if (!cont) exit }
    ' "$dockerfile" | tr -s ' ' | sed 's/^ //; s/ $//'
}
runtime_packages=$(arg_list RUNTIME_PACKAGES)
build_packages=$(arg_list BUILD_PACKAGES)
# The HEALTHCHECK's exec form, as a JSON array (the continuation line after "CMD").
healthcheck_json=$(awk '/^HEALTHCHECK/ { on = 1 } on && /CMD \[/ { sub(/.*CMD /, ""); print; exit }' "$dockerfile")

# ---- 1. Dockerfile ------------------------------------------------------------------------------------
dockerfile_static() {
    grep -q '^FROM debian:bookworm AS build' "$dockerfile" || { echo "no bookworm build stage"; return 1; }
    [ "$(grep '^FROM ' "$dockerfile" | tail -1)" = "FROM debian:bookworm-slim" ] || { echo "runtime is not bookworm-slim"; return 1; }
    local user
    user=$(grep '^USER ' "$dockerfile" | tail -1 | awk '{print $2}')
    case "$user" in "" | root | 0) echo "no non-root USER"; return 1 ;; esac
    grep -q '^HEALTHCHECK ' "$dockerfile" || { echo "no HEALTHCHECK"; return 1; }
    grep -q '^STOPSIGNAL SIGTERM' "$dockerfile" || { echo "no STOPSIGNAL SIGTERM"; return 1; }
    if [ -z "$runtime_packages" ] || [ -z "$build_packages" ]; then echo "package lists not found"; return 1; fi
    python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert a[0]=="bash"' "$healthcheck_json" ||
        { echo "HEALTHCHECK is not an exec-form bash command: $healthcheck_json"; return 1; }
    # every COPY from the context (not --from=stage) names something that exists
    local src
    while read -r src; do
        [ -e "$src" ] || { echo "COPY source missing: $src"; return 1; }
    done < <(grep -E '^COPY ' "$dockerfile" | grep -v -- '--from=' | awk '{for (i = 2; i < NF; i++) print $i}' |
             sed 's|^\./||')
    echo "runtime: $runtime_packages"
}
check "Dockerfile: bookworm -> bookworm-slim, non-root, HEALTHCHECK, STOPSIGNAL, COPY sources exist" dockerfile_static

# The build stages, replayed on this host (bookworm, the same -dev packages): each stage's COPY lines
# from the context into an empty directory, then its RUN lines there (apt-get ones skipped: the host has
# the packages). Proves the context the image gets is enough to build cinder and the dashboard. The
# dashboard stage runs npm ci (the npm registry) and node from the host instead of node:20.
stages_check() {
    python3 - "$dockerfile" "$1" <<'PY'
import os, re, shutil, subprocess, sys, tempfile
dockerfile, want = sys.argv[1], sys.argv[2]
lines, cur = [], ""
for raw in open(dockerfile):
    line = raw.rstrip("\n")
    if line.lstrip().startswith("#") and not cur:
        continue
    if line.endswith("\\"):
        cur += line[:-1] + " "
        continue
    cur += line
    if cur.strip():
        lines.append(" ".join(cur.split()))
    cur = ""
stage, workdir, args, ran = None, "/", {}, 0
root = tempfile.mkdtemp(prefix=f"docker-check-{want}-")
try:
    for l in lines:
        op, _, rest = l.partition(" ")
        if op == "FROM":
            m = re.search(r" AS (\S+)$", rest)
            stage, workdir, args = (m.group(1) if m else None), "/", {}
            continue
        if stage != want:
            continue
        if op == "WORKDIR":
            workdir = rest
            os.makedirs(root + workdir, exist_ok=True)
        elif op == "ARG":
            k, _, v = rest.partition("=")
            args[k] = v.strip('"')
        elif op == "COPY" and "--from=" not in rest:
            *srcs, dest = rest.split()
            dest = dest if dest.startswith("/") else os.path.join(workdir, dest)
            for src in srcs:
                if os.path.isdir(src):
                    shutil.copytree(src, root + dest, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("node_modules", "vendor"))
                else:
                    os.makedirs(root + dest if dest.endswith("/") else os.path.dirname(root + dest), exist_ok=True)
                    shutil.copy(src, root + dest)
        elif op == "RUN" and not rest.startswith("apt-get"):
            print(f"[{want}] RUN {rest}", flush=True)
            subprocess.run(["bash", "-c", rest], cwd=root + workdir, check=True, env={**os.environ, **args})
            ran += 1
    assert ran, f"stage {want}: nothing run"
finally:
    shutil.rmtree(root, ignore_errors=True)
PY
}
if [ "$stages" = 1 ]; then
    check "build stage replayed on what it COPYs: cmake builds cinder, cinder version runs" stages_check build
    check "dashboard stage replayed on what it COPYs: npm ci --omit=dev, build-dashboard" stages_check dashboard
else
    echo "skip replaying the build stages (--stages)"
fi

# ---- 2. compose ---------------------------------------------------------------------------------------
need_pkg python3-yaml
compose_check() {
    python3 - "$compose" <<'EOF'
import os, sys, yaml
path = sys.argv[1]
doc = yaml.safe_load(open(path))
s = doc["services"]
assert set(s) >= {"cinder1", "cinder2", "redis"}, f"services: {sorted(s)}"
ports = set()
for n in ("cinder1", "cinder2"):
    svc = s[n]
    b = svc["build"]
    df = os.path.normpath(os.path.join(os.path.dirname(path), b["context"], b["dockerfile"]))
    assert os.path.isfile(df), f"{n}: {df} missing"
    env = svc["environment"]
    assert env["CINDER_REDIS"] == "redis://redis:6379/0", env
    assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
    hc = svc["healthcheck"]["test"]
    assert hc[0] == "CMD" and "/ready" in " ".join(hc), hc
    for p in svc["ports"]:
        host, container = str(p).split(":")
        assert container == "4000", p
        assert host not in ports, f"host port {host} twice"
        ports.add(host)
    assert svc.get("stop_grace_period"), f"{n}: no stop_grace_period"
assert s["redis"]["healthcheck"]["test"], "redis health check"
assert s["redis"]["image"].startswith("redis:"), s["redis"]["image"]
print("services:", ", ".join(sorted(s)), "; host ports:", ", ".join(sorted(ports)))
EOF
}
check "docker-compose.yml parses: two cinder nodes on Redis, ports, health checks, start order" compose_check
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
    check "docker compose config" docker compose -f "$compose" config -q
else
    echo "skip docker compose config (no compose plugin here)"
fi

# ---- 3. apt -------------------------------------------------------------------------------------------
if grep -q 'VERSION_CODENAME=bookworm' /etc/os-release; then
    # shellcheck disable=SC2086 # word splitting of the lists is intended
    check "runtime packages resolve with apt ($runtime_packages)" apt-get install --dry-run -qq $runtime_packages
    # shellcheck disable=SC2086
    check "build packages resolve with apt" apt-get install --dry-run -qq $build_packages
else
    echo "skip apt checks: this host is not Debian bookworm"
fi

# ---- 4. the HEALTHCHECK command -------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
run_healthcheck() { # run_healthcheck PORT [chroot-prefix...]: the HEALTHCHECK's argv with CINDER_PORT=PORT
    local port="$1"; shift
    local -a argv
    mapfile -t argv < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "$healthcheck_json")
    CINDER_PORT="$port" timeout 5 "$@" "${argv[@]}"
}
healthcheck_host() {
    [ -x "$bin" ] || { echo "$bin: not built"; return 1; }
    local port pid rc=0
    port=$(free_port)
    "$bin" --bind 127.0.0.1 --port "$port" --static-dir '' --log-level warn &
    pid=$!
    for _ in $(seq 50); do run_healthcheck "$port" && break; sleep 0.1; done
    run_healthcheck "$port" || { echo "HEALTHCHECK failed against a running cinder"; rc=1; }
    kill "$pid"; wait "$pid" 2>/dev/null || true
    if run_healthcheck "$port"; then echo "HEALTHCHECK passed against a closed port"; rc=1; fi
    return "$rc"
}
check "HEALTHCHECK command passes against cinder, fails against a closed port" healthcheck_host

# ---- 5. a bookworm root ---------------------------------------------------------------------------------
if [ "$rootfs" = 1 ]; then
    [ "$(id -u)" = 0 ] || { echo "--rootfs needs root (debootstrap, chroot)"; exit 2; }
    need_pkg debootstrap
    mounted=()
    cleanup() {
        local m
        for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
        if [ -n "${chroot_pid:-}" ]; then kill "$chroot_pid" 2>/dev/null || true; fi
    }
    trap cleanup EXIT
    make_root() {
        if [ ! -x "$rootfs_dir/usr/bin/apt-get" ]; then
            rm -rf "$rootfs_dir"
            debootstrap --variant=minbase bookworm "$rootfs_dir" http://deb.debian.org/debian || return 1
        fi
        # the same sources as the debian:bookworm-slim image
        cat >"$rootfs_dir/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
        cp /etc/resolv.conf "$rootfs_dir/etc/resolv.conf" || return 1
    }
    check "debootstrap --variant=minbase bookworm $rootfs_dir" make_root
    if [ -d "$rootfs_dir/proc" ] && mount -t proc proc "$rootfs_dir/proc"; then mounted+=("$rootfs_dir/proc"); fi
    in_root() { chroot "$rootfs_dir" "$@"; }
    install_runtime() {
        in_root apt-get update -qq || return 1
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -qq --no-install-recommends $runtime_packages ||
            return 1
        in_root id cinder >/dev/null 2>&1 ||
            in_root useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cinder ||
            return 1
        install -m 0755 "$bin" "$rootfs_dir/usr/local/bin/cinder" || return 1
        mkdir -p "$rootfs_dir/usr/share/cinder" && rm -rf "$rootfs_dir/usr/share/cinder/dashboard" &&
            cp -r client-js/dashboard "$rootfs_dir/usr/share/cinder/dashboard"
    }
    check "chroot: apt-get install $runtime_packages; cinder and the dashboard copied in" install_runtime
    libs_resolve() {
        local out
        out=$(in_root ldd /usr/local/bin/cinder) || return 1
        if grep -i 'not found' <<<"$out"; then return 1; fi
        awk '{print $1}' <<<"$out" | tr '\n' ' '
    }
    check "chroot: every library of cinder resolves" libs_resolve
    check "chroot: cinder version as user cinder" in_root setpriv --reuid=cinder --regid=cinder --clear-groups /usr/local/bin/cinder version
    serve_in_root() {
        local port rc=0
        port=$(free_port)
        chroot --userspec=cinder:cinder "$rootfs_dir" env CINDER_PORT="$port" CINDER_BIND=127.0.0.1 \
            CINDER_STATIC_DIR=/usr/share/cinder/dashboard CINDER_LOG_LEVEL=warn /usr/local/bin/cinder serve &
        chroot_pid=$!
        for _ in $(seq 50); do run_healthcheck "$port" chroot "$rootfs_dir" >/dev/null 2>&1 && break; sleep 0.1; done
        run_healthcheck "$port" chroot "$rootfs_dir" || { echo "HEALTHCHECK in the root failed"; rc=1; }
        python3 - "$port" <<'EOF' || rc=1
import sys, urllib.request
port = sys.argv[1]
for path, want in (("/health", 200), ("/ready", 200), ("/metrics", 200), ("/", 200)):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
        body = r.read().decode()
        assert r.status == want, (path, r.status)
        if path == "/metrics":
            assert "cinder_build_info{version=" in body, body[:200]
        if path == "/":
            assert "<html" in body.lower(), body[:200]
print("served /health, /ready, /metrics and the dashboard")
EOF
        kill "$chroot_pid"; wait "$chroot_pid" 2>/dev/null || true
        chroot_pid=""
        return "$rc"
    }
    check "chroot: cinder serves /health, /ready, /metrics, the dashboard; the HEALTHCHECK passes" serve_in_root
fi

if [ "$failures" -gt 0 ]; then
    echo "docker-check: $failures check(s) failed"
    exit 1
fi
echo "docker-check: all checks passed"
