#!/usr/bin/env bash
# Generates a Python client from the OpenAPI document that a live spcm serves, with
# openapi-python-client, and runs the provisioning-profile walk-through through it
# (scripts/python_client_flow.py): what an integrator's generated client meets.
#
#   scripts/python-client.sh [SPCM_BINARY]     # default: target/debug/spcm (build it first)
#
# The generator and the client live in a virtual environment under target/; the server
# runs on a free loopback port over a temporary SQLite database. Exit status 1 when the
# generator warns about anything but XML request bodies (which it does not support; the
# client sends JSON), or when a step of the walk-through fails.
set -euo pipefail

GENERATOR_VERSION=0.29.1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SPCM="${1:-target/debug/spcm}"
[[ -x "$SPCM" ]] || { echo "no $SPCM: build it first (cargo build)" >&2; exit 2; }
SPCM=$(realpath "$SPCM")
VENV="$ROOT/target/python-client-venv"
CLIENT_DIR="$ROOT/target/python-client"

say() { printf '==> %s\n' "$*" >&2; }

# ---- 1. the generator, pinned, in its own venv ------------------------------------------------
if ! "$VENV/bin/openapi-python-client" --version 2>/dev/null | grep -q "version: $GENERATOR_VERSION\$"; then
    say "installing openapi-python-client $GENERATOR_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "openapi-python-client==$GENERATOR_VERSION"
fi

# ---- 2. spcm on a port it picks itself, over a fresh database --------------------------------
source "$ROOT/scripts/serve-lib.sh"
PASSWORD="python-client-$RANDOM$RANDOM"
export SPCM_DATABASE_URL="sqlite://$TMP/spcm.db" SPCM_BOOTSTRAP_TENANT=default SPCM_BOOTSTRAP_PASSWORD="$PASSWORD"
start_spcm
say "spcm ready on $BASE"

# ---- 3. the client, generated from the served document ---------------------------------------
"$VENV/bin/python" - "$BASE/api-docs/openapi.json" "$TMP/openapi.json" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as answer:
    open(sys.argv[2], "wb").write(answer.read())
PY
# No post hooks: they would run ruff, which the generated code does not need.
printf 'post_hooks: []\n' >"$TMP/generator.yaml"
say "generating the client with openapi-python-client $GENERATOR_VERSION"
"$VENV/bin/openapi-python-client" generate --path "$TMP/openapi.json" --output-path "$CLIENT_DIR" \
    --meta setup --config "$TMP/generator.yaml" --overwrite >"$TMP/generator.log" 2>&1 ||
    { cat "$TMP/generator.log" >&2; echo "the generator failed" >&2; exit 1; }
"$VENV/bin/python" - "$TMP/generator.log" <<'PY'
import re, sys
log = open(sys.argv[1]).read()
# Each warning is a block: "WARNING parsing <operation> …", then the reason.
blocks = re.split(r"\n(?=WARNING )", log)
unexpected = [b for b in blocks[1:] if "Unsupported content type application/xml" not in b]
if unexpected or re.search(r"^(ERROR|Error)", log, re.M):
    print(log, file=sys.stderr)
    sys.exit("the generator warned about more than XML request bodies (above)")
print(f"generated; {len(blocks) - 1} XML request bodies left to JSON", file=sys.stderr)
PY
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$CLIENT_DIR"

# ---- 4. tokens and the walk-through ------------------------------------------------------------
WRITE_TOKEN=$("$SPCM" token create --tenant default --permission CATALOGUE_WRITE_PERMISSION)
READ_TOKEN=$("$SPCM" token create --tenant default --permission CATALOGUE_READ_PERMISSION --expires-in 3600)
say "running scripts/python_client_flow.py through the generated client"
if ! "$VENV/bin/python" scripts/python_client_flow.py "$BASE" default "$PASSWORD" "$WRITE_TOKEN" "$READ_TOKEN" \
    docs/examples/catalogue.json; then
    echo "--- spcm's log (last lines)" >&2
    tail -n 20 "$TMP/server.log" >&2
    exit 1
fi
