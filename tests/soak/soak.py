"""The soak run (make soak; see soak.sh): mixed traffic against one
`tokenq serve` for SOAK_MINUTES, with the server restarted every
SOAK_ROLL_MINUTES under a new TOKENQ_DAY_START so that business dates roll
over, once live in the middle of each segment and again at each restart.

Traffic (modest: the machine is shared):
  - order clients: new orders, a share with an Idempotency-Key, some sent
    twice (replays);
  - staff clients: move open orders on PENDING -> PREPARING -> READY ->
    (recall) -> COMPLETED, and cancel some;
  - readers: the board, token lookups, lists, stats, CSV, single orders;
  - SOAK_STREAMS (200) event-stream clients that reconnect with
    Last-Event-ID whenever they are dropped (restarts included) and check
    that they see every event id exactly once, in order.
Every 10 s: the server's RSS (and its anonymous part), open descriptors,
established connections, threads, the SQLite files' sizes, and the
window's requests, errors and p99 latency; once a minute its live malloc
heap (bytes in use, read with gdb: SOAK_HEAP=0 turns that off; the attach
stalls the server for a few hundred ms) -- printed as a table, written to
soak.csv, and plotted to soak.png when gnuplot is installed. At the end: a
verdict per measure -- flat or growing: the last third's median against
the first third's, and the slope of each server process in its steady
state (after a 6-minute warm-up in which the event ring of 4,096 rendered
events fills: a leak keeps growing, warm-up levels off). The live heap is
the leak detector; RSS gets more room, since it also holds the free memory
the allocator keeps after transient allocations that grow with the day's
data (/api/stats and the CSV read the whole day). Then the stream
clients' exactly-once check, and the database's gapless numbers and
integrity.

  python3 tests/soak/soak.py --minutes 30 --roll-minutes 10 --out build/soak
  python3 tests/soak/soak.py --report build/soak     (verdict and plot again)
"""

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fault"))
import faultlib  # noqa: E402
from faultlib import Db, Server, order_body, request  # noqa: E402

QUEUES = "A=Dine-in,B=Takeaway"


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.window = []  # (latency, status)
        self.totals = {}
        self.unexpected = []

    def note(self, lat, status, expected=True):
        with self.lock:
            self.window.append((lat, status))
            self.totals[status] = self.totals.get(status, 0) + 1
            if not expected and len(self.unexpected) < 50:
                self.unexpected.append(status)

    def take(self):
        with self.lock:
            w, self.window = self.window, []
        return w


