#!/usr/bin/env python3
"""Start-up time and idle memory of tokenq on SQLite.

  startup.py TOKENQ WORKDIR PORT [RUNS]

first answer: spawn `tokenq serve`, poll GET /healthz every 1 ms (a new
connection each try), time from spawn to the first 200; on a database that
exists (a restart) and on a brand-new file (migrated at start). Median of RUNS.
idle RSS: spawn, wait until the port is listening (read from /proc/net/tcp,
so no request is made), wait 300 ms, read VmRSS and Threads; median of RUNS.
Prints STARTUPJSON {...}."""
import json
import os
import socket
import statistics
import subprocess
import sys
import time

tq, work, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 10
os.makedirs(work, exist_ok=True)


def healthz():
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=1)
    except OSError:
        return False
    try:
        s.sendall(b'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
        data = s.recv(64)
        return data.startswith(b'HTTP/1.1 200')
    except OSError:
        return False
    finally:
        s.close()


def listening():
    want = f':{port:04X} '
    try:
        with open('/proc/net/tcp') as f:
            for line in f:
                parts = line.split()
                if len(parts) > 3 and parts[1].endswith(want.strip()) and parts[3] == '0A':
                    return True
    except OSError:
        pass
    return False


def proc_status(pid):
    rss = threads = None
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                rss = int(line.split()[1])
            elif line.startswith('Threads:'):
                threads = int(line.split()[1])
    return rss, threads


def spawn(db):
    return subprocess.Popen([tq, 'serve', '--listen', f'127.0.0.1:{port}', '--database', f'sqlite:{db}'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    # the port must be free again (no TIME-WAIT left by a listener)
    for _ in range(200):
        if not listening():
            break
        time.sleep(0.01)


def first_answer(db, fresh):
    if fresh:
        for suffix in ('', '-wal', '-shm'):
            try:
                os.remove(db + suffix)
            except FileNotFoundError:
                pass
    t0 = time.perf_counter()
    p = spawn(db)
    while True:
        if healthz():
            dt = (time.perf_counter() - t0) * 1000
            break
        if p.poll() is not None or time.perf_counter() - t0 > 10:
            dt = float('nan')
            break
        time.sleep(0.001)
    time.sleep(0.05)
    rss_after = proc_status(p.pid)[0] if p.poll() is None else None
    stop(p)
    return dt, rss_after


def idle_rss(db):
    p = spawn(db)
    t0 = time.perf_counter()
    while not listening() and time.perf_counter() - t0 < 10 and p.poll() is None:
        time.sleep(0.001)
    time.sleep(0.3)
    rss, threads = proc_status(p.pid)
    stop(p)
    return rss, threads


db = os.path.join(work, 'startup.db')
first_answer(db, True)  # create and migrate once
existing, fresh, rss_after = [], [], []
for _ in range(runs):
    dt, ra = first_answer(db, False)
    existing.append(dt)
    rss_after.append(ra)
    fresh.append(first_answer(db, True)[0])
idle = [idle_rss(db) for _ in range(runs)]
res = {
    'runs': runs,
    'first_answer_ms_existing_db': round(statistics.median(existing), 1),
    'first_answer_ms_new_db': round(statistics.median(fresh), 1),
    'first_answer_ms_existing_all': [round(x, 1) for x in existing],
    'idle_rss_kb': statistics.median(r for r, _ in idle),
    'idle_threads': statistics.median(t for _, t in idle),
    'rss_after_first_answer_kb': statistics.median(x for x in rss_after if x),
}
print('STARTUPJSON ' + json.dumps(res))
