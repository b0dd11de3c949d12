# What bench/catalogue.sh and bench/overload.sh share: the results directory, a
# temporary directory cleaned up on exit (with the spcm started as $PID), wrk, the
# release build, a free port. Source it with the results' name:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh" overload
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DURATION=${BENCH_SECONDS:-10}
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$ROOT/bench-results/$1-$RUN_ID
mkdir -p "$RESULTS"
TMP=$(mktemp -d)
PID=""
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# shellcheck disable=SC2086
[[ ${BENCH_SKIP_BUILD:-0} == 1 ]] || cargo build --release --bin spcm --quiet ${BENCH_CARGO_FLAGS:-}
SPCM=$ROOT/target/release/spcm
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT

# Until the spcm on $PORT answers /health/ready, at most 10 s.
wait_ready() { for _ in $(seq 100); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.1; done; }
