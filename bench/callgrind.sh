#!/usr/bin/env bash
# Instructions per GET-one answer, counted by valgrind's callgrind: for spcm (one worker,
# SQLite, the answer from memory, as in the benchmark's steady state) and for the bare
# actix-web handler with a body of the same size. Instruction counts do not depend on
# what else the machine is doing, so later changes can be compared without wall-clock
# noise.
#
#   bash bench/callgrind.sh          # BENCH_REQUESTS (2000), BENCH_SKIP_BUILD=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" callgrind
REQUESTS=${BENCH_REQUESTS:-2000}
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
# shellcheck disable=SC2086
[[ ${BENCH_SKIP_BUILD:-0} == 1 ]] || cargo build --release --example bare --quiet ${BENCH_CARGO_FLAGS:-}
BARE=$ROOT/target/release/examples/bare
PASSWORD=bench-password-$RANDOM$RANDOM

# measure NAME PID URL HEADER…: zeroes the counters, sends $REQUESTS GETs over one
# keep-alive connection, dumps the counters; prints instructions per request.
measure() {
    local name=$1 pid=$2 url=$3 urls=()
    shift 3
    for _ in $(seq 50); do curl -s "$@" "$url" >/dev/null; done  # warm-up
    callgrind_control -z "$pid" >/dev/null
    for _ in $(seq "$REQUESTS"); do urls+=("$url"); done
    curl -s --fail "$@" "${urls[@]}" >/dev/null
    callgrind_control -d "$name" "$pid" >/dev/null
    local dump
    dump=$(ls -t "$RESULTS"/cg.out.* | head -1)
    awk -v n="$REQUESTS" '/^summary:|^totals:/ { printf "%.0f\n", $2 / n; exit }' "$dump"
}
# wait_port FILE PATTERN: the port a server under valgrind printed (valgrind is slow to start).
wait_port() {
    for _ in $(seq 600); do
        local port
        port=$(grep -m1 -oE "$2" "$1" 2>/dev/null | grep -oE '[0-9]+$' || true)
        [[ -n $port ]] && { echo "$port"; return 0; }
        sleep 0.1
    done
    return 1
}

cd "$TMP"
SPCM_DATABASE_URL=sqlite://$TMP/cg.db SPCM_BOOTSTRAP_PASSWORD=$PASSWORD SPCM_WORKERS=1 SPCM_BIND=127.0.0.1:0 \
    valgrind --tool=callgrind --callgrind-out-file="$RESULTS/cg.out.%p" "$SPCM" serve >"$RESULTS/spcm.log" 2>&1 &
PID=$!
PORT=$(wait_port "$RESULTS/spcm.log" '"port":[0-9]+') || { cat "$RESULTS/spcm.log"; exit 1; }
BASE=http://127.0.0.1:$PORT
for _ in $(seq 600); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done
AUTH=(-u "admin:$PASSWORD" -H "tenant: default")
ID=$(curl -s "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"name":"turkeySauce","defaultProfile":true}' \
    "$BASE/pcc/spcm/provisionProfile" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
BYTES=$(curl -s "${AUTH[@]}" "$BASE/pcc/spcm/provisionProfile/$ID" | wc -c)
SPCM_IR=$(measure spcm "$PID" "$BASE/pcc/spcm/provisionProfile/$ID" "${AUTH[@]}")
kill "$PID"; wait "$PID" 2>/dev/null || true

SPCM_WORKERS=1 valgrind --tool=callgrind --callgrind-out-file="$RESULTS/cg.out.%p" "$BARE" 127.0.0.1:0 "$BYTES" \
    >"$RESULTS/bare.log" 2>&1 &
PID=$!
BARE_PORT=$(wait_port "$RESULTS/bare.log" 'listening on 127\.0\.0\.1:[0-9]+') || { cat "$RESULTS/bare.log"; exit 1; }
BARE_IR=$(measure bare "$PID" "http://127.0.0.1:$BARE_PORT/pcc/spcm/provisionProfile/$ID")
kill "$PID"; wait "$PID" 2>/dev/null || true
PID=""
{
    echo "## instructions per GET-one answer, $RUN_ID (callgrind; $(git -C "$ROOT" rev-parse --short HEAD); $(load_shown))"
    echo
    echo "Command: \`bash bench/callgrind.sh\`; $REQUESTS requests over one keep-alive connection after 50 of warm-up; one worker; body $BYTES B."
    echo
    echo "| server | instructions per request | vs bare |"
    echo "| --- | ---: | ---: |"
    echo "| bare actix-web | $BARE_IR | 1× |"
    echo "| spcm GET one (SQLite, answered from memory) | $SPCM_IR | $(awk -v a="$SPCM_IR" -v b="$BARE_IR" 'BEGIN { printf "%.2f", a / b }')× |"
} | tee "$RESULTS/summary.md"
