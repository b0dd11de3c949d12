# What bench/catalogue.sh, bench/costs.sh and the others share: the results directory, a
# temporary directory cleaned up on exit (with the spcm started as $PID, and a database
# of the run's own), wrk, the release build, `serve_spcm`. Source it with the results' name:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh" overload
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DURATION=${BENCH_SECONDS:-10}
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# "load average before/after: …", for the summary's heading: what else the machine ran.
load_shown() { echo "load average before/after: $LOADAVG_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"; }
BENCH_NAME=$1
RESULTS=$ROOT/bench-results/$1-$RUN_ID
mkdir -p "$RESULTS"
TMP=$(mktemp -d)
PID=""
source "$ROOT/bench/database.sh"
# A database of the run's own on a server ($OWN_DB on $SERVER_URL), dropped at the end.
OWN_DB=""
cleanup() {
    # Under `set -e`, a failing last command of an `&&` list would end the cleanup here.
    [[ -z $PID ]] || kill "$PID" 2>/dev/null || true
    wait 2>/dev/null
    rm -rf "$TMP"
    drop_own_database
}
# use_database URL FILE: sets DB_URL to a fresh SQLite FILE in $TMP when URL is empty or
# sqlite, else to a new database of the run's own on URL's server ($SERVER_URL).
SERVER_URL=""
use_database() {
    DB_URL=${1:-sqlite://$TMP/$2}
    [[ $DB_URL == sqlite:* || $DB_URL == /* ]] && return 0
    take_own_database "$DB_URL" "spcm_$BENCH_NAME" || exit 1
}
trap cleanup EXIT
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# shellcheck disable=SC2086
[[ ${BENCH_SKIP_BUILD:-0} == 1 ]] || cargo build --release --bin spcm --quiet ${BENCH_CARGO_FLAGS:-}
SPCM=${BENCH_SPCM_BIN:-$ROOT/target/release/spcm}
# serve_spcm [VAR=VALUE…]: starts `spcm serve` with those variables as $PID, logging to
# $RESULTS/spcm.log, on a port it binds itself (port 0: nothing else can take it between
# choosing and binding); sets $PORT and $BASE from its log and waits until it is ready.
serve_spcm() {
    env "$@" SPCM_BIND=127.0.0.1:0 "$SPCM" serve >"$RESULTS/spcm.log" 2>&1 &
    PID=$!
    PORT=""
    for _ in $(seq 100); do
        PORT=$(grep -m1 -oE '"port":[0-9]+' "$RESULTS/spcm.log" | grep -oE '[0-9]+$' || true)
        [[ -n $PORT ]] && break
        kill -0 "$PID" 2>/dev/null || { cat "$RESULTS/spcm.log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n $PORT ]] || { echo "spcm did not start; see $RESULTS/spcm.log" >&2; exit 1; }
    BASE=http://127.0.0.1:$PORT
    for _ in $(seq 100); do curl -sf "$BASE/health/ready" >/dev/null && return 0; sleep 0.1; done
    echo "spcm on port $PORT is not ready; see $RESULTS/spcm.log" >&2
    exit 1
}
