#!/usr/bin/env python3
"""The Python half of bench/fairness.sh (standard library only):

  seed BASE TENANT USER PASSWORD COUNT PREFIX OUT   profiles in batches of 1,000; ids to OUT
  catalogue DIR PREFIX PROFILES                      tenant A's two large legal documents
  load CONFIG                                        tenant A's heaviest legal mix
  sample CONFIG OUT                                  a line of gauges a second, until SIGTERM
  threads PID                                        CPU ticks of each thread of PID
  digest RESULTS SECONDS PHASE…                      the summary's digest of where the time went
  a-summary REQUESTS SECONDS                         the table of tenant A's requests
"""
import base64
import collections
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

HZ = os.sysconf("SC_CLK_TCK")


def die(message):
    print(f"fairness.py: {message}", file=sys.stderr)
    sys.exit(1)


def basic(user, password, tenant):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "tenant": tenant, "Accept": "application/json"}


def connect(base, timeout=300):
    parts = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def call(conn, method, path, headers, body=None):
    """One request on a kept-alive connection: (status, headers, body)."""
    headers = dict(headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.headers, response.read()


# ---- seeding -----------------------------------------------------------------------


def seed(base, tenant, user, password, count, prefix, out):
    conn, headers, ids = connect(base), basic(user, password, tenant), []
    for start in range(0, int(count), 1000):
        batch = [
            {"name": f"{prefix}-{i:05d}", "defaultProfile": False, "locale": "en", "initialCorePlanName": "turkey",
             "subscriberClass": "gold", "subscriberType": "POSTPAID"}
            for i in range(start, min(int(count), start + 1000))
        ]
        status, _, body = call(conn, "POST", "/pcc/spcm/provisionProfile", headers, json.dumps(batch).encode())
        if status != 207:
            die(f"seeding {tenant} answered {status}: {body[:300]!r}")
        results = json.loads(body)["results"]
        failed = [r for r in results if r["status"] != 201]
        if failed:
            die(f"seeding {tenant}: {len(failed)} items failed, first {failed[0]}")
        ids += [r["provisioningProfile"]["id"] for r in results]
    with open(out, "w") as f:
        f.write("\n".join(map(str, ids)) + "\n")


# ---- tenant A's catalogue ------------------------------------------------------------

# Chains of CHAIN value-added services (each requires the next): the head reaches CHAIN
# services and CHAIN levels (at most 1,000 and 16). A heavy product links HEAVY_LINKS
# heads: its view expands to HEAVY_LINKS × CHAIN = 10,000 services, the most one view
# may hold.
VAS, CHAIN, HEAVY_PRODUCTS, HEAVY_LINKS = 35_000, 10, 10, 1_000


def catalogue(directory, prefix, profiles):
    sale = ["Venta", "Cartera"]
    services = [{"id": f"S{i}", "name": f"network service {i}", "network_code": f"net{i % 7}", "is_changeable": i % 2 == 0,
                 "activate_on_network_provisioning": True, "language": "ESPANOL"} for i in range(2_000)]
    base_profiles = [{"id": f"BP{i}", "name": f"base profile {i}", "network_id": str(i % 5), "manual_renewal": False,
                      "services": [{"service_id": f"S{(i * 5 + k) % 2_000}", "from": "2019-08-24T14:15:22Z", "to": None}
                                   for k in range(5)]} for i in range(1_000)]
    vas = [{"id": f"V{i}", "name": f"value-added service {i}", "mysim_service_id": f"MS{i}",
            "requires": [{"value_added_service_id": f"V{i + 1}", "is_mandatory": i % 3 == 0, "max_quantity": 1}]
            if i % CHAIN != CHAIN - 1 else []} for i in range(VAS)]
    heads = VAS // CHAIN

    def link(head, mandatory=False):
        return {"value_added_service_id": f"V{head * CHAIN}", "is_mandatory": mandatory, "max_quantity": 2,
                "sale_type_names": sale}

    commercial = [{"id": f"CP{c}", "name": f"commercial product {c}", "base_profile_ids": [f"BP{c % 1_000}", f"BP{(c + 1) % 1_000}"],
                   "value_added_services": [link((c * 10 + k) % heads) for k in range(10)]} for c in range(1_000)]
    commercial += [{"id": f"H{h}", "name": f"heavy product {h}",
                    "value_added_services": [link((h * 300 + k) % heads) for k in range(HEAVY_LINKS)]}
                   for h in range(HEAVY_PRODUCTS)]
    names = [f"{prefix}-{i:05d}" for i in range(int(profiles))]
    bundled = []
    for b in range(200):
        links = [{"profile_name": names[(b * 5 + k) % len(names)], "territory_owners": [f"OWNER{k}"],
                  "activation_work_order_type_id": "WO_ACT", "deactivation_work_order_type_id": "WO_DEACT",
                  "suspension_work_order_type_id": None, "resume_work_order_type_id": None,
                  "cancellation_work_order_type_id": "WO_CANCEL", "partial_cancellation_work_order_type_id": None}
                 for k in range(5)]
        subs = [{"id": f"ST{b}-{s}", "name": f"subscription type {s}",
                 "bundled_commercial_products": [{"id": f"BCP{b}-{s}-{p}", "commercial_product_id": f"CP{(b + p) % 1_000}",
                                                  "value_added_services": [link((b + s + p + k) % heads, k == 0) for k in range(5)]}
                                                 for p in range(2)]} for s in range(2)]
        bundled.append({"id": f"B{b}", "name": f"bundled product {b}", "provisioning_profiles": links,
                        "bundled_product_subs_types": subs})
    document = {"services": services, "base_profiles": base_profiles, "value_added_services": vas,
                "commercial_products": commercial, "bundled_products": bundled}
    # Two versions that differ in one name: each import replaces the whole catalogue.
    for version in (0, 1):
        document["value_added_services"][0]["name"] = f"value-added service 0, version {version}"
        with open(os.path.join(directory, f"catalogue-{version}.json"), "w") as f:
            json.dump(document, f, separators=(",", ":"))
    views = [f"/commercial_products/H{h}/value_added_services" for h in range(HEAVY_PRODUCTS)]
    views += ["/base_profiles", "/commercial_products/CP7/base_profiles", "/bundled_products/B3/provisioning_profiles",
              "/bundled_commercial_products/BCP5-1-0/value_added_services",
              "/bundled_products/B5/bundled_product_subs_types/ST5-1/bundled_commercial_products/BCP5-1-0/value_added_services"]
    with open(os.path.join(directory, "views.txt"), "w") as f:
        f.write("\n".join(views) + "\n")


# ---- tenant A's load -------------------------------------------------------------------

# After a 429 or 503, A tries again after Retry-After or this many seconds, whichever is
# less: an impatient client, but one that does not spin.
RETRY_PAUSE = 0.25


class Load:
    def __init__(self, config):
        self.cfg = config
        self.deadline = time.monotonic() + config["seconds"]
        self.t0 = time.monotonic()
        self.records = []
        self.lock = threading.Lock()
        self.docs = [open(path, "rb").read() for path in config["documents"]]
        self.ids = [int(line) for line in open(config["ids"]) if line.strip()]
        self.views = [line.strip() for line in open(config["views"]) if line.strip()]
        self.basic = basic(config["user"], config["password"], config["tenant"])
        self.bearer = {"Authorization": f"Bearer {config['token']}", "Accept": "application/json"}
        self.catalogue = f"/v2/orgs/{config['tenant']}"
        # One kind a worker: "import", "export", "listing", "batch", "view", "history", "feed".
        self.workers = [kind for kind, count in config["mix"].items() for _ in range(count)]
        self.feed_after = {}

    def request(self, worker, n, kind):
        """The n-th request of a worker of this kind: (method, path, headers, body)."""
        if kind == "import":
            return "PUT", f"{self.catalogue}/catalogue", self.bearer, self.docs[(n + worker) % len(self.docs)]
        if kind == "export":
            return "GET", f"{self.catalogue}/catalogue", self.bearer, None
        if kind == "listing":
            return "GET", "/pcc/spcm/provisionProfile", self.basic, None
        if kind == "batch":
            # 1,000 of A's profiles in turn, each to a value no other request sends.
            start = (n * len(self.workers) + worker) * 1000 % len(self.ids)
            items = [{"id": self.ids[(start + k) % len(self.ids)], "subscriberClass": f"a-{worker}-{n}"} for k in range(1000)]
            return "PUT", "/pcc/spcm/provisionProfile", self.basic, json.dumps(items).encode()
        if kind == "view":
            return "GET", self.catalogue + self.views[(n + worker) % len(self.views)], self.bearer, None
        if kind == "history":
            return "GET", f"/pcc/spcm/provisionProfile/{random.choice(self.ids)}/history", self.basic, None
        if kind == "feed":
            return "GET", f"/pcc/spcm/changes?after={self.feed_after.get(worker, 0)}&limit=1000", self.basic, None
        raise ValueError(kind)

    def worker(self, kind, worker):
        conn, n = connect(self.cfg["base"]), 0
        while time.monotonic() < self.deadline:
            method, path, headers, body = self.request(worker, n, kind)
            n += 1
            start = time.monotonic()
            try:
                status, answer_headers, answer = call(conn, method, path, headers, body)
            except (OSError, http.client.HTTPException) as err:
                status, answer_headers, answer = 0, {}, type(err).__name__.encode()
                conn.close()
                conn = connect(self.cfg["base"])
            seconds = time.monotonic() - start
            with self.lock:
                self.records.append((start - self.t0, kind, status, seconds, len(answer)))
            if kind == "feed" and status == 200:
                changes = json.loads(answer).get("changes", [])
                # Reads the whole feed, page after page, then again from the start.
                self.feed_after[worker] = changes[-1]["id"] if len(changes) == 1000 else 0
            if status in (0, 429, 503):
                try:
                    pause = min(float(answer_headers.get("Retry-After", RETRY_PAUSE)), RETRY_PAUSE)
                except ValueError:
                    pause = RETRY_PAUSE
                time.sleep(pause)

    def run(self):
        threads = [threading.Thread(target=self.worker, args=(kind, i), daemon=True) for i, kind in enumerate(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, self.deadline + 120 - time.monotonic()))
        unfinished = sum(thread.is_alive() for thread in threads)
        with self.lock, open(self.cfg["out"], "w") as f:
            f.write("start\tkind\tstatus\tseconds\tbytes\n")
            for start, kind, status, seconds, size in sorted(self.records):
                f.write(f"{start:.3f}\t{kind}\t{status}\t{seconds:.4f}\t{size}\n")
        if unfinished:
            print(f"fairness.py: {unfinished} of tenant A's requests were still running 120 s after the end", file=sys.stderr)


# ---- sampling ------------------------------------------------------------------------------


def metrics(base):
    """The /metrics exposition as {(name, labels): value}."""
    conn = connect(base, timeout=5)
    try:
        _, _, body = call(conn, "GET", "/metrics", {})
    finally:
        conn.close()
    values = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        name, _, labels = key.partition("{")
        values[(name, labels.rstrip("}"))] = float(value)
    return values


def total(values, name):
    return sum(v for (n, _), v in values.items() if n == name)


def proc_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


def descendants_ticks(root, exclude):
    """CPU ticks of every process below `root` (the bench script: wrk, A's client, the
    sampler), except `exclude` (spcm): the load generators."""
    children, ticks = collections.defaultdict(list), {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[fields[1]].append(pid)
        ticks[pid] = int(fields[11]) + int(fields[12])
    found, todo = {}, [str(root)]
    while todo:
        for child in children.get(todo.pop(), []):
            if child != str(exclude):
                found[child] = ticks[child]
                todo.append(child)
    return found


def fsync_ms(directory):
    """Milliseconds to write and sync 4 KiB in `directory` (where the SQLite file is):
    how slow the disk's syncs are at the moment, whoever causes it."""
    path = os.path.join(directory, "fsync-probe")
    start = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"x" * 4096)
        os.fsync(fd)
    finally:
        os.close(fd)
    return (time.monotonic() - start) * 1000


def machine_busy():
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    return cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7]


