#!/usr/bin/env python3
"""Medians, ratios and target checks from the raw benchmark rows.

  summarize.py orders RAW.tsv     table + ratios; writes results/orders.dat (for plot.gp)
                                  and results/orders.md (for the README)
"""
import csv
import os
import statistics
import sys

SYSTEMS = ['tokenq-pg', 'tokenq-sqlite', 'peer', 'pgbench', 'pgbench-1rt', 'sqlite-1tx']


def count(x):
    v = num(x)
    return int(v) if v == v else 0


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return float('nan')


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float('nan')


def fmt(x, nd=0):
    if x != x:
        return '-'
    return f'{x:,.{nd}f}'


def ratio(a, b):
    if a != a or b != b or b == 0:
        return float('nan')
    return a / b


def cpu_split(text):
    """'cpu: tokenq-pg 0.15, postgres 0.26, bench(wrk) 0.09, others 1.49 of 2 cores' -> (server, db, client, others)"""
    parts = {}
    body = text.split(':', 1)[-1].split(' of ')[0]
    for item in body.split(','):
        item = item.strip()
        if ' ' in item:
            k, v = item.rsplit(' ', 1)
            parts[k] = num(v)
    client = next((v for k, v in parts.items() if k.startswith('bench')), 0.0)
    db = parts.get('postgres', 0.0)
    server = next((v for k, v in parts.items() if k not in ('postgres', 'others') and not k.startswith('bench')), 0.0)
    return server, db, client, parts.get('others', float('nan'))


