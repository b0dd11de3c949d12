#!/usr/bin/env bash
# Throughput, latency and memory of spcm against a bare actix-web handler, in one run.
#
#   bash bench/run.sh [DATABASE_URL]
#
# DATABASE_URL (or BENCH_DATABASE_URL): where spcm keeps its data. Default: a fresh
# SQLite file in a temporary directory, seeded in the bootstrap tenant `default`.
# With a server's URL (postgres://…, mysql://…) the run creates a database of its own on
# that server (the URL's user needs the right to), seeded the same way, and drops it at
# the end, so that no run reads what an earlier one left; build with the backend's
# feature then (BENCH_CARGO_FLAGS="--features mysql").
#
# Environment (all optional):
#   BENCH_SECONDS      seconds of load per scenario (10)
#   BENCH_WARMUP       seconds of unrecorded load before each scenario (2; 0: none)
#   BENCH_CONNECTIONS  wrk connections (32)      BENCH_THREADS  wrk threads (2)
#   BENCH_PROFILES     profiles seeded, 1..1000 (1000)
#   BENCH_ROUNDS       pairs of GET-one runs (bare, spcm); the median ratio is reported (3)
#   BENCH_QUIET_WAIT   seconds to wait, before each scenario, for the machine to be
#                      idle (60; 0: do not wait). The table's "rest" column shows CPU
#                      used by anything but spcm, wrk and the database server during
#                      each scenario.
#   BENCH_CARGO_FLAGS  extra flags for cargo build (e.g. "--features mysql")
#   BENCH_SKIP_BUILD=1 use the binaries already in target/release
#   BENCH_KEEP=1       keep the temporary directory (database, logs)
#   SPCM_WORKERS, SPCM_POOL_SIZE, RUST_LOG, …  passed through to spcm (and
#   SPCM_WORKERS to the bare server too)
#
# Writes bench-results/<timestamp>/ (raw wrk output, logs, summary.md) and prints the
# summary table on stdout. Only ever talks to 127.0.0.1.

set -Eeuo pipefail
shopt -s inherit_errexit 2>/dev/null || true

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/database.sh"
DURATION=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
PROFILES=${BENCH_PROFILES:-1000}
ROUNDS=${BENCH_ROUNDS:-3}
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
DB_URL=${1:-${BENCH_DATABASE_URL:-}}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
SPCM_BIN=${BENCH_SPCM_BIN:-$TARGET_DIR/release/spcm}
BARE_BIN=$TARGET_DIR/release/examples/bare
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$ROOT/bench-results/$RUN_ID
# Time limit of one wrk run (readiness waits and HTTP calls have their own 60 s limits).
WRK_LIMIT=$((WARMUP + DURATION + 30))

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer ≥ 0"
[[ $QUIET_WAIT =~ ^[0-9]+$ ]] || die "BENCH_QUIET_WAIT must be an integer ≥ 0"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[[ $PROFILES =~ ^[0-9]+$ ]] && ((PROFILES >= 1 && PROFILES <= 1000)) || die "BENCH_PROFILES must be 1..1000"

# ---- processes and cleanup -------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/spcm-bench.XXXXXX")
PIDS=()

stop_pid() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        log "kept $TMP${OWN_DB:+ and database $OWN_DB}"
    else
        rm -rf "$TMP"
        drop_own_database
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- tools -----------------------------------------------------------------------

if ! command -v wrk >/dev/null; then
    log "wrk not found; installing it with apt-get"
    if [[ $(id -u) == 0 ]]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get install -y wrk >&2 || { "${SUDO[@]}" apt-get update >&2 && "${SUDO[@]}" apt-get install -y wrk >&2; } \
        || die "cannot install wrk"
fi

mkdir -p "$RESULTS"
ln -sfn "$RUN_ID" "$ROOT/bench-results/latest"

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "building (cargo build --release --bins --examples ${BENCH_CARGO_FLAGS:-}); log in $RESULTS/build.log"
    # shellcheck disable=SC2086
    (cd "$ROOT" && timeout 3600 cargo build --release --bins --examples ${BENCH_CARGO_FLAGS:-}) \
        >"$RESULTS/build.log" 2>&1 || { tail -30 "$RESULTS/build.log" >&2; die "build failed"; }