def server_ticks(url):
    """CPU ticks of the database server's processes on this machine (0 for SQLite)."""
    if url.startswith(("postgres://", "postgresql://")):
        pids = subprocess.run(["pgrep", "-u", "postgres"], capture_output=True, text=True).stdout.split()
    elif url.startswith(("mysql://", "mariadb://")):
        pids = subprocess.run(["pgrep", "-x", "mariadbd|mysqld"], capture_output=True, text=True).stdout.split()
    else:
        return 0
    return sum(proc_ticks(pid) for pid in pids)


def server_query(url, sql):
    """Rows (lists of text) of one statement on the run's own database, or [] on SQLite."""
    if url.startswith(("postgres://", "postgresql://")):
        out = subprocess.run(["psql", url, "-qAt", "-F", "\t", "-c", sql], capture_output=True, text=True, timeout=5)
    elif url.startswith(("mysql://", "mariadb://")):
        p = urllib.parse.urlsplit(url)
        env = dict(os.environ, MYSQL_PWD=urllib.parse.unquote(p.password or ""))
        out = subprocess.run(["mysql", "-h", p.hostname or "127.0.0.1", "-P", str(p.port or 3306), "-u",
                              urllib.parse.unquote(p.username or "root"), "-N", "-B", "-e", sql, p.path.lstrip("/")],
                             capture_output=True, text=True, timeout=5, env=env)
    else:
        return []
    return [line.split("\t") for line in out.stdout.splitlines() if line]


