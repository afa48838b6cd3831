#!/usr/bin/env python3
"""CPU accounting for the benchmarks: who used the machine's cores during a phase.

  cpu.py snap NAME=PID ...      -> one line: "<monotonic_s> <busy_jiffies> <jiffies of each group>"
  cpu.py diff "<snap1>" "<snap2>" NAME ...
                                -> "cpu: tokenq 0.91, postgres 0.55, bench 0.31, others 0.12 of 2 cores (busy 95%)"

A group is a process with its live descendants and the children it has reaped
(so wrk, run and waited for by the bench script, counts as "bench"). Groups are
disjoint: a process belongs to the first group, in the order given, that
reaches it. "others" is whatever the machine was busy with beyond our groups:
other jobs on this shared machine."""
import os
import sys
import time

HZ = os.sysconf('SC_CLK_TCK')
NCPU = os.cpu_count()


def stat(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(')') + 2:].split()
    # ppid, utime+stime, cutime+cstime
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def snap(roots):
    procs = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            st = stat(d)
            if st:
                procs[int(d)] = st
    kids = {}
    for pid, (ppid, _, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    seen = set()
    out = []
    for root in roots:
        total, stack = 0, ([root] if root in procs else [])
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            total += procs[p][1] + procs[p][2]
            stack += kids.get(p, [])
        out.append(total)
    with open('/proc/stat') as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    busy = sum(cpu[:8]) - cpu[3] - cpu[4]
    return f'{time.monotonic():.3f} {busy} ' + ' '.join(str(x) for x in out)


def diff(a, b, names):
    a = [float(x) for x in a.split()]
    b = [float(x) for x in b.split()]
    secs = b[0] - a[0]
    if secs <= 0:
        return 'cpu: (no interval)'
    cores = lambda j: j / HZ / secs
    busy = cores(b[1] - a[1])
    parts, ours = [], 0.0
    for i, name in enumerate(names):
        c = max(0.0, cores(b[2 + i] - a[2 + i]))
        ours += c
        parts.append(f'{name} {c:.2f}')
    parts.append(f'others {max(0.0, busy - ours):.2f}')
    return f'cpu: {", ".join(parts)} of {NCPU} cores (busy {100 * busy / NCPU:.0f}%)'


if __name__ == '__main__':
    if sys.argv[1] == 'snap':
        roots = []
        for arg in sys.argv[2:]:
            v = arg.split('=', 1)[-1]
            roots.append(int(v) if v.isdigit() else -1)
        print(snap(roots))
    else:
        print(diff(sys.argv[2], sys.argv[3], sys.argv[4:]))