def orders(path):
    rows = list(csv.DictReader(open(path), delimiter='\t'))
    conns = sorted({int(r['conns']) for r in rows})
    systems = [s for s in SYSTEMS if any(r['system'] == s for r in rows)]
    reps = len({r['rep'] for r in rows})
    cell = {}
    for s in systems:
        for c in conns:
            rs = [r for r in rows if r['system'] == s and int(r['conns']) == c]
            if not rs:
                continue
            cell[s, c] = {
                'ops': med([num(r['ops']) for r in rs]),
                'ops_all': [num(r['ops']) for r in rs],
                'p50': med([num(r['p50_ms']) for r in rs]),
                'p99': med([num(r['p99_ms']) for r in rs]),
                'err': sum(count(r['non2xx']) + count(r['sock_err']) for r in rs),
                'pass': all(r['verify'].startswith('PASS') for r in rs),
                'n': len(rs),
                # CPU microseconds per order: (cores used) / (orders per second)
                'us': [med([cpu_split(r['cpu'])[i] * 1e6 / num(r['ops']) if num(r['ops']) > 0 else float('nan')
                            for r in rs]) for i in range(3)],
                'others': med([cpu_split(r['cpu'])[3] for r in rs]),
            }
    out = []
    out.append(f'orders/s, median of {reps} runs (p50 / p99 ms; errors = non-2xx + socket errors, summed; '
               'check = numbers 1..N and every 201 in the database)')
    out.append('')
    hdr = '| system | ' + ' | '.join(f'c={c}' for c in conns) + ' | check |'
    out.append(hdr)
    out.append('|---|' + '---|' * len(conns) + '---|')
    for s in systems:
        cols = []
        for c in conns:
            x = cell.get((s, c))
            if x is None:
                cols.append('-')
                continue
            lat = '' if x['p50'] != x['p50'] else f' ({fmt(x["p50"], 1)} / {fmt(x["p99"], 1)} ms)'
            err = f', {x["err"]} err' if x['err'] else ''
            cols.append(f'{fmt(x["ops"])}{lat}{err}')
        ok = all(cell[s, c]['pass'] for c in conns if (s, c) in cell)
        out.append(f'| {s} | ' + ' | '.join(cols) + f' | {"PASS" if ok else "FAIL"} |')
    out.append('')
    pairs = [('tokenq-pg', 'peer'), ('tokenq-pg', 'pgbench'), ('tokenq-pg', 'pgbench-1rt'),
             ('tokenq-sqlite', 'sqlite-1tx'), ('tokenq-sqlite', 'tokenq-pg')]
    # paired: the two systems of a pair run within a minute of each other in each round, so
    # the median of the per-round ratios is less exposed to the machine's changing load
    by = {(r['rep'], r['system'], int(r['conns'])): num(r['ops']) for r in rows}
    out.append('ratios: of the medians above, and [median of the per-round ratios, each round measuring '
               'both systems within about a minute]')
    out.append('')
    out.append('| ratio | ' + ' | '.join(f'c={c}' for c in conns) + ' |')
    out.append('|---|' + '---|' * len(conns))
    for a, b in pairs:
        if a not in systems or b not in systems:
            continue
        cols = []
        for c in conns:
            if (a, c) in cell and (b, c) in cell:
                paired = med([ratio(by.get((rep, a, c), float('nan')), by.get((rep, b, c), float('nan')))
                              for rep in sorted({r['rep'] for r in rows})])
                cell[a, c]['paired_' + b] = paired
                cols.append(f'{ratio(cell[a, c]["ops"], cell[b, c]["ops"]):.1f}x [{paired:.1f}x]')
            else:
                cols.append('-')
        out.append(f'| {a} / {b} | ' + ' | '.join(cols) + ' |')
    out.append('')
    out.append('CPU time per order (median of the runs): the server process, PostgreSQL (all its processes), '
               'the load generator; the cores the other jobs on this machine used meanwhile; and the ceiling '
               'that CPU cost sets on 2 idle cores (2e6 us / the sum: a bound, not a measurement).')
    out.append('')
    out.append('| system | conns | server us | PostgreSQL us | client us | others (cores) | CPU ceiling, orders/s |')
    out.append('|---|---|---|---|---|---|---|')
    for s in systems:
        for c in conns:
            x = cell.get((s, c))
            if x is None:
                continue
            sv, db, cl = x['us']
            tot = sum(v for v in (sv, db, cl) if v == v)
            out.append(f'| {s} | {c} | {fmt(sv)} | {fmt(db)} | {fmt(cl)} | {fmt(x["others"], 2)} | '
                       f'{fmt(2e6 / tot if tot else float("nan"))} |')
    out.append('')
    # targets at the highest concurrency
    c = max(conns)
    t = []

    def target(name, value, ok):
        t.append(f'- {name}: {value} -> {"met" if ok else "NOT met"}')

    if ('tokenq-pg', c) in cell:
        pg = cell['tokenq-pg', c]
        if ('pgbench', c) in cell:
            r = ratio(pg['ops'], cell['pgbench', c]['ops'])
            pr = pg.get('paired_pgbench', float('nan'))
            target(f'tokenq-pg at c={c} >= 4x pgbench single-order limit', f'{r:.1f}x (paired {pr:.1f}x)', r >= 4)
        if ('peer', c) in cell:
            r = ratio(pg['ops'], cell['peer', c]['ops'])
            pr = pg.get('paired_peer', float('nan'))
            target(f'tokenq-pg at c={c} >= 25x the seed peer', f'{r:.1f}x (paired {pr:.1f}x)', r >= 25)
        target(f'tokenq-pg p99 at c={c} < 50 ms', f'{fmt(pg["p99"], 1)} ms', pg['p99'] < 50)
        target(f'tokenq-pg errors at c={c} = 0', f'{pg["err"]}', pg['err'] == 0)
    if ('tokenq-sqlite', c) in cell and ('sqlite-1tx', c) in cell:
        r = ratio(cell['tokenq-sqlite', c]['ops'], cell['sqlite-1tx', c]['ops'])
        pr = cell['tokenq-sqlite', c].get('paired_sqlite-1tx', float('nan'))
        target(f'tokenq-sqlite at c={c} >= 4x one-order-per-transaction SQLite', f'{r:.1f}x (paired {pr:.1f}x)', r >= 4)
    if ('tokenq-sqlite', c) in cell:
        sq = cell['tokenq-sqlite', c]
        t.append(f'- (info) tokenq-sqlite p99 at c={c}: {fmt(sq["p99"], 1)} ms, errors {sq["err"]}')
    allpass = all(x['pass'] for x in cell.values())
    t.append(f'- numbering/acknowledgement checks after every phase: {"PASS" if allpass else "FAIL"}')
    out.append('Targets:')
    out += t
    out.append('')
    out.append('spread (all runs, orders/s): ' + '; '.join(
        f'{s} c={c}: ' + '/'.join(fmt(v) for v in cell[s, c]['ops_all'])
        for s in systems for c in conns if (s, c) in cell))
    text = '\n'.join(out)
    print(text)
    d = os.path.dirname(os.path.abspath(path))
    with open(os.path.join(d, 'orders.md'), 'w') as f:
        f.write(text + '\n')
    with open(os.path.join(d, 'orders.dat'), 'w') as f:
        f.write('# conns ' + ' '.join(SYSTEMS) + '  (median orders/s; nan = not measured)\n')
        for c in conns:
            f.write(f'{c} ' + ' '.join(
                (f'{cell[s, c]["ops"]:.1f}' if (s, c) in cell else 'nan') for s in SYSTEMS) + '\n')


if __name__ == '__main__':
    if sys.argv[1] == 'orders':
        orders(sys.argv[2])
    else:
        sys.exit('usage: summarize.py orders RAW.tsv')
