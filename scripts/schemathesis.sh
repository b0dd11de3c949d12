#!/usr/bin/env bash
# Schemathesis against a live spcm, on both API faces (see docs/schemathesis.md).
#
#   scripts/schemathesis.sh            # build, start, seed, fuzz; exit 1 on any failure
#
# Knobs (environment):
#   ST_MAX_EXAMPLES   test cases per operation and phase     (default 50)
#   ST_MAX_TIME       time budget of the SPCM and catalogue runs, s (default 90;
#                     the import run gets half)
#   ST_QUIET=1        print only the summary, not the full schemathesis output
#   ST_SEED           hypothesis seed, for a reproducible run (default: random)
#   ST_NO_BUILD=1     use target/release/spcm as it is, without cargo build
#   ST_BINARY         test this spcm binary instead (no build), e.g. target/debug/spcm
#   ST_REPORT_DIR     where logs and reports go               (default target/schemathesis)
#
# Needs python3 (with venv and pip) and cargo; all traffic goes to 127.0.0.1.
set -euo pipefail

ST_VERSION=4.32.5
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv-schemathesis"
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-50}
MAX_TIME=${ST_MAX_TIME:-90}
REPORT_DIR=${ST_REPORT_DIR:-$ROOT/target/schemathesis}
PASSWORD="schemathesis-$RANDOM$RANDOM"

say() { printf '==> %s\n' "$*" >&2; }

# ---- 1. schemathesis in its own venv, pinned -------------------------------------------
if [[ ! -x "$VENV/bin/schemathesis" ]] || ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "version $ST_VERSION\$"; then
    say "installing schemathesis $ST_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
PY="$VENV/bin/python"

# ---- 2. the binary -------------------------------------------------------------------------
if [[ "${ST_NO_BUILD:-0}" != 1 && -z "${ST_BINARY:-}" ]]; then
    say "cargo build --release --bin spcm"
    cargo build --release --bin spcm --quiet
fi
SPCM="${ST_BINARY:-$ROOT/target/release/spcm}"
[[ -x "$SPCM" ]] || { echo "no $SPCM: build it first" >&2; exit 2; }

# ---- 3. a fresh database and server on a free loopback port --------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/spcm-schemathesis.XXXXXX")
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -f "$TMP/server.log" ]]; then
        mkdir -p "$REPORT_DIR" && cp "$TMP/server.log" "$REPORT_DIR/server.log" || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export SPCM_DATABASE_URL="sqlite://$TMP/s.db" SPCM_BIND="127.0.0.1:$PORT" SPCM_BOOTSTRAP_PASSWORD="$PASSWORD"
export SPCM_WORKERS=2 RUST_LOG=${RUST_LOG:-warn}
say "starting spcm on $BASE (database $TMP/s.db)"
"$SPCM" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

