"""GET /api/orders/{id}/ticket: printable HTML for an 80 mm roll whose QR code
decodes (with zbarimg) to the customer's page; every text escaped; served
under the pages' Content-Security-Policy, with no inline style."""

import re
import struct
import subprocess
import zlib

import pytest

import opskit
from opskit import ops  # noqa: F401 (fixtures)


def svg_of(html):
    m = re.search(r'<svg class="qr"[^>]*>.*?</svg>', html, re.S)
    assert m, "no <svg class=\"qr\"> in the ticket"
    return m.group(0)


def raster_png(svg, scale=8):
    """Draws the ticket's QR (rects and a path of M x y h n v 1 h -n z runs) as
    a PNG; used when rsvg-convert is not installed."""
    vb = [int(float(v)) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    w, h = vb[2], vb[3]
    dark = [[False] * w for _ in range(h)]
    for d in re.findall(r'<path[^>]*\bd="([^"]*)"', svg):
        for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", d):
            for i in range(int(n)):
                dark[int(y)][int(x) + i] = True
    for x, y, rw, rh, fill in re.findall(
            r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" fill="(#000|black)"', svg):
        for yy in range(int(y), int(y) + int(rh)):
            for xx in range(int(x), int(x) + int(rw)):
                dark[yy][xx] = True
    rows = b""
    for y in range(h * scale):
        line = bytes(0 if dark[y // scale][x // scale] else 255 for x in range(w * scale))
        rows += b"\x00" + line

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w * scale, h * scale,
                                                                8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def decode_qr(svg, tmp_path):
    if not opskit.have("zbarimg"):
        pytest.skip("zbarimg (Debian zbar-tools) is not installed: cannot decode the QR code")
    png = tmp_path / "qr.png"
    if opskit.have("rsvg-convert"):
        (tmp_path / "qr.svg").write_text(svg)
        subprocess.run(["rsvg-convert", "-w", "400", "-b", "white", "-o", str(png),
                        str(tmp_path / "qr.svg")], check=True, timeout=60)
    else:
        png.write_bytes(raster_png(svg))
    r = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, f"zbarimg found no code: {r.stderr}"
    return r.stdout.strip()


@pytest.fixture
def api(ops):
    db = ops.db("sqlite")
    return ops.api(db, env={"TOKENQ_QUEUES": "A=Dine-in & <Bar>,TX=Tax desk"})


def test_ticket_for_a_pos_key(api, tmp_path):
    o = api.create(queue="A", items=[{"name": "Masala tea", "quantity": 2, "unit_price": 150},
                                     {"name": "<script>alert('x')</script> & \"co\"",
                                      "quantity": 3, "unit_price": 1999}],
                   note="no <b>sugar</b>")
    r = api.get(f"/api/orders/{o['id']}/ticket", key="pos")
    assert r.status == 200, r
    assert r.headers["content-type"].replace(" ", "").lower() == "text/html;charset=utf-8"
    csp = r.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "style-src 'self'" in csp, csp
    html = r.text
    assert html.lower().startswith("<!doctype html>")
    assert f"<title>{o['token']}</title>" in html
    assert f'<h1 class="ticket-token">{o["token"]}</h1>' in html
    assert '<link rel="stylesheet" href="/assets/ticket.css">' in html
    assert '<p class="ticket-queue" dir="auto">Dine-in &amp; &lt;Bar&gt;</p>' in html
    # user text takes its direction from its own script (an Arabic note reads right to left)
    assert '<p class="ticket-note" dir="auto">no &lt;b&gt;sugar&lt;/b&gt;</p>' in html
    assert html.count('<td class="name" dir="auto">') == 2
    for cls in ("ticket", "ticket-items", "ticket-total", "ticket-time", "ticket-qr",
                "ticket-url", "ticket-note"):
        assert f'class="{cls}"' in html, cls
    # every text escaped; no inline style or script
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; " \
                                      "&quot;co&quot;" in html
    assert "no &lt;b&gt;sugar&lt;/b&gt;" in html
    assert not re.search(r"\sstyle=", html) and "<style" not in html
    # money: minor units as major with two decimals; line totals and the total
    assert "3.00" in html and "59.97" in html
    assert re.search(r'class="ticket-total">.*62\.97', html)
    url = f"http://127.0.0.1:{api.server.port}/t/{o['token']}"
    assert f'<p class="ticket-url">{url}</p>' in html
    assert decode_qr(svg_of(html), tmp_path) == url
    for role in ("staff", "admin"):
        assert api.get(f"/api/orders/{o['id']}/ticket", key=role).status == 200


def test_ticket_refusals(api):
    o = api.create(queue="TX")
    assert api.get(f"/api/orders/{o['id']}/ticket", key="").status == 401
    r = api.get("/api/orders/987654/ticket", key="pos")
    assert r.status == 404 and r.body["code"] == "not_found", r
    r = api.request("POST", f"/api/orders/{o['id']}/ticket", key="pos")
    assert r.status == 405


def test_ticket_uses_public_url(ops, tmp_path):
    db = ops.db("sqlite")
    api = ops.api(db, env={"TOKENQ_PUBLIC_URL": "https://queue.cafe.example/"})
    o = api.create()
    html = api.get(f"/api/orders/{o['id']}/ticket", key="pos").text
    want = f"https://queue.cafe.example/t/{o['token']}"
    assert f'<p class="ticket-url">{want}</p>' in html
    assert decode_qr(svg_of(html), tmp_path) == want


@pytest.mark.parametrize("host,shown", [
    ("cafe.local:8080", "cafe.local:8080"),
    ("[::1]:9000", "[::1]:9000"),
    ('evil.example"><script>', None),
    ("a b", None),
    ("", None),
])
def test_ticket_host_header_is_checked(api, host, shown):
    o = api.create(queue="A")
    r = api.get(f"/api/orders/{o['id']}/ticket", key="pos", headers={"Host": host})
    assert r.status == 200, r
    shown = shown or f"127.0.0.1:{api.server.port}"
    assert f'<p class="ticket-url">http://{shown}/t/{o["token"]}</p>' in r.text
    assert "<script>" not in r.text