class Soak:
    def __init__(self, a):
        self.a = a
        self.out = Path(a.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="tokenq-soak."))
        self.stop = threading.Event()
        self.stats = Stats()
        self.cluster = None
        if a.backend == "postgres":
            admin = os.environ.get("TOKENQ_TEST_PG")
            if not admin:
                self.cluster = faultlib.PgCluster()
                admin = self.cluster.url
            self.db = Db("postgres", self.tmp, admin_url=admin)
        else:
            self.db = Db("sqlite", self.tmp)
        self.port = faultlib.free_port()
        self.srv = None
        self.segment = 0
        self.restarts = []  # sample index at each restart
        self.open_orders = []  # ids to move on
        self.olock = threading.Lock()
        self.tokens = []
        self.samples = []
        self.streams = []
        self.dates = set()
        self.heap = None

    # -- the server

    def start_server(self):
        seg = min(self.a.roll_minutes, self.a.minutes - (time.monotonic() - self.t0) / 60)
        start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=max(seg, 1) / 2)
        day_start = start.strftime("%H:%M")
        self.srv = Server(
            self.db,
            self.out,
            port=self.port,
            env={"TOKENQ_TIMEZONE": "UTC", "TOKENQ_DAY_START": day_start, "TOKENQ_QUEUES": QUEUES},
        ).start(timeout=60)
        self.segment += 1
        self.restarts.append(len(self.samples))
        log(f"segment {self.segment}: server pid {self.srv.pid}, TOKENQ_DAY_START={day_start} (rolls at {day_start} UTC)")

    def restart_server(self):
        rc = self.srv.stop(timeout=20)
        if rc != 0:
            self.stats.unexpected.append(f"server exit {rc}")
            log(f"server exited with {rc}")
        self.start_server()

    # -- traffic

    def req(self, conn, method, path, body=None, headers=None, ok=(200, 201)):
        t = time.monotonic()
        try:
            r = request(self.port, method, path, body=body, headers=headers, conn=conn, timeout=30)
        except (OSError, http.client.HTTPException):
            self.stats.note(time.monotonic() - t, "conn_error")
            return None
        # 503 is allowed only around restarts (the database is always there).
        self.stats.note(time.monotonic() - t, r.status, r.status in ok or r.status == 409)
        return r

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def orders_client(self, i):
        rng = random.Random(i)
        c = self.conn()
        while not self.stop.is_set():
            body = order_body(rng)
            hdrs = {"Idempotency-Key": f"soak-{uuid.uuid4().hex}"} if rng.random() < 0.3 else None
            r = self.req(c, "POST", "/api/orders", body=body, headers=hdrs)
            if r is None:
                c.close()
                c = self.conn()
                time.sleep(0.5)
                continue
            if r.status == 201:
                with self.olock:
                    self.open_orders.append(r.body["id"])
                    self.tokens.append((r.body["token"], r.body["business_date"]))
                    self.dates.add(r.body["business_date"])
                    del self.tokens[:-500]
                if hdrs and rng.random() < 0.2:
                    r2 = self.req(c, "POST", "/api/orders", body=body, headers=hdrs)
                    if r2 is not None and r2.status == 200 and r2.body["id"] != r.body["id"]:
                        self.stats.unexpected.append("replay gave another order")
            self.stop.wait(rng.expovariate(self.a.rate / self.a.order_clients))
        c.close()

    def staff_client(self, i):
        rng = random.Random(100 + i)
        c = self.conn()
        nxt = {"PENDING": "PREPARING", "PREPARING": "READY", "READY": "COMPLETED"}
        while not self.stop.is_set():
            with self.olock:
                oid = rng.choice(self.open_orders) if self.open_orders else None
            if oid is None:
                self.stop.wait(0.2)
                continue
            r = self.req(c, "GET", f"/api/orders/{oid}")
            if r is None:
                c.close()
                c = self.conn()
                time.sleep(0.5)
                continue
            st = r.body["status"] if r.status == 200 else None
            if st in nxt:
                if st == "READY" and rng.random() < 0.3:
                    self.req(c, "POST", f"/api/orders/{oid}/recall")
                to = "CANCELLED" if rng.random() < 0.05 else nxt[st]
                self.req(c, "PATCH", f"/api/orders/{oid}", body={"status": to})
                if to in ("COMPLETED", "CANCELLED"):
                    with self.olock:
                        if oid in self.open_orders:
                            self.open_orders.remove(oid)
            else:
                with self.olock:
                    if oid in self.open_orders:
                        self.open_orders.remove(oid)
            self.stop.wait(rng.expovariate(self.a.rate * 1.5 / self.a.staff_clients))
        c.close()

    def reader(self, i):
        rng = random.Random(200 + i)
        c = self.conn()
        while not self.stop.is_set():
            k = rng.randrange(6)
            if k == 0:
                r = self.req(c, "GET", "/api/board")
            elif k == 1:
                with self.olock:
                    tok = rng.choice(self.tokens) if self.tokens else None
                r = self.req(c, "GET", f"/api/tokens/{tok[0]}?date={tok[1]}") if tok else None
            elif k == 2:
                r = self.req(c, "GET", "/api/orders?limit=50&status=PENDING,PREPARING,READY")
            elif k == 3:
                r = self.req(c, "GET", "/api/stats")
            elif k == 4:
                r = self.req(c, "GET", "/api/orders.csv?queue=A")
            else:
                r = self.req(c, "GET", "/healthz")
            if r is None and k != 1:
                c.close()
                c = self.conn()
                time.sleep(0.5)
            self.stop.wait(rng.expovariate(2.0))
        c.close()

    # -- stream clients

    def stream_client(self, i, st):
        """Reads events; reconnects with Last-Event-ID; every id exactly once."""
        rng = random.Random(300 + i)
        time.sleep(rng.random() * 5)
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            except OSError:
                self.stop.wait(1 + rng.random())
                continue
            hdr = f"Last-Event-ID: {st['last']}\r\n" if st["last"] is not None else ""
            try:
                s.sendall(f"GET /api/events HTTP/1.1\r\nHost: soak\r\n{hdr}\r\n".encode())
                s.settimeout(40)  # a comment comes at least every 15 s
                buf = b""
                while not self.stop.is_set():
                    b = s.recv(65536)
                    if not b:
                        break
                    buf += b
                    while b"\n\n" in buf:
                        ev, buf = buf.split(b"\n\n", 1)
                        for line in ev.split(b"\n"):
                            if line.startswith(b"id: "):
                                eid = int(line[4:])
                                if st["last"] is not None and eid != st["last"] + 1:
                                    if eid <= st["last"]:
                                        st["dups"] += 1
                                    else:
                                        st["gaps"] += 1
                                st["last"] = eid
                                st["events"] += 1
            except (OSError, ValueError):
                pass
            finally:
                s.close()
            if not self.stop.is_set():
                st["reconnects"] += 1
                self.stop.wait(0.5 + rng.random() * 2)

    # -- sampling

    def sample(self, t0):
        pid = self.srv.pid
        status = faultlib.proc_status(pid)
        w = self.stats.take()
        lats = sorted(x[0] for x in w)
        errors = sum(1 for x in w if x[1] not in (200, 201, 409))
        conns = established(self.port)
        files = {}
        if self.db.backend == "sqlite":
            for suf in ("", "-wal"):
                try:
                    files[suf] = os.path.getsize(self.db.path + suf)
                except OSError:
                    files[suf] = 0
        new_process = not self.samples or self.samples[-1]["segment"] != self.segment
        if new_process:
            self.heap = None
        if self.a.heap and (len(self.samples) % 6 == 0 or new_process):
            h = live_heap_mb(pid)
            if h is not None:
                self.heap = h
            elif self.heap is None:
                self.a.heap = False  # gdb cannot attach here: stop trying
        row = {
            "t_min": (time.monotonic() - t0) / 60,
            "segment": self.segment,
            "rss_mb": status.get("VmRSS", 0) / 1024,
            "anon_mb": status.get("RssAnon", 0) / 1024,
            "heap_mb": self.heap if self.heap is not None else 0.0,
            "fds": self.srv.nfds(),
            "conns": conns,
            "threads": int(status.get("Threads", 0) or 0),
            "requests": len(w),
            "errors": errors,
            "p99_ms": (lats[min(len(lats) - 1, int(len(lats) * 0.99))] * 1000) if lats else 0.0,
            "db_mb": files.get("", 0) / 1e6,
            "wal_mb": files.get("-wal", 0) / 1e6,
            "stream_events": sum(st["events"] for st in self.streams),
        }
        self.samples.append(row)
        return row

    # -- the run

    def run(self):
        a = self.a
        t0 = self.t0 = time.monotonic()
        self.start_server()
        threads = []
        for i in range(a.order_clients):
            threads.append(threading.Thread(target=self.orders_client, args=(i,), daemon=True))
        for i in range(a.staff_clients):
            threads.append(threading.Thread(target=self.staff_client, args=(i,), daemon=True))
        for i in range(a.readers):
            threads.append(threading.Thread(target=self.reader, args=(i,), daemon=True))
        for i in range(a.streams):
            st = {"last": None, "events": 0, "gaps": 0, "dups": 0, "reconnects": 0}
            self.streams.append(st)
            threads.append(threading.Thread(target=self.stream_client, args=(i, st), daemon=True))
        for t in threads:
            t.start()
        hdr = f"{'min':>6} {'seg':>3} {'rss_mb':>7} {'anon':>6} {'heap':>6} {'fds':>5} {'conns':>5} {'thr':>4} {'req':>5} {'err':>4} {'p99_ms':>7} {'db_mb':>6} {'wal_mb':>6} {'events':>9}"
        print(hdr, flush=True)
        end = t0 + a.minutes * 60
        next_roll = t0 + a.roll_minutes * 60
        next_sample = t0 + a.interval
        while time.monotonic() < end:
            time.sleep(max(0, min(next_sample, end) - time.monotonic()))
            now = time.monotonic()
            if now >= next_sample:
                r = self.sample(t0)
                print(
                    f"{r['t_min']:6.1f} {r['segment']:3d} {r['rss_mb']:7.1f} {r['anon_mb']:6.1f} {r['heap_mb']:6.1f} {r['fds']:5d} {r['conns']:5d} {r['threads']:4d} "
                    f"{r['requests']:5d} {r['errors']:4d} {r['p99_ms']:7.1f} {r['db_mb']:6.2f} {r['wal_mb']:6.2f} {r['stream_events']:9d}",
                    flush=True,
                )
                next_sample += a.interval
            if now >= next_roll and now < end - a.interval:
                log("restarting the server with a new day start")
                self.restart_server()
                next_roll += a.roll_minutes * 60
        self.stop.set()
        for t in threads:
            t.join(60)
        return self.finish()

    def finish(self):
        rc = self.srv.stop(timeout=20)
        verdicts = []
        write_csv(self.out / "soak.csv", self.samples)
        plotted = plot(self.out, self.samples, self.restarts)
        ok = True
        print()
        ok &= verdict(self.samples, self.restarts)
        wal = [r["wal_mb"] for r in self.samples]
        if self.db.backend == "sqlite" and wal:
            print(f"  SQLite WAL: max {max(wal):.2f} MB, last {wal[-1]:.2f} MB (checkpointed at 1000 pages)")
        print(f"  server exit status at the end: {rc}")
        ok &= rc == 0
        gaps = sum(st["gaps"] for st in self.streams)
        dups = sum(st["dups"] for st in self.streams)
        recon = sum(st["reconnects"] for st in self.streams)
        evs = sum(st["events"] for st in self.streams)
        print(
            f"  streams: {len(self.streams)} clients, {evs} events received, {recon} reconnects, "
            f"{gaps} gaps, {dups} duplicates"
        )
        ok &= gaps == 0 and dups == 0
        total = faultlib.check_sequences(self.db)
        integrity = faultlib.check_integrity(self.db)
        print(f"  database: {total} orders over business dates {sorted(self.dates)}, gapless; {integrity}")
        tot = self.stats.totals
        print(f"  requests by status: {dict(sorted(tot.items(), key=str))}")
        bad = [u for u in self.stats.unexpected if u not in (503,)]
        if bad:
            print(f"  unexpected answers: {bad[:20]}")
            ok = False
        if plotted:
            print(f"  plot: {plotted}")
        print(f"  table: {self.out / 'soak.csv'}")
        print("SOAK " + ("PASSED: flat" if ok else "FAILED"))
        self.db.drop()
        if self.cluster:
            self.cluster.destroy()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return ok