# ---- 4. seed: two profiles, a catalogue token, the sample catalogue -------------------------
# Waits for /health/ready, then creates the two profiles the sample catalogue names.
seed() {
    "$PY" - "$BASE" "$PASSWORD" "$TMP" <<'PY'
import base64, json, sys, time, urllib.request, urllib.error
base, password, tmp = sys.argv[1:4]

def call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

deadline = time.time() + 60
while True:
    try:
        if call("GET", "/health/ready")[0] == 200:
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("spcm did not become ready in 60 s")
    time.sleep(0.2)

basic = {"Authorization": "Basic " + base64.b64encode(f"admin:{password}".encode()).decode(), "tenant": "default"}
for profile in ({"name": "turkeySauce", "defaultProfile": False}, {"name": "chaCha", "defaultProfile": True}):
    status, body = call("POST", "/pcc/spcm/provisionProfile", profile, basic)
    if status != 201:
        sys.exit(f"seeding profile {profile['name']}: {status} {body[:300]!r}")
print("seeded 2 profiles", file=sys.stderr)
PY
}
seed
TOKEN=$("$SPCM" token create --tenant default --permission CATALOGUE_READ_PERMISSION --permission CATALOGUE_WRITE_PERMISSION)
[[ -n "$TOKEN" ]] || { echo "spcm token create printed nothing" >&2; exit 2; }
"$PY" - "$BASE" "$TOKEN" "$ROOT/docs/examples/catalogue.json" "$TMP/schemathesis.toml" <<'PY'
import json, sys, urllib.request, urllib.error
base, token, catalogue, config_out = sys.argv[1:5]
req = urllib.request.Request(base + "/v2/orgs/default/catalogue", data=open(catalogue, "rb").read(), method="PUT",
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        print("imported catalogue:", r.read().decode(), file=sys.stderr)
except urllib.error.HTTPError as e:
    sys.exit(f"catalogue import: {e.code} {e.read()[:500]!r}")

# Schemathesis configuration, one [[operations]] block per operation of the served document.
doc = json.load(open(catalogue))
bps = [b["id"] for b in doc["bundled_products"]]
sts = [st["id"] for b in doc["bundled_products"] for st in b.get("bundled_product_subs_types", [])]
bcps = [p["id"] for b in doc["bundled_products"] for st in b.get("bundled_product_subs_types", [])
        for p in st.get("bundled_commercial_products", [])]
dictionaries = {
    "orgs": ["default"],
    "profile_ids": [1, 2, 3, 4, 5],
    "bundled_products": bps,
    "subs_types": sts,
    "bundled_commercial_products": bcps,
    "base_profiles": [b["id"] for b in doc["base_profiles"]],
    "commercial_products": [c["id"] for c in doc["commercial_products"]],
    "mysim_ids": [v["mysim_service_id"] for v in doc["value_added_services"] if v.get("mysim_service_id")],
}
# Which dictionary feeds a parameter: by (path prefix, location, name); the first match wins.
BINDINGS = [
    ("/pcc/spcm/provisionProfile/{id}", "path", "id", "profile_ids"),
    ("/v2/", "path", "org_id", "orgs"),
    ("/v2/orgs/{org_id}/bundled_products/{id}", "path", "id", "bundled_products"),
    ("/v2/orgs/{org_id}/base_profiles/{id}", "path", "id", "base_profiles"),
    ("/v2/orgs/{org_id}/commercial_products/{id}", "path", "id", "commercial_products"),
    ("/v2/orgs/{org_id}/bundled_commercial_products/{id}", "path", "id", "bundled_commercial_products"),
    ("/v2/", "path", "bp_id", "bundled_products"),
    ("/v2/", "path", "bpst_id", "subs_types"),
    ("/v2/", "path", "bcp_id", "bundled_commercial_products"),
    ("/v2/", "query", "mysim_service_id", "mysim_ids"),
]
NEGATIVE_REJECTED = ["400", "401", "403", "404", "405", "406", "409", "412", "413", "415", "422", "428", "429", "5xx"]
POSITIVE_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
q = json.dumps
lines = [
    "# Generated by scripts/schemathesis.sh: see docs/schemathesis.md for the reasons.",
    "",
    "# 412 is both faces' documented answer to a body that fails validation (SPCM",
    "# `ValidationFailed`, catalogue import `ImportErrors`); schemathesis' default list does not know it.",
    "[checks.negative_data_rejection]",
    f"expected-statuses = {q(NEGATIVE_REJECTED)}",
    "",
    "# 422 is the SPCM default-profile rule (1001: delete the default, 1002: unset it): like 409, it",
    "# depends on the data already stored, not on the request alone. 412 stays a failure here: a",
    "# schema-valid SPCM body that fails field validation means the document lacks a constraint.",
    "[checks.positive_data_acceptance]",
    f"expected-statuses = {q(POSITIVE_ACCEPTED)}",
    "",
    "[dictionaries]",
]
lines += [f"{name} = {{ values = {q(values)} }}" for name, values in dictionaries.items()]
with urllib.request.urlopen(base + "/api-docs/openapi.json", timeout=10) as r:
    spec = json.load(r)
for path, item in spec["paths"].items():
    for method, op in item.items():
        if method not in ("get", "put", "post", "delete", "patch"):
            continue
        params = {}
        has_query = False
        for param in op.get("parameters", []):
            has_query |= param["in"] == "query"
            for prefix, location, name, dictionary in BINDINGS:
                if path.startswith(prefix) and param["in"] == location and param["name"] == name:
                    params[f"{location}.{name}"] = dictionary
                    break
        block = ["", "[[operations]]", f"include-name = {q(method.upper() + ' ' + path)}"]
        if has_query and "requestBody" not in op:
            # Both faces ignore query parameters they do not know (SPCM contract §2; the
            # value-added-services filters), so an extra one is not invalid input.
            block += ["[operations.generation]", "allow-extra-parameters = false"]
        if path == "/pcc/spcm/provisionProfile" and method in ("post", "put"):
            # A batch is applied item by item (contract §2, multi-status): an item that breaks
            # the item schema gets its own 412 inside a 207; the request is not refused whole.
            block += ["[operations.checks.negative_data_rejection]", "enabled = false"]
        if method == "put" and path == "/v2/orgs/{org_id}/catalogue":
            # A schema-valid document is still refused (412) when its cross-references do not
            # resolve (service ids, base-profile ids, profile names of the tenant) or its ids
            # repeat: JSON Schema cannot say that.
            block += ["[operations.checks.positive_data_acceptance]",
                      f"expected-statuses = {q(POSITIVE_ACCEPTED + ['412'])}"]
        if path == "/pcc/spcm/provisionProfile/{id}" and method in ("put", "delete"):
            # `If-Match` that names no current ETag of the profile is 412 (the body's 412
            # comes first): which ETag is current depends on the data stored, not on the
            # request, so no schema can tell a stale tag from a good one.
            block += ["[operations.checks.positive_data_acceptance]",
                      f"expected-statuses = {q(POSITIVE_ACCEPTED + ['412'])}"]
        if params:
            # With this probability a value is drawn from the seeded data, otherwise generated:
            # a random org_id only ever meets 401 and a random item id only ever meets 404.
            block.append("[operations.parameters]")
            block += [f"{q(key)} = {{ dictionary = {q(d)}, probability = 0.7 }}" for key, d in params.items()]
        if len(block) > 3:
            lines += block
open(config_out, "w").write("\n".join(lines) + "\n")
PY

# ---- 5. the runs ---------------------------------------------------------------------------
# The document under test is the one the server serves, unchanged.
mkdir -p "$REPORT_DIR"
cp "$TMP/schemathesis.toml" "$REPORT_DIR/schemathesis.toml"
COMMON=(
    --url "$BASE"
    # No --checks: every check is on by default, and a check named on the command line
    # would override the per-operation settings of the generated config.
    --phases examples,coverage,fuzzing
    --max-examples "$MAX_EXAMPLES"
    --request-timeout 10
    --continue-on-failure
    # The credentials come from --auth / --header below: without this, schemathesis also
    # generates (and, in negative cases, drops) the security headers itself, and then
    # blames the server for accepting a request that --auth made valid again.
    --generation-with-security-parameters false
    --no-color
    --report junit,ndjson
    --report-dir "$REPORT_DIR"
    --output-truncate false
)
[[ -n "${ST_SEED:-}" ]] && COMMON+=(--seed "$ST_SEED")

status=0
RUNS=()
run() {  # NAME SECONDS ARGS...
    local name=$1 seconds=$2; shift 2
    RUNS+=("$name")
    say "schemathesis: $name (at most ${seconds}s)"
    set +e
    "$VENV/bin/schemathesis" --config-file "$TMP/schemathesis.toml" run "$BASE/api-docs/openapi.json" "${COMMON[@]}" \
        --max-time "$seconds" \
        --report-junit-path "$REPORT_DIR/$name.junit.xml" --report-ndjson-path "$REPORT_DIR/$name.ndjson" \
        "$@" >"$REPORT_DIR/$name.log" 2>&1
    local rc=$?
    set -e
    [[ "${ST_QUIET:-0}" == 1 ]] || cat "$REPORT_DIR/$name.log"
    echo "$name: exit $rc" >>"$REPORT_DIR/summary.txt"
    [[ $rc == 0 ]] || status=1
}
: >"$REPORT_DIR/summary.txt"
# SPCM face: HTTP Basic + tenant header. `ignored_auth` is skipped here: the document
# declares the `tenant` header as an API-key security scheme (so that Swagger UI's
# "Authorize" sets it), and schemathesis then treats "valid Basic credentials, no tenant
# header" as unauthenticated and expects 401, while the contract (§2) answers that
# request 400. The 401 cases (no, malformed or wrong credentials, unknown tenant) are
# covered by tests/api/errors.rs.
run spcm "$MAX_TIME" --include-path-regex '^/pcc/' --auth "admin:$PASSWORD" --header "tenant: default" \
    --exclude-checks ignored_auth
# Catalogue views + health + metrics: bearer token. The import (PUT) runs on its own afterwards: a
# schema-valid document (e.g. all lists empty) replaces the seeded catalogue, after which
# every view only meets 404.
run catalogue "$MAX_TIME" --include-path-regex '^/v2/|^/health|^/metrics' --exclude-method PUT \
    --header "Authorization: Bearer $TOKEN"
run catalogue-import "$(( (MAX_TIME + 1) / 2 ))" --include-path-regex '^/v2/orgs/\{org_id\}/catalogue$' \
    --exclude-method GET --header "Authorization: Bearer $TOKEN"
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "spcm exited during the run; its log: $REPORT_DIR/server.log" >&2
    status=1
fi

# ---- 6. summary -----------------------------------------------------------------------------
echo
echo "==================== schemathesis $ST_VERSION summary ===================="
for name in "${RUNS[@]}"; do
    echo "--- $name ($(grep "^$name:" "$REPORT_DIR/summary.txt" | cut -d' ' -f2-))"
    # The closing block schemathesis prints: operations, failures by code, test cases.
    sed -n '/^=* SUMMARY =*$/,$p' "$REPORT_DIR/$name.log" |
        grep -vE '^=+ SUMMARY|^Reports:|^  - (JUnit|NDJSON)|For more information|^$' || tail -n 8 "$REPORT_DIR/$name.log"
done
echo "logs, reports and the generated schemathesis.toml: $REPORT_DIR"
if [[ $status == 0 ]]; then echo "schemathesis: no failures"; else echo "schemathesis: FAILURES (see above)"; fi
exit $status
