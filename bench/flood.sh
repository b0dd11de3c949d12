#!/usr/bin/env bash
# Wrong passwords must not starve other tenants: GET one profile as tenant `default`
# (BENCH_VICTIM_CONNECTIONS connections) alone, then while another client sends wrong
# passwords for a user of another tenant over 32 connections. The sign-in limits are
# raised out of the way, so that only the pacing of the flooded account bounds the flood:
# the worst case below the limits.
#
#   bash bench/flood.sh          # BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_VICTIM_CONNECTIONS (4), BENCH_SKIP_BUILD=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" flood
VICTIM_CONNECTIONS=${BENCH_VICTIM_CONNECTIONS:-4}
PASSWORD=bench-password-$RANDOM$RANDOM
DB=sqlite://$TMP/f.db
SPCM_DATABASE_URL=$DB SPCM_BOOTSTRAP_PASSWORD=$PASSWORD "$SPCM" migrate >/dev/null 2>&1
serve_spcm SPCM_DATABASE_URL=$DB SPCM_BOOTSTRAP_PASSWORD=$PASSWORD \
    SPCM_SIGNIN_ACCOUNT_LIMIT=1000000000 SPCM_SIGNIN_ADDRESS_LIMIT=1000000000
SPCM_DATABASE_URL=$DB "$SPCM" tenant add other >/dev/null
SPCM_DATABASE_URL=$DB "$SPCM" user add --tenant other --username target --all-permissions <<<"the-right-one" >/dev/null
AUTH=(-u "admin:$PASSWORD" -H "tenant: default")
ID=$(curl -s "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"name":"turkeySauce","defaultProfile":true}' \
    "$BASE/pcc/spcm/provisionProfile" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
URL="$BASE/pcc/spcm/provisionProfile/$ID"
B64=$(printf 'admin:%s' "$PASSWORD" | base64)
WRONG=$(printf 'target:%s' "wrong-password" | base64)

victim() {  # NAME
    wrk -t1 -c"$VICTIM_CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency -H "Authorization: Basic $B64" \
        -H "tenant: default" -s "$ROOT/bench/status.lua" "$URL" >"$RESULTS/wrk-$1.txt"
}
p99_ms() {  # wrk output → p99 in ms
    awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) }
        else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }' "$1"
}
rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
non_200() { awk '$1 == "status" && $2 != "200:" { n += $3 } END { print n + 0 }' "$1"; }
status_count() { awk -v s="$2:" '$1 == "status" && $2 == s { print $3 }' "$1"; }

victim warmup
# Alone and flooded in turns, BENCH_ROUNDS times: the machine's noise moves both runs of
# a round alike, and the median of the rounds' ratios is the figure.
ROUNDS=${BENCH_ROUNDS:-3}
RATIOS=()
ROWS=()
for round in $(seq 1 "$ROUNDS"); do
    victim "alone-$round"
    wrk -t1 -c32 -d"$((DURATION + 2))s" --timeout 5s -H "Authorization: Basic $WRONG" -H "tenant: other" \
        -s "$ROOT/bench/status.lua" "$BASE/pcc/spcm/provisionProfile" >"$RESULTS/wrk-flood-$round.txt" &
    FLOOD=$!
    sleep 1  # the flood is under way before the measured run starts
    victim "flooded-$round"
    wait "$FLOOD"
    ALONE=$(p99_ms "$RESULTS/wrk-alone-$round.txt")
    FLOODED=$(p99_ms "$RESULTS/wrk-flooded-$round.txt")
    RATIO=$(awk -v a="$ALONE" -v b="$FLOODED" 'BEGIN { printf "%.2f", b / a }')
    RATIOS+=("$RATIO")
    F="$RESULTS/wrk-flood-$round.txt"
    ROWS+=("| $round | $(rps "$RESULTS/wrk-alone-$round.txt") | $ALONE ms | $(rps "$RESULTS/wrk-flooded-$round.txt") | $FLOODED ms | $(non_200 "$RESULTS/wrk-flooded-$round.txt") | $(status_count "$F" 401)/$(status_count "$F" 429)/$(status_count "$F" 503) | ${RATIO}× |")
done
MEDIAN=$(printf '%s\n' "${RATIOS[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
CHECKS=$(curl -s "$BASE/metrics" | awk '/^spcm_password_checks_total/ { print $2 }')
{
    echo "## wrong-password flood, $RUN_ID (SQLite; $(load_shown))"
    echo
    echo "Command: \`bash bench/flood.sh\`; ${DURATION}s per run, $ROUNDS rounds of a run alone then a run flooded;"
    echo "GET one profile over $VICTIM_CONNECTIONS connections; the flood: wrong passwords of an existing user"
    echo "of another tenant over 32 connections, sign-in limits raised."
    echo
    echo "| round | alone GETs/s | alone p99 | flooded GETs/s | flooded p99 | flooded non-200 | flood 401/429/503 | p99 ratio |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "argon2 runs in all: $CHECKS. p99 flooded / p99 alone, median of the rounds: ${MEDIAN}× (target ≤ 2×)."
} | tee "$RESULTS/summary.md"
