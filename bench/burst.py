#!/usr/bin/env python3
"""First order of a fresh day from N clients at once.

  burst.py --port P [--mode tokenq|peer] [--n 64]

Opens N keep-alive connections, sends one GET (the health route) on each so
they are all established and idle, then writes N POSTs, one per connection,
in one loop pass (released together), and waits for every answer. Prints one
line: BURSTJSON {"sent":64,"ok":64,"status":{"201":64},"ids":[...],
"errors":{...},"p50_ms":..,"max_ms":..}."""
import argparse
import asyncio
import json
import random
import time


async def read_response(reader):
    head = await reader.readuntil(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        if ':' in line:
            k, v = line.split(':', 1)
            hdrs[k.strip().lower()] = v.strip()
    if 'content-length' in hdrs:
        body = await reader.readexactly(int(hdrs['content-length']))
    elif hdrs.get('transfer-encoding', '').lower() == 'chunked':
        body = b''
        while True:
            size = int((await reader.readuntil(b'\r\n')).split(b';')[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = b''
    return status, body


def order_body(mode, i):
    rnd = random.Random(i)
    names = ['Masala tea', 'Filter coffee', 'Idli (2)', 'Plain dosa', 'Vada', 'Samosa']
    items = []
    total = 0
    for _ in range(rnd.randint(1, 3)):
        name, q, price = rnd.choice(names), rnd.randint(1, 4), rnd.choice([150, 300, 650])
        total += q * price
        if mode == 'peer':
            items.append({'name': name, 'qty': q, 'price': price})
        else:
            items.append({'name': name, 'quantity': q, 'unit_price': price})
    if mode == 'peer':
        return json.dumps({'total': total, 'items': items}).encode()
    return json.dumps({'queue': 'A', 'items': items}).encode()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--mode', default='tokenq')
    ap.add_argument('--n', type=int, default=64)
    a = ap.parse_args()
    health = '/health' if a.mode == 'peer' else '/healthz'
    path = '/orders' if a.mode == 'peer' else '/api/orders'
    conns = [await asyncio.open_connection('127.0.0.1', a.port) for _ in range(a.n)]
    for _, w in conns:
        w.write(f'GET {health} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.encode())
    await asyncio.gather(*(read_response(r) for r, _ in conns))
    reqs = []
    for i in range(a.n):
        body = order_body(a.mode, i)
        reqs.append(f'POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
                    f'Content-Length: {len(body)}\r\n\r\n'.encode() + body)

    async def one(i):
        r, _ = conns[i]
        try:
            st, body = await asyncio.wait_for(read_response(r), 60)
        except Exception as e:  # noqa: BLE001 - any failure is a failed request here
            st, body = 0, str(e).encode()
        return st, body, time.perf_counter() - t0

    t0 = time.perf_counter()
    for i, (_, w) in enumerate(conns):
        w.write(reqs[i])
    res = await asyncio.gather(*(one(i) for i in range(a.n)))
    statuses, errors, ids, lat = {}, {}, [], []
    for st, body, dt in res:
        statuses[str(st)] = statuses.get(str(st), 0) + 1
        lat.append(dt * 1000)
        if st == 201:
            try:
                ids.append(json.loads(body)['id'])
            except Exception:  # noqa: BLE001
                errors['201 without id'] = errors.get('201 without id', 0) + 1
        else:
            try:
                j = json.loads(body)
                k = f'{st} {j.get("code")}: {str(j.get("message") or j.get("detail") or "")[:100]}'
            except Exception:  # noqa: BLE001
                k = f'{st} {body[:100]!r}'
            errors[k] = errors.get(k, 0) + 1
    for _, w in conns:
        w.close()
    lat.sort()
    print('BURSTJSON ' + json.dumps({
        'sent': a.n, 'ok': statuses.get('201', 0), 'status': statuses, 'ids': ids, 'errors': errors,
        'p50_ms': round(lat[len(lat) // 2], 1), 'max_ms': round(lat[-1], 1)}))


asyncio.run(main())