fi
# What was built: the commit, and whether src/ or Cargo.toml differed from it.
SOURCE_STATE="commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD -- src Cargo.toml migrations 2>/dev/null || echo ' + uncommitted changes')"
[[ ${BENCH_SKIP_BUILD:-0} == 1 ]] && SOURCE_STATE+=" (BENCH_SKIP_BUILD: binaries not rebuilt, may be older)"
[[ -x $SPCM_BIN ]] || die "no $SPCM_BIN"
[[ -x $BARE_BIN ]] || die "no $BARE_BIN"

# bound_port PID LOG PATTERN: the port a server we started bound itself (it was given
# port 0, so no other process can take it between choosing and binding), read from
# the first match of PATTERN in LOG, which ends with the port; at most 60 s.
bound_port() {
    local pid=$1 file=$2 pattern=$3 port
    for _ in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || return 1
        port=$(grep -m1 -oE "$pattern" "$file" 2>/dev/null | grep -oE '[0-9]+$')
        [[ -n $port ]] && { echo "$port"; return 0; }
        sleep 0.1
    done
    return 1
}

# http METHOD PORT PATH [BODY_FILE]: one HTTP/1.1 request to 127.0.0.1 with the bench
# credentials, in plain bash (no curl needed). Sets STATUS, and leaves the response's
# headers in $TMP/resp.head and its body in $TMP/resp.body.
http() {
    local method=$1 port=$2 path=$3 body_file=${4:-} fd
    STATUS=0
    : >"$TMP/resp.head"
    : >"$TMP/resp.body"
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
    {
        printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n' "$method" "$path" "$port"
        printf 'Authorization: Basic %s\r\ntenant: %s\r\nAccept: application/hal+json\r\n' "$AUTH" "$TENANT"
        if [[ -n $body_file ]]; then
            printf 'Content-Type: application/json\r\nContent-Length: %s\r\n\r\n' "$(wc -c <"$body_file")"
            cat "$body_file"
        else
            printf '\r\n'
        fi
    } >&"$fd"
    timeout 60 cat <&"$fd" >"$TMP/resp.raw" || true
    exec {fd}>&-
    tr -d '\r' <"$TMP/resp.raw" | awk -v head="$TMP/resp.head" -v body="$TMP/resp.body" '
        inhead && /^$/ { inhead = 0; next }
        inhead { print > head; next }
        { printf "%s%s", sep, $0 > body; sep = "\n" }
        BEGIN { inhead = 1 }'
    STATUS=$(awk 'NR == 1 { print $2 }' "$TMP/resp.head")
    STATUS=${STATUS:-0}
}

header() { awk -v name="$1" 'tolower($0) ~ "^" tolower(name) ":" { sub(/^[^:]*: */, ""); print; exit }' "$TMP/resp.head"; }

# wait_http PID PORT PATH: until PATH answers (any status) or 60 s pass.
wait_http() {
    local pid=$1 port=$2 path=$3
    for _ in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            http GET "$port" "$path" && ((STATUS > 0)) && return 0
        fi
        sleep 0.1
    done
    return 1
}

rss_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# ---- the database and spcm ---------------------------------------------------------