# What the database's sessions of this run wait for, by state and wait event.
WAITS = {
    "postgres": "SELECT state, coalesce(wait_event_type, 'CPU'), coalesce(wait_event, 'running'), count(*) "
                "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "GROUP BY 1, 2, 3",
    "mysql": "SELECT command, coalesce(nullif(state, ''), '-'), '-', count(*) FROM information_schema.processlist "
             "WHERE db = database() AND id <> connection_id() GROUP BY 1, 2",
}


def sample(config, out):
    cfg = json.load(open(config))
    url, base, pid, root, probe = cfg["database_url"], cfg["base"], cfg["pid"], cfg["script"], cfg["probe_dir"]
    waits = WAITS["postgres"] if url.startswith("postgres") else WAITS["mysql"] if url.startswith(("mysql", "mariadb")) else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    columns = ["t", "pool_in_use", "pool_idle", "in_flight", "queries", "shed", "wal_syncs", "spcm_cores",
               "database_cores", "machine_cores", "clients_cores", "load1", "fsync_ms"]
    t0, last, clients = time.monotonic(), None, {}
    with open(out, "w", buffering=1) as f, open(out.replace(".tsv", "-waits.tsv"), "w", buffering=1) as w:
        f.write("\t".join(columns) + "\n")
        w.write("t\tstate\twait_event_type\twait_event\tsessions\n")
        while True:
            now = time.monotonic()
            ticks = (now, proc_ticks(pid), server_ticks(url), machine_busy())
            seen = descendants_ticks(root, pid)
            # A process that started since the last sample counts from 0.
            client_ticks = sum(t - clients.get(p, 0) for p, t in seen.items())
            clients = seen
            try:
                m = metrics(base)
            except (OSError, http.client.HTTPException):
                m = {}
            if last:
                cores = [(b - a) / HZ / (ticks[0] - last[0]) for a, b in zip(last[1:], ticks[1:])]
                row = [now - t0, total(m, "spcm_db_pool_connections_in_use"), total(m, "spcm_db_pool_connections_idle"),
                       total(m, "spcm_requests_in_flight"), total(m, "spcm_db_queries_total"),
                       total(m, "spcm_requests_shed_total"), total(m, "spcm_sqlite_wal_syncs_total"), *cores,
                       client_ticks / HZ / (ticks[0] - last[0]), float(open("/proc/loadavg").read().split()[0]),
                       fsync_ms(probe)]
                f.write("\t".join(f"{v:.2f}" for v in row) + "\n")
            last = ticks
            if waits:
                try:
                    for row in server_query(url, waits):
                        w.write(f"{now - t0:.2f}\t" + "\t".join(row) + "\n")
                except subprocess.TimeoutExpired:
                    w.write(f"{now - t0:.2f}\ttimeout\t-\t-\t1\n")
            time.sleep(max(0.0, 1.0 - (time.monotonic() - now)))


