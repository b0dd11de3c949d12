# Sourced by the scripts that drive a real spcm with a Python tool (python-client.sh,
# http-cache.sh): a temporary directory with the server stopped and removed on exit, and
# `start_spcm`. Needs $SPCM (the binary) and $VENV (a virtual environment with python).

TMP=$(mktemp -d "${TMPDIR:-/tmp}/spcm-$(basename "$0" .sh).XXXXXX")
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_spcm: `spcm serve` with the SPCM_* variables exported by the caller, on a port of
# 127.0.0.1 it binds itself (port 0: nothing else can take it between choosing and
# binding; the log names it at level info), logging to $TMP/server.log. Sets SERVER_PID,
# PORT and BASE, and returns once /health/ready answers 200.
start_spcm() {
    SPCM_BIND=127.0.0.1:0 RUST_LOG=info "$SPCM" serve >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq 300); do
        PORT=$(grep -m1 -oE '"port":[0-9]+' "$TMP/server.log" | grep -oE '[0-9]+$' || true)
        [[ -n "$PORT" ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; echo "spcm exited" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n "$PORT" ]] || { cat "$TMP/server.log" >&2; echo "spcm did not say its port" >&2; exit 1; }
    BASE="http://127.0.0.1:$PORT"
    "$VENV/bin/python" - "$BASE" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 30
while True:
    try:
        with urllib.request.urlopen(sys.argv[1] + "/health/ready", timeout=2) as answer:
            if answer.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("spcm did not become ready within 30 s")
    time.sleep(0.1)
PY
}