def live_heap_mb(pid):
    """The server's live malloc heap (glibc mallinfo2().uordblks: bytes in
    use, not the free memory the allocator keeps), read by attaching gdb for
    a moment; None when gdb or ptrace is not available."""
    if not shutil.which("gdb"):
        return None
    try:
        r = subprocess.run(
            ["gdb", "-p", str(pid), "-batch", "-ex", "call (unsigned long) mallinfo2().uordblks"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in r.stdout.splitlines():
        if line.startswith("$1 = "):
            try:
                return int(line.split("=", 1)[1]) / 1e6
            except ValueError:
                return None
    return None


def log(msg):
    print(f"# {time.strftime('%H:%M:%S')} {msg}", flush=True)


def established(port):
    """Established TCP connections whose local port is the server's."""
    n = 0
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    p = line.split()
                    if p[3] == "01" and int(p[1].rsplit(":", 1)[1], 16) == port:
                        n += 1
        except OSError:
            pass
    return n


WARMUP_MIN = 6.0


def slope_per_min(points):
    """Least-squares slope of (minutes, value) points."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else 0.0


def trend(samples, restarts, key, slack, slope_max):
    """Flat when the last third's median is within 10 % + slack of the first
    third's, and no server process grows by more than slope_max per minute
    in its second half (a leak grows steadily; warm-up levels off)."""
    vals = [r[key] for r in samples]
    if len(vals) < 3:
        return f"{key}: too few samples", True
    k = max(1, len(vals) // 3)
    first, last = statistics.median(vals[:k]), statistics.median(vals[-k:])
    thirds_flat = last <= first * 1.10 + slack
    bounds = restarts[1:] + [len(samples)]
    slopes = []
    for s, e in zip(restarts, bounds):
        seg = samples[s:e]
        if not seg:
            continue
        # Steady state: the second half of the process's life, and not before
        # WARMUP_MIN (the event ring of 4,096 rendered events fills in ~5 min
        # at this traffic; SQLite's page caches fill meanwhile).
        born = seg[0]["t_min"]
        steady = [r for r in seg[len(seg) // 2 :] if r["t_min"] - born >= WARMUP_MIN]
        if len(steady) >= 6:
            slopes.append(slope_per_min([(r["t_min"], r[key]) for r in steady]))
    worst = max(slopes) if slopes else None
    slope_flat = worst is None or worst <= slope_max
    flat = thirds_flat and slope_flat
    within = f"{worst:+.2f}/min" if worst is not None else f"n/a (no process ran {WARMUP_MIN + 1:.0f} min)"
    return (
        f"{key}: first third {first:.1f}, last third {last:.1f} (allowed {first * 1.10 + slack:.1f}), "
        f"max {max(vals):.1f}; steepest steady-state slope {within} (allowed {slope_max}/min) "
        f"-> {'flat' if flat else 'GROWING'}",
        flat,
    )


def write_csv(path, samples):
    if not samples:
        return
    keys = list(samples[0].keys())
    with open(path, "w") as f:
        f.write(",".join(keys) + "\n")
        for r in samples:
            f.write(",".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in keys) + "\n")


def plot(out, samples, restarts):
    if not shutil.which("gnuplot") or not samples:
        return None
    png = out / "soak.png"
    marks = "".join(
        f"set arrow from {samples[i]['t_min'] if i < len(samples) else samples[-1]['t_min']:.2f}, graph 0 "
        f"to {samples[i]['t_min'] if i < len(samples) else samples[-1]['t_min']:.2f}, graph 1 nohead dt 3 lc rgb 'gray'\n"
        for i in restarts[1:]
    )
    script = f"""
set terminal pngcairo size 1100,700 noenhanced
set output '{png}'
set datafile separator ','
set multiplot layout 2,1 title 'tokenq soak: dotted lines are restarts with a new day start'
set key outside right
set xlabel 'minutes'
set ylabel 'MB'
{marks}
plot '{out / "soak.csv"}' using 1:3 every ::1 with linespoints title 'RSS MB', '' using 1:4 every ::1 with linespoints title 'anonymous RSS MB', '' using 1:($5 > 0 ? $5 : 1/0) every ::1 with linespoints title 'live heap MB', '' using 1:12 every ::1 with lines title 'SQLite db MB', '' using 1:13 every ::1 with lines title 'WAL MB'
set ylabel 'count'
plot '{out / "soak.csv"}' using 1:6 every ::1 with linespoints title 'open fds', '' using 1:7 every ::1 with linespoints title 'connections', '' using 1:8 every ::1 with lines title 'threads'
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        # pngcairo may be missing: fall back to the plain png terminal.
        r = subprocess.run(
            ["gnuplot"], input=script.replace("pngcairo", "png"), text=True, capture_output=True
        )
    return png if r.returncode == 0 and png.exists() else None


# measure: slack over the first third (plus 10 %), steepest allowed
# steady-state slope per minute. The live heap is the leak detector. RSS
# also holds what the allocator keeps after transient allocations, which
# grow with the day's data (the stats and the CSV read the whole day), so it
# gets more room.
MEASURES = (
    ("heap_mb", 3.0, 0.05),
    ("rss_mb", 8.0, 0.2),
    ("anon_mb", 8.0, 0.2),
    ("fds", 10, 0.5),
    ("conns", 25, 2.0),
    ("threads", 2, 0.05),
)


def verdict(samples, restarts):
    print("verdict: the last third against the first third (median), and the slope of each server")
    print(f"process in its steady state (its second half, after a {WARMUP_MIN:.0f}-minute warm-up):")
    ok = True
    for key, slack, slope_max in MEASURES:
        if key not in samples[0]:
            continue
        vals = [r for r in samples if not (key == "heap_mb" and r[key] == 0.0)]
        if not vals:
            print(f"  {key}: not measured (gdb could not attach)")
            continue
        rs = [i for i, r in enumerate(vals) if i == 0 or r["segment"] != vals[i - 1]["segment"]]
        v, flat = trend(vals, rs, key, slack, slope_max)
        ok &= flat
        print("  " + v)
    lives = [
        samples[e - 1]["t_min"] - samples[s]["t_min"]
        for s, e in zip(restarts, restarts[1:] + [len(samples)])
        if e > s
    ]
    if lives and max(lives) < WARMUP_MIN + 1:
        print(
            f"  (no server process ran past its {WARMUP_MIN:.0f}-minute warm-up, so a leak cannot be "
            "told from warm-up here: the 30-minute run can)"
        )
    return ok


def report(out, backend):
    """The verdict and the plot again, from a soak.csv (restarts are where
    the segment number changes)."""
    import csv

    samples = [
        {k: (int(v) if k in ("segment", "fds", "conns", "threads", "requests", "errors", "stream_events") else float(v))
         for k, v in r.items()}
        for r in csv.DictReader(open(out / "soak.csv"))
    ]
    restarts = [i for i, r in enumerate(samples) if i == 0 or r["segment"] != samples[i - 1]["segment"]]
    ok = verdict(samples, restarts)
    png = plot(out, samples, restarts)
    if png:
        print(f"  plot: {png}")
    print("SOAK " + ("flat" if ok else "GROWING"))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 30)))
    ap.add_argument("--roll-minutes", type=float, default=float(os.environ.get("SOAK_ROLL_MINUTES", 10)))
    ap.add_argument("--interval", type=float, default=float(os.environ.get("SOAK_INTERVAL", 10)))
    ap.add_argument("--streams", type=int, default=int(os.environ.get("SOAK_STREAMS", 200)))
    ap.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", 6)), help="orders/s")
    ap.add_argument("--order-clients", type=int, default=4)
    ap.add_argument("--staff-clients", type=int, default=2)
    ap.add_argument("--readers", type=int, default=2)
    ap.add_argument("--backend", default=os.environ.get("SOAK_BACKEND", "sqlite"), choices=("sqlite", "postgres"))
    ap.add_argument("--out", default=os.environ.get("SOAK_OUT", "build/soak"))
    ap.add_argument(
        "--heap",
        type=int,
        default=int(os.environ.get("SOAK_HEAP", 1)),
        help="sample the live heap with gdb once a minute (1) or not (0)",
    )
    ap.add_argument("--report", metavar="DIR", help="only redo the verdict and the plot from DIR/soak.csv")
    a = ap.parse_args()
    if a.report:
        sys.exit(0 if report(Path(a.report), a.backend) else 1)
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    ok = Soak(a).run()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    json  # noqa: B018  (kept for ad-hoc dumps)
    main()