def threads(pid):
    """Per thread: id, name, CPU ticks, and from schedstat the nanoseconds on a CPU, the
    nanoseconds runnable but waiting for one (the run queue), and the time slices."""
    for task in sorted(os.listdir(f"/proc/{pid}/task")):
        try:
            name = open(f"/proc/{pid}/task/{task}/comm").read().strip()
            sched = open(f"/proc/{pid}/task/{task}/schedstat").read().split()
            print(f"{task}\t{name}\t{proc_ticks(f'{pid}/task/{task}')}\t" + "\t".join(sched[:3]))
        except OSError:
            pass


# ---- digests for the summary --------------------------------------------------------------


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        return [dict(zip(head, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def labels_of(text):
    return dict(re.findall(r'(\w+)="([^"]*)"', text))


def histogram_delta(before, after, method, route):
    """(count, sum, {le: count}) of one route's latency histogram between two snapshots."""
    buckets, count, seconds = {}, 0.0, 0.0
    for (name, text), value in after.items():
        if not name.startswith("spcm_http_request_duration_seconds_"):
            continue
        labels = labels_of(text)
        if labels.get("method") != method or labels.get("route") != route:
            continue
        delta = value - before.get((name, text), 0)
        if name.endswith("_bucket"):
            buckets[labels["le"]] = delta
        elif name.endswith("_count"):
            count = delta
        elif name.endswith("_sum"):
            seconds = delta
    return count, seconds, buckets


def bucket_quantile(buckets, count, q):
    """The least bucket bound under which a share q of the answers fell, as text."""
    if count <= 0:
        return "—"
    for le, n in sorted(((float(le), n) for le, n in buckets.items() if le != "+Inf")):
        if n >= q * count:
            return f"≤ {le * 1000:g} ms"
    return "> 5,000 ms"


def parse_snapshot(path):
    values = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("#") or not line.strip():
                continue
            key, _, value = line.rstrip("\n").rpartition(" ")
            name, _, labels = key.partition("{")
            values[(name, labels.rstrip("}"))] = float(value)
    return values


# The routes of B's requests; A uses none of them.
B_ROUTES = [("GET", "/pcc/spcm/provisionProfile/{id}"), ("PUT", "/pcc/spcm/provisionProfile/{id}")]


def digest(results, seconds, phases):
    out, span = [], float(seconds)
    for phase in phases:
        rows = read_tsv(os.path.join(results, f"samples-{phase}.tsv"))
        if not rows:
            continue
        col = lambda name: [float(r[name]) for r in rows]
        mean = lambda xs: sum(xs) / len(xs)
        out.append(f"- **{phase}**, {len(rows)} one-second samples: spcm used {mean(col('spcm_cores')):.2f} cores "
                   f"(max {max(col('spcm_cores')):.2f}), the database server {mean(col('database_cores')):.2f}, "
                   f"the load generators (wrk, A's client, the sampler) {mean(col('clients_cores')):.2f}, the rest of the "
                   f"machine {max(0.0, mean(col('machine_cores')) - mean(col('spcm_cores')) - mean(col('database_cores')) - mean(col('clients_cores'))):.2f}"
                   f" (busy {mean(col('machine_cores')):.2f} of {os.cpu_count()} cores); pool connections in use {mean(col('pool_in_use')):.1f} on average, "
                   f"{max(col('pool_in_use')):.0f} at most (idle {min(col('pool_idle')):.0f} at least); requests in "
                   f"flight {mean(col('in_flight')):.1f} on average, {max(col('in_flight')):.0f} at most; "
                   f"statements {(col('queries')[-1] - col('queries')[0]) / max(1, len(rows) - 1):.0f}/s; "
                   f"shed (503) {col('shed')[-1] - col('shed')[0]:.0f}; load average {col('load1')[0]:.2f} → {col('load1')[-1]:.2f}; "
                   f"a 4 KiB write + fsync beside the SQLite file took {quantile(col('fsync_ms'), 0.5):.1f} ms (median), "
                   f"{max(col('fsync_ms')):.0f} ms at most")
        # Server-side latency of B's routes, from spcm's own histogram.
        before = parse_snapshot(os.path.join(results, f"metrics-{phase}-before.txt"))
        after = parse_snapshot(os.path.join(results, f"metrics-{phase}-after.txt"))
        parts = []
        for method, route in B_ROUTES:
            count, total_seconds, buckets = histogram_delta(before, after, method, route)
            if count:
                parts.append(f"{method} {count:.0f} answers, mean {total_seconds / count * 1000:.2f} ms, p50 "
                             f"{bucket_quantile(buckets, count, 0.5)}, p99 {bucket_quantile(buckets, count, 0.99)}")
        if parts:
            out.append(f"  - B's requests inside spcm (route histogram, from routing to the answer): {'; '.join(parts)}")
        counters = {name: total(after, name) - total(before, name) for name in (
            "spcm_read_cache_hits_total", "spcm_read_cache_misses_total", "spcm_credential_cache_hits_total",
            "spcm_credential_cache_misses_total", "spcm_password_checks_total", "spcm_catalogue_cache_loads_total")}
        out.append(f"  - reads answered from memory / from the database: {counters['spcm_read_cache_hits_total']:.0f} / "
                   f"{counters['spcm_read_cache_misses_total']:.0f}; credentials from memory / checked: "
                   f"{counters['spcm_credential_cache_hits_total']:.0f} / {counters['spcm_credential_cache_misses_total']:.0f} "
                   f"(argon2 runs {counters['spcm_password_checks_total']:.0f}); stored catalogues read and parsed: "
                   f"{counters['spcm_catalogue_cache_loads_total']:.0f}")
        refused = {labels_of(labels).get("work", "?"): value - before.get((name, labels), 0)
                   for (name, labels), value in after.items() if name == "spcm_tenant_work_refused_total"}
        if refused:
            out.append("  - expensive requests refused by the per-tenant bound (429), by kind: "
                       + ", ".join(f"{work} {n:.0f}" for work, n in sorted(refused.items())))
        # Every route's answers and the time they spent inside spcm, most time first.
        routes = collections.Counter()
        for (name, labels), value in after.items():
            if name == "spcm_http_request_duration_seconds_sum":
                routes[labels] = value - before.get((name, labels), 0)
        parts = []
        for labels, total_seconds in routes.most_common(10):
            method, route = labels_of(labels)["method"], labels_of(labels)["route"]
            count, _, _ = histogram_delta(before, after, method, route)
            if count and route != "/metrics":
                who = "B" if (method, route) in B_ROUTES else "A"
                parts.append(f"{who} {method} {route.replace('/pcc/spcm', '').replace('/v2/orgs/{org_id}', '/v2')} "
                             f"{count:.0f} × {total_seconds / count * 1000:.1f} ms ({total_seconds / span:.2f} running)")
        if parts:
            out.append(f"  - answers by route inside spcm, most time first (count × mean; requests running on average): {'; '.join(parts)}")
        # CPU and run-queue waits by thread, digits of the names folded (`actix-rt|system:N|arbiter:N`).
        threads = {}
        for moment in ("before", "after"):
            for line in open(os.path.join(results, f"threads-{phase}-{moment}.txt")):
                tid, name, *numbers = line.rstrip("\n").split("\t")
                threads.setdefault(tid, {"name": re.sub(r"\d+", "N", name)})[moment] = [int(x) for x in numbers]
        groups = collections.defaultdict(lambda: {"threads": 0, "run_ns": 0, "wait_ns": 0, "slices": 0})
        for thread in threads.values():
            if "after" not in thread:
                continue  # ended during the phase: its last figures are lost
            start, group = thread.get("before", [0, 0, 0, 0]), groups[thread["name"]]
            group["threads"] += 1
            for i, key in ((1, "run_ns"), (2, "wait_ns"), (3, "slices")):
                group[key] += max(0, thread["after"][i] - start[i])
        listed = []
        for name, g in sorted(groups.items(), key=lambda item: -item[1]["run_ns"])[:5]:
            if g["run_ns"]:
                listed.append(f"`{name}` ×{g['threads']}: on a CPU {g['run_ns'] / 1e9 / span:.2f} cores, waiting for one "
                              f"{g['wait_ns'] / 1e9 / span:.2f} (mean wait {g['wait_ns'] / max(1, g['slices']) / 1e3:.0f} µs "
                              f"per turn on a CPU)")
        out.append(f"  - spcm's threads (runnable but waiting = the run queue): {'; '.join(listed) or 'none'}")
        waits = read_tsv(os.path.join(results, f"samples-{phase}-waits.tsv"))
        if waits:
            active = collections.Counter()
            for w in waits:
                if w["state"] not in ("idle", "Sleep"):
                    active[f"{w['state']} {w['wait_event_type']}/{w['wait_event']}"] += int(w["sessions"])
            n = max(1, len({w["t"] for w in waits}))
            listed = ", ".join(f"{key} {count / n:.2f}" for key, count in active.most_common(8))
            out.append(f"  - database sessions of the run, busy, by wait event (sessions on average): {listed or 'none'}")
        warnings = collections.Counter()
        log = os.path.join(results, f"spcm-{phase}.log")
        for line in open(log) if os.path.exists(log) else []:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") in ("WARN", "ERROR"):
                fields = entry.get("fields", {})
                path = re.sub(r"\d+", "N", str(fields.get("path", "")))
                text = " ".join(str(fields[k]) for k in ("message", "error", "status", "method") if k in fields)
                warnings[f"{text} {path}".strip()[:160]] += 1
        listed = "; ".join(f"{n} × \"{text}\"" for text, n in warnings.most_common(6))
        out.append(f"  - spcm's warnings (database faults, overload): {listed or 'none'}")
    print("\n".join(out))


def a_summary(path, seconds):
    rows = read_tsv(path)
    statuses = collections.Counter(r["status"] if r["status"] != "0" else "no answer" for r in rows)
    print(f"A's requests: {len(rows)} answered over {seconds} s; by status: "
          + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())) + ".")
    print()
    kinds = collections.OrderedDict()
    for r in rows:
        kinds.setdefault(r["kind"], []).append(r)
    print("| A's request | answers | by status | p50 | max | MB/s answered |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for kind, rs in kinds.items():
        statuses = collections.Counter(r["status"] for r in rs)
        by = ", ".join(f"{s if s != '0' else 'no answer'}: {n}" for s, n in sorted(statuses.items()))
        times = [float(r["seconds"]) for r in rs]
        size = sum(int(r["bytes"]) for r in rs) / 1e6 / max(1.0, float(seconds))
        print(f"| {kind} | {len(rs)} | {by} | {quantile(times, 0.5) * 1000:.0f} ms | {max(times) * 1000:.0f} ms | {size:.1f} |")


def main():
    if len(sys.argv) < 2:
        die(__doc__)
    command, args = sys.argv[1], sys.argv[2:]
    if command == "seed":
        seed(*args)
    elif command == "catalogue":
        catalogue(*args)
    elif command == "load":
        cfg = json.load(open(args[0]))
        Load(cfg).run()
    elif command == "sample":
        sample(*args)
    elif command == "threads":
        threads(args[0])
    elif command == "digest":
        digest(args[0], args[1], args[2:])
    elif command == "a-summary":
        a_summary(*args)
    else:
        die(f"unknown command {command}")


if __name__ == "__main__":
    main()