PASSWORD=bench-password-$RANDOM$RANDOM$RANDOM
TENANT=default
case ${DB_URL:-sqlite} in
    sqlite)
        DB_URL=sqlite://$TMP/bench.db
        BACKEND="SQLite (fresh file in $(dirname "$TMP"))"
        ;;
    postgres://* | postgresql://* | mysql://* | mariadb://*)
        case $DB_URL in postgres*) BACKEND=PostgreSQL ;; *) BACKEND=MySQL/MariaDB ;; esac
        take_own_database "$DB_URL" spcm_bench || die "cannot create a database on $BACKEND"
        BACKEND+=" (database $OWN_DB, new)"
        ;;
    sqlite:* | /* | ./*) BACKEND=SQLite ;;
    *) die "unknown database URL $DB_URL (sqlite is the default; postgres:// or mysql:// for a server)" ;;
esac
AUTH=$(printf 'admin:%s' "$PASSWORD" | base64 | tr -d '\n')
export SPCM_DATABASE_URL=$DB_URL SPCM_BOOTSTRAP_PASSWORD=$PASSWORD SPCM_BOOTSTRAP_TENANT=default
export BENCH_RUN_ID=$RUN_ID-$RANDOM

start_spcm() {
    local log_file=$TMP/spcm-start.log
    : >"$log_file"
    SPCM_BIND=127.0.0.1:0 "$SPCM_BIN" serve 2> >(tee -a "$RESULTS/spcm.log" >"$log_file") >&2 &
    SPCM_PID=$!
    PIDS+=("$SPCM_PID")
    SPCM_PORT=$(bound_port "$SPCM_PID" "$log_file" '"port":[0-9]+') || die "spcm does not start; see $RESULTS/spcm.log"
    wait_http "$SPCM_PID" "$SPCM_PORT" /health/ready && [[ $STATUS == 200 ]] && return 0
    die "spcm on port $SPCM_PORT is not ready; see $RESULTS/spcm.log"
}

log "results in $RESULTS"
log "starting spcm on $BACKEND"
start_spcm
log "spcm pid $SPCM_PID on 127.0.0.1:$SPCM_PORT"

log "seeding $PROFILES profiles in tenant $TENANT (one bulk POST)"
{
    printf '['
    for ((i = 1; i <= PROFILES; i++)); do
        ((i > 1)) && printf ','
        printf '{"name":"p%04d","defaultProfile":false,"locale":"en","initialCorePlanName":"turkey","subscriberClass":"gold","subscriberType":"POSTPAID"}' "$i"
    done
    printf ']'
} >"$TMP/seed.json"
http POST "$SPCM_PORT" /pcc/spcm/provisionProfile "$TMP/seed.json"
cp "$TMP/resp.body" "$RESULTS/seed-response.json"
[[ $STATUS == 207 ]] || die "seeding answered $STATUS, not 207: $(head -c 300 "$TMP/resp.body")"
created=$(grep -o '"status":201' "$TMP/resp.body" | wc -l)
((created == PROFILES)) || die "seeding created $created of $PROFILES profiles (see $RESULTS/seed-response.json)"
# The profile that GET-one reads: the middle one.
PROFILE_ID=$(grep -o '"provisioningProfile":{"id":[0-9]*' "$TMP/resp.body" | sed -n "$(((PROFILES + 1) / 2))p" | grep -o '[0-9]*$')
[[ -n $PROFILE_ID ]] || die "no profile id in the seeding response"

ONE_PATH=/pcc/spcm/provisionProfile/$PROFILE_ID
LIST_PATH=/pcc/spcm/provisionProfile
http GET "$SPCM_PORT" "$ONE_PATH"
[[ $STATUS == 200 ]] || die "GET $ONE_PATH answered $STATUS"
ONE_BYTES=$(header content-length)
cp "$TMP/resp.body" "$RESULTS/get-one-response.json"
http GET "$SPCM_PORT" "$LIST_PATH"
[[ $STATUS == 200 ]] || die "GET $LIST_PATH answered $STATUS"
LIST_BYTES=$(header content-length)
LIST_TOTAL=$(header x-total-count)
grep -q "^{\"length\":$PROFILES," "$TMP/resp.body" || die "the list does not hold $PROFILES profiles (X-Total-Count: $LIST_TOTAL)"
[[ $ONE_BYTES =~ ^[0-9]+$ && $LIST_BYTES =~ ^[0-9]+$ ]] || die "no Content-Length on the GET responses"
log "one profile: $ONE_BYTES bytes; list of $PROFILES: $LIST_BYTES bytes"
RSS_SEEDED=$(rss_kb "$SPCM_PID" VmRSS)

# ---- load ----------------------------------------------------------------------------

WRK_HEADERS=(-H "Authorization: Basic $AUTH" -H "tenant: $TENANT" -H "Accept: application/hal+json")

# load NAME PID URL [wrk args…]: warm-up, then the recorded run into $RESULTS/wrk-NAME.txt.
# CPU used during the recorded run, in cores: the server's in CPU[NAME], wrk's in
# WRK_CPU[NAME], the database server's in DB_CPU[NAME], everything else on the machine in
# OTHER_CPU[NAME] (a noise indicator: another build or test run on the same cores makes
# the figures meaningless).
declare -A CPU WRK_CPU DB_CPU OTHER_CPU
HZ=$(getconf CLK_TCK)
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
# Waits up to BENCH_QUIET_WAIT seconds for the machine to be idle (under 0.25 cores
# busy over one second), so that a build or test run elsewhere does not skew a scenario.
wait_quiet() {
    ((QUIET_WAIT > 0)) || return 0
    local deadline=$((SECONDS + QUIET_WAIT)) a b busy said=0
    while :; do
        a=$(busy_ticks)
        sleep 1
        b=$(busy_ticks)
        busy=$(awk -v t=$((b - a)) -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')
        awk -v b="$busy" 'BEGIN { exit !(b < 0.25) }' && return 0
        if ((SECONDS >= deadline)); then
            log "the machine is still busy ($busy cores in use by others); measuring anyway"
            return 0
        fi
        ((said)) || log "waiting up to ${QUIET_WAIT}s for the machine to be idle ($busy cores in use by others)"
        said=1
        sleep 2
    done
}
load() {
    local name=$1 pid=$2 url=$3 before after busy_before busy_after db_before db_after wrk_user wrk_sys TIMEFORMAT='%U %S'
    shift 3
    wait_quiet
    if ((WARMUP > 0)); then
        BENCH_RUN_ID=$BENCH_RUN_ID-$name-warmup timeout "$WRK_LIMIT" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 5s "${WRK_HEADERS[@]}" "$@" "$url" \
            >"$RESULTS/wrk-$name.warmup.txt" 2>&1 || die "wrk warm-up of $name failed"
    fi
    log "load: $name (${DURATION}s, $CONNECTIONS connections, $THREADS threads) $url"
    before=$(cpu_ticks "$pid")
    db_before=$(db_ticks "${SERVER_URL:-}")
    busy_before=$(busy_ticks)
    { time BENCH_RUN_ID=$BENCH_RUN_ID-$name timeout "$WRK_LIMIT" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency "${WRK_HEADERS[@]}" "$@" "$url" \
        >"$RESULTS/wrk-$name.txt" 2>&1; } 2>"$TMP/wrk.time" || { cat "$RESULTS/wrk-$name.txt" >&2; die "wrk run of $name failed"; }
    after=$(cpu_ticks "$pid")
    db_after=$(db_ticks "${SERVER_URL:-}")
    busy_after=$(busy_ticks)
    read -r wrk_user wrk_sys <"$TMP/wrk.time"
    CPU[$name]=$(awk -v t=$((after - before)) -v hz="$HZ" -v d="$DURATION" 'BEGIN { printf "%.2f", t / hz / d }')
    WRK_CPU[$name]=$(awk -v u="$wrk_user" -v s="$wrk_sys" -v d="$DURATION" 'BEGIN { printf "%.2f", (u + s) / d }')
    DB_CPU[$name]=$(awk -v t=$((db_after - db_before)) -v hz="$HZ" -v d="$DURATION" 'BEGIN { printf "%.2f", t < 0 ? 0 : t / hz / d }')
    OTHER_CPU[$name]=$(awk -v t=$((busy_after - busy_before)) -v hz="$HZ" -v d="$DURATION" -v srv="${CPU[$name]}" -v w="${WRK_CPU[$name]}" -v db="${DB_CPU[$name]}" \
        'BEGIN { o = t / hz / d - srv - w - db; printf "%.2f", o < 0 ? 0 : o }')
    {
        echo
        echo "CPU during the run (cores): server ${CPU[$name]}, wrk ${WRK_CPU[$name]}, database server ${DB_CPU[$name]}, rest of the machine ${OTHER_CPU[$name]}"
    } >>"$RESULTS/wrk-$name.txt"
}

# bare NAME BYTES: the bare handler with a BYTES-byte body, under the same load.
bare() {
    local name=$1 bytes=$2 port pid
    "$BARE_BIN" 127.0.0.1:0 "$bytes" >"$RESULTS/$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    port=$(bound_port "$pid" "$RESULTS/$name.log" '^listening on 127\.0\.0\.1:[0-9]+') || die "the bare server did not start (see $RESULTS/$name.log)"
    wait_http "$pid" "$port" / || die "the bare server did not start (see $RESULTS/$name.log)"
    [[ $(header content-length) == "$bytes" ]] || die "the bare server answers $(header content-length) bytes, not $bytes"
    load "$name" "$pid" "http://127.0.0.1:$port$ONE_PATH"
    stop_pid "$pid"
}

LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# GET one, the ratio most sensitive to a noisy neighbour: BENCH_ROUNDS pairs of runs
# (bare, then spcm), reported by the pair with the median ratio; every pair's ratio is
# listed under the table.
for ((round = 1; round <= ROUNDS; round++)); do
    bare "bare-one-$round" "$ONE_BYTES"
    load "spcm-get-one-$round" "$SPCM_PID" "http://127.0.0.1:$SPCM_PORT$ONE_PATH"
done
bare bare-list "$LIST_BYTES"
load spcm-list "$SPCM_PID" "http://127.0.0.1:$SPCM_PORT$LIST_PATH"
load spcm-post "$SPCM_PID" "http://127.0.0.1:$SPCM_PORT$LIST_PATH" -s "$ROOT/bench/post.lua"
LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

RSS_AFTER=$(rss_kb "$SPCM_PID" VmRSS)
RSS_PEAK=$(rss_kb "$SPCM_PID" VmHWM)
THREADS_AFTER=$(rss_kb "$SPCM_PID" Threads)
http GET "$SPCM_PORT" "$LIST_PATH?limit=1"
PROFILES_AFTER=$(header x-total-count)
stop_pid "$SPCM_PID"

# ---- report --------------------------------------------------------------------------

# Figures out of wrk's output.
rps() { awk '/^Requests\/sec:/ { print $2 }' "$RESULTS/wrk-$1.txt"; }
# pct NAME 50|99: that latency percentile in ms.
pct() {
    awk -v p="$2%" '$1 == p {
        v = $2; n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.2f", n; exit }' "$RESULTS/wrk-$1.txt"
}
non2xx() { awk '/Non-2xx or 3xx responses:/ { print $NF; f = 1 } END { if (!f) print 0 }' "$RESULTS/wrk-$1.txt"; }
errors() { awk '/Socket errors:/ { sub(/^ *Socket errors: */, ""); print; f = 1 } END { if (!f) print "none" }' "$RESULTS/wrk-$1.txt"; }
status_count() { awk -v s="$2" '$1 == "status" && $2 == s ":" { print $3; f = 1 } END { if (!f) print 0 }' "$RESULTS/wrk-$1.txt"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
meets() { awk "BEGIN { exit !($1) }" && echo "met" || echo "**missed**"; }

ROUND_RATIOS=()
for ((round = 1; round <= ROUNDS; round++)); do
    ROUND_RATIOS+=("$(calc "%.3f" "$(rps "spcm-get-one-$round") / $(rps "bare-one-$round")") $round")
done
MEDIAN_ROUND=$(printf '%s\n' "${ROUND_RATIOS[@]}" | sort -n | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) { print $2 }')
for name in bare-one spcm-get-one; do
    cp "$RESULTS/wrk-$name-$MEDIAN_ROUND.txt" "$RESULTS/wrk-$name.txt"
    CPU[$name]=${CPU[$name-$MEDIAN_ROUND]} WRK_CPU[$name]=${WRK_CPU[$name-$MEDIAN_ROUND]} DB_CPU[$name]=${DB_CPU[$name-$MEDIAN_ROUND]}
    OTHER_CPU[$name]=${OTHER_CPU[$name-$MEDIAN_ROUND]}
done
BARE_ONE=$(rps bare-one)
BARE_LIST=$(rps bare-list)
ONE=$(rps spcm-get-one)
LIST=$(rps spcm-list)
POST_ALL=$(rps spcm-post)
POST_201=$(status_count spcm-post 201)
POST_SECONDS=$(awk '/requests in/ { for (i = 1; i <= NF; i++) if ($i == "in") { v = $(i + 1); sub(/,$/, "", v); n = v + 0; if (v ~ /ms$/) n /= 1000; else if (v ~ /m$/) n *= 60; print n; exit } }' "$RESULTS/wrk-spcm-post.txt")
POST_CREATED=$(calc "%.0f" "$POST_201 / $POST_SECONDS")
RATIO_ONE=$(calc "%.2f" "$ONE / $BARE_ONE")
RATIO_LIST=$(calc "%.3f" "$LIST / $BARE_LIST")
RSS_MB=$(calc "%.1f" "$RSS_AFTER / 1024")

fmt_rps() { calc "%.0f" "$1"; }
cpus() { echo "${CPU[$1]} / ${WRK_CPU[$1]} / ${DB_CPU[$1]} / ${OTHER_CPU[$1]}"; }
# Server CPU time per response, in microseconds.
us_per_req() { calc "%.0f" "${CPU[$1]} * 1000000 / $(rps "$1")"; }
NOISY=$(for name in bare-one spcm-get-one bare-list spcm-list spcm-post; do awk -v o="${OTHER_CPU[$name]}" -v n="$name" 'BEGIN { if (o > 0.25) print n }'; done | sort | paste -sd, -)
row() { printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }

{
    echo "## spcm benchmark, $RUN_ID"
    echo
    echo "- backend: **$BACKEND**; tenant \`$TENANT\` seeded with $PROFILES profiles"
    echo "- machine: $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; wrk runs on the same cores"
    echo "- load: wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), $THREADS threads, $CONNECTIONS connections, ${DURATION}s per scenario after ${WARMUP}s warm-up; Basic auth + tenant header on every request"
    echo "- spcm: $SOURCE_STATE, SPCM_WORKERS=${SPCM_WORKERS:-0 (one per core)}, SPCM_POOL_SIZE=${SPCM_POOL_SIZE:-8 (default)}, RUST_LOG=${RUST_LOG:-info (default)}; built with cargo build --release --bins --examples${BENCH_CARGO_FLAGS:+ $BENCH_CARGO_FLAGS}"
    echo "- body sizes: one profile $ONE_BYTES B, list of $PROFILES profiles $LIST_BYTES B"
    echo "- load average before/after: $LOADAVG_BEFORE / $LOADAVG_AFTER"
    echo
    row scenario "body (B)" "requests/s" "p50 (ms)" "p99 (ms)" "vs bare" "CPU cores: server / wrk / database / rest" target verdict
    row --- ---: ---: ---: ---: ---: ---: --- ---
    row "bare actix-web, one-profile body" "$ONE_BYTES" "$(fmt_rps "$BARE_ONE")" "$(pct bare-one 50)" "$(pct bare-one 99)" "1×" "$(cpus bare-one)" "" ""
    # Targets: every figure has one on SQLite, GET one and POST on PostgreSQL;
    # MySQL/MariaDB has none (its figures are for comparison).
    case $BACKEND in
        SQLite*) ONE_TARGET=0.6 ONE_LABEL="≥ 0.6× bare; p99 < 10 ms" POST_TARGET=2000 SQLITE_TARGETS=1 ;;
        PostgreSQL*) ONE_TARGET=0.4 ONE_LABEL="≥ 0.4× bare" POST_TARGET=1000 SQLITE_TARGETS=0 ;;
        *) ONE_TARGET="" ONE_LABEL="" POST_TARGET="" SQLITE_TARGETS=0 ;;
    esac
    ONE_VERDICT=""
    if [[ -n $ONE_TARGET ]]; then
        ONE_VERDICT="ratio $(meets "$RATIO_ONE >= $ONE_TARGET")"
        ((SQLITE_TARGETS)) && ONE_VERDICT+="; p99 $(meets "$(pct spcm-get-one 99) < 10")"
    fi
    target_if() { ((SQLITE_TARGETS)) && printf '%s' "$1"; true; }
    row "spcm GET one profile" "$ONE_BYTES" "$(fmt_rps "$ONE")" "$(pct spcm-get-one 50)" "$(pct spcm-get-one 99)" "${RATIO_ONE}×" "$(cpus spcm-get-one)" \
        "$ONE_LABEL" "$ONE_VERDICT"
    row "bare actix-web, list-sized body" "$LIST_BYTES" "$(fmt_rps "$BARE_LIST")" "$(pct bare-list 50)" "$(pct bare-list 99)" "1×" "$(cpus bare-list)" "" ""
    row "spcm GET list ($PROFILES profiles)" "$LIST_BYTES" "$(fmt_rps "$LIST")" "$(pct spcm-list 50)" "$(pct spcm-list 99)" "${RATIO_LIST}×" "$(cpus spcm-list)" \
        "$(target_if "≥ 0.12× bare")" "$(target_if "$(meets "$RATIO_LIST >= 0.12")")"
    row "spcm POST one profile (201/s)" "—" "$POST_CREATED" "$(pct spcm-post 50)" "$(pct spcm-post 99)" "—" "$(cpus spcm-post)" \
        "${POST_TARGET:+≥ $POST_TARGET/s}" "${POST_TARGET:+$(meets "$POST_CREATED >= $POST_TARGET")}"
    row "spcm resident memory after the run" "—" "—" "—" "—" "—" "—" "$(target_if "< 50 MB")" "$RSS_MB MB$(target_if ": $(meets "$RSS_MB < 50")")"
    echo
    if [[ -n $NOISY ]]; then
        echo "**Warning:** something else used more than 0.25 cores during $NOISY (\"rest\" column); those figures understate what this machine can do. Rerun on a quiet machine."
        echo
    fi
    echo "Other observations:"
    echo
    echo "- GET one, every pair of runs (spcm / bare, in the order run): $(for ((round = 1; round <= ROUNDS; round++)); do printf '%s%s/s / %s/s = %s×' "${sep:-}" "$(fmt_rps "$(rps "spcm-get-one-$round")")" "$(fmt_rps "$(rps "bare-one-$round")")" "$(calc "%.2f" "$(rps "spcm-get-one-$round") / $(rps "bare-one-$round")")"; sep='; '; done); the table shows pair $MEDIAN_ROUND, the median"
    echo "- server CPU per response: $(for name in bare-one spcm-get-one bare-list spcm-list spcm-post; do printf '%s %s µs; ' "$name" "$(us_per_req "$name")"; done)"
    echo "- spcm RSS: $(calc "%.1f" "$RSS_SEEDED / 1024") MB after seeding, $RSS_MB MB after the run, peak (VmHWM) $(calc "%.1f" "$RSS_PEAK / 1024") MB; $THREADS_AFTER threads"
    echo "- POST: $(awk '/requests in/ { print $1; exit }' "$RESULTS/wrk-spcm-post.txt") responses, statuses: $(awk '$1 == "status" { printf "%s%s %s", sep, $2, $3; sep = ", " }' "$RESULTS/wrk-spcm-post.txt"); profiles in the tenant afterwards: $PROFILES_AFTER"
    for name in bare-one spcm-get-one bare-list spcm-list spcm-post; do
        echo "- $name: non-2xx/3xx responses: $(non2xx "$name"); socket errors: $(errors "$name")"
    done
    echo
    echo "Raw output: bench-results/$RUN_ID/"
} | tee "$RESULTS/summary.md"

log "done"
