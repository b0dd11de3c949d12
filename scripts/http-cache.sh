#!/usr/bin/env bash
# Real HTTP cache libraries (cachecontrol, requests-cache, hishel; pinned) in front of a
# live spcm: one session each switches tenants, users and representations on the same
# URLs, and every answer must be the one its caller asked for (scripts/http_cache_check.py).
#
#   scripts/http-cache.sh [SPCM_BINARY]     # default: target/debug/spcm (build it first)
#
# The libraries live in a virtual environment under target/; the server runs on a free
# loopback port over a temporary SQLite database; tenants, users and tokens are made with
# the CLI. Exit status 1 when a check fails.
set -euo pipefail

REQUESTS_VERSION=2.34.2
CACHECONTROL_VERSION=0.14.4
REQUESTS_CACHE_VERSION=1.3.3
HISHEL_VERSION=2.0.0
HTTPX_VERSION=0.28.1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SPCM="${1:-target/debug/spcm}"
[[ -x "$SPCM" ]] || { echo "no $SPCM: build it first (cargo build)" >&2; exit 2; }
SPCM=$(realpath "$SPCM")
VENV="$ROOT/target/http-cache-venv"

say() { printf '==> %s\n' "$*" >&2; }

# ---- 1. the libraries, pinned, in their own venv ----------------------------------------------
PINS=("requests==$REQUESTS_VERSION" "cachecontrol==$CACHECONTROL_VERSION" "requests-cache==$REQUESTS_CACHE_VERSION"
    "hishel==$HISHEL_VERSION" "httpx==$HTTPX_VERSION")
installed=$("$VENV/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null | tr '[:upper:]_' '[:lower:]-' || true)
missing=0
for pin in "${PINS[@]}"; do
    grep -qx "$pin" <<<"$installed" || missing=1
done
if ((missing)); then
    say "installing ${PINS[*]} into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
fi

# ---- 2. spcm on a port it picks itself, over a fresh database --------------------------------
source "$ROOT/scripts/serve-lib.sh"
export SPCM_DATABASE_URL="sqlite://$TMP/spcm.db" SPCM_BOOTSTRAP_TENANT=default
export SPCM_BOOTSTRAP_PASSWORD="http-cache-$RANDOM$RANDOM"
start_spcm
say "spcm ready on $BASE"

# ---- 3. two tenants made alike with the CLI --------------------------------------------------
READ=SPCM_PROVISION_PROFILE_READ_PERMISSION
CREATE=SPCM_PROVISION_PROFILE_CREATE_PERMISSION
SETUP="{"
for tenant in acme zeta; do
    ops="$tenant-ops-$RANDOM$RANDOM"
    writer="$tenant-writer-$RANDOM$RANDOM"
    "$SPCM" tenant add "$tenant" >/dev/null
    "$SPCM" user add --tenant "$tenant" --username ops --permission "$READ" --permission "$CREATE" <<<"$ops" >/dev/null
    "$SPCM" user add --tenant "$tenant" --username writer --permission "$CREATE" <<<"$writer" >/dev/null
    read_token=$("$SPCM" token create --tenant "$tenant" --permission CATALOGUE_READ_PERMISSION)
    write_token=$("$SPCM" token create --tenant "$tenant" --permission CATALOGUE_WRITE_PERMISSION)
    SETUP+="\"$tenant\": {\"ops\": \"$ops\", \"writer\": \"$writer\", \"read_token\": \"$read_token\", \"write_token\": \"$write_token\"},"
done
printf '%s' "${SETUP%,}}" >"$TMP/setup.json"
chmod 600 "$TMP/setup.json"

# ---- 4. the libraries, one session each --------------------------------------------------------
say "running scripts/http_cache_check.py: cachecontrol $CACHECONTROL_VERSION, requests-cache $REQUESTS_CACHE_VERSION, hishel $HISHEL_VERSION"
if ! "$VENV/bin/python" scripts/http_cache_check.py "$BASE" "$TMP/setup.json"; then
    echo "--- spcm's log (last lines)" >&2
    tail -n 20 "$TMP/server.log" >&2
    exit 1
fi
