#!/usr/bin/env bash
# Change events: how fast the relay empties a backlog (events confirmed by the broker per
# second), and the delay from a write's commit to a consumer's receipt at a steady
# BENCH_EVENT_RATE writes/s (p50, p99). RabbitMQ on 127.0.0.1:5672 (guest/guest); the
# consumer is Python with pika, installed into a virtual environment under target/.
#
#   bash bench/events.sh     # BENCH_BACKLOG (5000), BENCH_EVENT_RATE (500), BENCH_SECONDS (10), BENCH_SKIP_BUILD=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" events
BACKLOG=${BENCH_BACKLOG:-5000}
RATE=${BENCH_EVENT_RATE:-500}
VENV=$ROOT/target/bench-venv
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import pika' 2>/dev/null || "$VENV/bin/pip" install -q 'pika==1.3.2'
PASSWORD=bench-password-$RANDOM$RANDOM
EXCHANGE=bench.events.$RANDOM$RANDOM
AMQP=amqp://guest:guest@127.0.0.1:5672/%2f
DB=sqlite://$TMP/events.db
AUTH=(-u "admin:$PASSWORD" -H "tenant: default" -H 'Content-Type: application/json')

# 1. A backlog written while no relay runs, then a relay started on it.
serve_spcm SPCM_DATABASE_URL=$DB SPCM_BOOTSTRAP_PASSWORD=$PASSWORD
python3 - "$BASE" "$PASSWORD" "$BACKLOG" <<'PY'
import base64, json, sys, urllib.request
base, password, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
for start in range(0, count, 1000):
    batch = [{"name": f"backlog-{i}", "defaultProfile": False} for i in range(start, min(count, start + 1000))]
    request = urllib.request.Request(base + "/pcc/spcm/provisionProfile", data=json.dumps(batch).encode(), method="POST",
        headers={"Authorization": auth, "tenant": "default", "Content-Type": "application/json"})
    assert urllib.request.urlopen(request).status == 207
PY
kill "$PID"; wait "$PID" 2>/dev/null || true

"$VENV/bin/python" - "$EXCHANGE" "$BACKLOG" "$TMP/backlog.txt" <<'PY' &
import pika, sys, time
exchange, expected, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2f"))
channel = connection.channel()
channel.exchange_declare(exchange, exchange_type="topic", durable=True)
queue = channel.queue_declare("", exclusive=True).method.queue
channel.queue_bind(queue, exchange, routing_key="#")
open(out + ".ready", "w").close()
seen, first, last = set(), None, None
for method, properties, body in channel.consume(queue, auto_ack=True, inactivity_timeout=60):
    if method is None:
        break
    now = time.monotonic()
    first = first or now
    last = now
    seen.add(properties.message_id)
    if len(seen) >= expected:
        break
with open(out, "w") as f:
    f.write(f"{len(seen)} {last - first if first else 0}\n")
connection.close()
PY
CONSUMER=$!
for _ in $(seq 100); do [[ -e $TMP/backlog.txt.ready ]] && break; sleep 0.1; done
STARTED=$(date +%s.%N)
serve_spcm SPCM_DATABASE_URL=$DB SPCM_BOOTSTRAP_PASSWORD=$PASSWORD SPCM_AMQP_URL=$AMQP SPCM_AMQP_EXCHANGE=$EXCHANGE
wait "$CONSUMER"
ENDED=$(date +%s.%N)
read -r RECEIVED SPAN <"$TMP/backlog.txt"
# The backlog holds the bootstrap's records too; the rate counts what arrived.
BACKLOG_RATE=$(awk -v n="$RECEIVED" -v s="$SPAN" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
WHOLE=$(awk -v a="$STARTED" -v b="$ENDED" 'BEGIN { printf "%.1f", b - a }')

# 2. Commit-to-receipt delay at a steady rate of writes.
"$VENV/bin/python" - "$EXCHANGE" "$BASE" "$PASSWORD" "$RATE" "$DURATION" "$TMP/delay.txt" <<'PY'
import base64, datetime, json, pika, sys, threading, time, urllib.request
exchange, base, password, rate, seconds, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2f"))
channel = connection.channel()
queue = channel.queue_declare("", exclusive=True).method.queue
channel.queue_bind(queue, exchange, routing_key="default.provisionProfile.created")
auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
total = rate * seconds
def writer(offset, step):
    begin = time.monotonic()
    for i in range(offset, total, step):
        due = begin + i / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        request = urllib.request.Request(base + "/pcc/spcm/provisionProfile", method="POST",
            data=json.dumps({"name": f"steady-{i}", "defaultProfile": False}).encode(),
            headers={"Authorization": auth, "tenant": "default", "Content-Type": "application/json"})
        urllib.request.urlopen(request).read()
threads = [threading.Thread(target=writer, args=(k, 8)) for k in range(8)]
for t in threads: t.start()
delays = []
for method, properties, body in channel.consume(queue, auto_ack=True, inactivity_timeout=10):
    if method is None:
        break
    received = datetime.datetime.now(datetime.timezone.utc)
    at = datetime.datetime.fromisoformat(json.loads(body)["at"].replace("Z", "+00:00"))
    delays.append((received - at).total_seconds() * 1000)
    if len(delays) >= total:
        break
for t in threads: t.join()
delays.sort()
pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
with open(out, "w") as f:
    f.write(f"{len(delays)} {total} {pick(0.5):.1f} {pick(0.99):.1f} {delays[-1]:.1f}\n")
connection.close()
PY
read -r GOT SENT P50 P99 MAX <"$TMP/delay.txt"
{
    echo "## change events, $RUN_ID (SQLite, RabbitMQ on the same machine; $(load_shown))"
    echo
    echo "Command: \`bash bench/events.sh\`."
    echo
    echo "| measure | figure |"
    echo "| --- | ---: |"
    echo "| backlog of $BACKLOG profiles: events received | $RECEIVED |"
    echo "| relay throughput (first to last receipt) | $BACKLOG_RATE events/s |"
    echo "| backlog emptied, from the service's start | $WHOLE s |"
    echo "| steady writes: $RATE/s for ${DURATION}s, events received | $GOT of $SENT |"
    echo "| commit → consumer delay, p50 | $P50 ms |"
    echo "| commit → consumer delay, p99 | $P99 ms |"
    echo "| commit → consumer delay, max | $MAX ms |"
} | tee "$RESULTS/summary.md"
"$VENV/bin/python" - "$EXCHANGE" <<'PY'
import pika, sys
connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2f"))
connection.channel().exchange_delete(sys.argv[1])
connection.close()
PY
