"""The printing suite: tokenq's ESC/POS tickets (src/print) checked against
an independent encoder, real text shaping and a printer on the network.

- The ticket of ticket.json, encoded by tokenq (print_driver encode) and by
  @point-of-sale/receipt-printer-encoder (reference.mjs, version pinned in
  package.json), must make the same paper, event by event (escpos.paper():
  lines with their columns, characters and styles, feeds, the QR code,
  images, the cut), and send the same QR commands byte for byte.
- Notes in Arabic and Hindi arrive as GS v 0 images, decoded here to PNG
  and compared with Pillow's own rendering (FreeType + libraqm, i.e.
  HarfBuzz and FriBidi driven by another layout engine) of the same text
  in the same Noto font; the tolerance is described at MATCH_TOLERANCE.
- The transport against fake_printer.py: a ready printer (or one whose roll
  is near its end) receives exactly the encoded bytes after DLE EOT 1 and
  4; an empty roll gives paper_out and no job, an open cover offline; a
  printer that never answers gives timeout within the i/o bound, one that
  never accepts within the connect bound; a closed port gives offline.
"""
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, features

import escpos
from fake_printer import FakePrinter

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DRIVER = ROOT / os.environ.get("B", "build") / "tests" / "print_driver"
TICKET = json.loads((HERE / "ticket.json").read_text())
NOTO = Path("/usr/share/fonts/truetype/noto")
RASTER_PX = 26  # src/print/escpos.c draws text images at 26 pixels an em

NOTES = {
    # name: (text, font file, right-to-left)
    "arabic": ("بدون سكر من فضلك", NOTO / "NotoSansArabic-Regular.ttf", True),
    "hindi": ("कृपया मिर्च कम डालिए", NOTO / "NotoSansDevanagari-Regular.ttf", False),
}

# Two renderings of the same text by two layout engines differ by rounding:
# a glyph a pixel over, an edge pixel on the other side of half coverage,
# a line's start rounded the other way. So the images are compared at the
# best offset within MATCH_SHIFT pixels each way, and an ink pixel of one
# counts as matched when the other has ink within 1 pixel (3x3); at most
# MATCH_TOLERANCE of either image's ink may be unmatched. Measured here: 0 %
# for the same text; the unshaped control (Arabic letters not joined,
# Devanagari vowel signs not reordered, no reph) leaves 25 % and more.
MATCH_SHIFT = 2
MATCH_TOLERANCE = 0.04


def run(*args, timeout=30):
    return subprocess.run([str(DRIVER), *map(str, args)], capture_output=True, timeout=timeout)


def encode(ticket, tmp_path):
    path = tmp_path / "ticket.json"
    path.write_text(json.dumps(ticket, ensure_ascii=False))
    r = run("encode", path)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def reference(ticket, tmp_path, images=()):
    tpath, ipath = tmp_path / "ref-ticket.json", tmp_path / "ref-images.json"
    tpath.write_text(json.dumps(ticket, ensure_ascii=False))
    ipath.write_text(json.dumps(list(images)))
    r = subprocess.run(["node", str(HERE / "reference.mjs"), str(tpath), str(ipath)],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def without_feed_after_images(events):
    """The reference encoder ends an image with a line feed, which feeds a
    blank line after GS v 0; tokenq does not (its image already holds the
    line's descent). That one blank line is the only difference allowed."""
    out = []
    for e in events:
        if out and out[-1][0] == "raster" and e[0] == "feed":
            if e[1] > 1:
                out.append(("feed", e[1] - 1))
            continue
        out.append(e)
    return out


def assert_same_paper(ours, ref):
    a, b = escpos.paper(ours), without_feed_after_images(escpos.paper(ref))
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, "event %d differs:\n tokenq:    %s\n reference: %s" % (
            i, escpos.describe(x), escpos.describe(y))
    assert len(a) == len(b), "tokenq has %d events, the reference %d:\n%s" % (
        len(a), len(b), "\n".join(map(escpos.describe, (a if len(a) > len(b) else b)[min(len(a), len(b)):])))


def qr_commands(data):
    return [raw for name, raw in escpos.split(data) if name.startswith("GS ( k")]


@pytest.fixture(scope="module", autouse=True)
def built():
    assert DRIVER.exists(), "%s is missing: make %s" % (DRIVER, DRIVER.relative_to(ROOT))
    assert (HERE / "node_modules" / "@point-of-sale" / "receipt-printer-encoder").exists(), \
        "run npm ci in tests/print"


def test_ticket_matches_reference_encoder(tmp_path):
    ours, ref = encode(TICKET, tmp_path), reference(TICKET, tmp_path)
    assert_same_paper(ours, ref)
    assert qr_commands(ours) == qr_commands(ref)
    assert [r for n, r in escpos.split(ours) if n == "ESC t"] == [b"\x1bt\x13"]  # CP858
    assert escpos.split(ours)[0] == ("ESC @", b"\x1b@")
    assert escpos.split(ours)[-1] == ("GS V", b"\x1dV\x01")  # partial cut, last


def test_comparison_notices_a_different_ticket(tmp_path):
    """The comparison has teeth: one price and the token size changed."""
    other = dict(TICKET, items=[dict(TICKET["items"][0], unit_price=151)] + TICKET["items"][1:])
    with pytest.raises(AssertionError, match="3.02"):
        assert_same_paper(encode(other, tmp_path), reference(TICKET, tmp_path))
    with pytest.raises(AssertionError):
        assert_same_paper(encode(dict(TICKET, token="A-042-LONGER-TOKEN"), tmp_path),
                          reference(TICKET, tmp_path))


def test_cp437_ticket_matches_reference_encoder(tmp_path):
    ticket = dict(TICKET, codepage=437, note="No sugar, please. ½ portion.")
    ours = encode(ticket, tmp_path)
    assert_same_paper(ours, reference(ticket, tmp_path))
    assert [r for n, r in escpos.split(ours) if n == "ESC t"] == [b"\x1bt\x00"]


def test_qr_payload_is_the_customer_url(tmp_path):
    cmds = escpos.split(encode(TICKET, tmp_path))
    assert escpos.qr_payload(cmds) == TICKET["qr_url"].encode()
    qr = [e for e in escpos.paper(encode(TICKET, tmp_path)) if e[0] == "qr"]
    assert qr == [("qr", 1, 2, 6, "M", TICKET["qr_url"].encode())]


def test_no_qr_without_url(tmp_path):
    ticket = dict(TICKET)
    del ticket["qr_url"]
    ours = encode(ticket, tmp_path)
    assert escpos.qr_payload(escpos.split(ours)) is None
    assert_same_paper(ours, reference(ticket, tmp_path))


@pytest.mark.parametrize("page,codec", [(437, "cp437"), (858, "cp858")])
def test_code_page_tables_agree_with_python_codecs(page, codec):
    """Every printable byte of the page, from its character and back."""
    want = bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
    r = run("map", page, want.decode(codec))
    assert r.returncode == 0, r.stderr
    assert r.stdout == want
    assert run("map", page, "\u0627").returncode != 0  # Arabic: not in any
    assert run("map", page, "a\tb").returncode != 0  # controls never go as text


def to_png(width, height, rows, path):
    img = Image.new("1", (width, height), 0)
    img.putdata([(row[x >> 3] >> (7 - (x & 7))) & 1 for row in rows for x in range(width)])
    img = img.convert("L").point(lambda v: 255 if v else 0)
    img.save(path)
    return img


def pil_rendering(text, font_path, rtl, width, height, engine):
    """Ink 255 on 0, the text on one line at RASTER_PX, aligned to its start."""
    font = ImageFont.truetype(str(font_path), RASTER_PX, layout_engine=engine)
    ascent, _ = font.getmetrics()
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    direction = ("rtl" if rtl else "ltr") if engine == ImageFont.Layout.RAQM else None
    x, anchor = (width, "rs") if rtl else (0, "ls")
    draw.text((x, ascent), text, fill=255, font=font, anchor=anchor, direction=direction)
    return img.point(lambda v: 255 if v >= 128 else 0)


def unmatched(a, b):
    """The share of a's ink with no ink of b within 1 pixel."""
    near = b.filter(ImageFilter.MaxFilter(3))
    return ImageChops.subtract(a, near).histogram()[255] / max(a.histogram()[255], 1)


def mismatch(a, b):
    """The smallest unmatched share, both ways, over offsets of b."""
    best = 1.0
    for dx in range(-MATCH_SHIFT, MATCH_SHIFT + 1):
        for dy in range(-MATCH_SHIFT, MATCH_SHIFT + 1):
            moved = ImageChops.offset(b, dx, dy)
            best = min(best, max(unmatched(a, moved), unmatched(moved, a)))
    return best


@pytest.mark.parametrize("which", sorted(NOTES))
def test_note_outside_code_page_is_a_shaped_raster(which, tmp_path):
    text, font_path, rtl = NOTES[which]
    assert font_path.exists(), "%s is missing: install fonts-noto-core" % font_path
    assert features.check("raqm"), "Pillow lacks libraqm: it cannot shape the reference"
    ticket = dict(TICKET, note=text)
    ours = encode(ticket, tmp_path)
    images = escpos.rasters(escpos.split(ours))
    assert len(images) == 1, "one image for the note, got %d" % len(images)
    width, height, rows = images[0]
    assert width == 576 and height % 8 == 0 and 24 <= height <= 64

    # The reference encoder frames the same pixels: the rest of the paper is equal.
    hexrows = [r.hex() for r in rows]
    ref = reference(ticket, tmp_path, [{"after": "note", "width": width, "height": height,
                                        "rows": hexrows}])
    assert_same_paper(ours, ref)
    assert not any(e[0] == "line" and any(c[1] == "?" for c in e[2]) for e in escpos.paper(ours))

    got = to_png(width, height, rows, tmp_path / ("%s.png" % which))
    want = pil_rendering(text, font_path, rtl, width, height, ImageFont.Layout.RAQM)
    want.save(tmp_path / ("%s-reference.png" % which))
    score = mismatch(got, want)
    assert score <= MATCH_TOLERANCE, "%s note differs from Pillow's rendering in %.1f %% " \
        "of its ink (see %s)" % (which, score * 100, tmp_path)

    # Unshaped, left-to-right letters must not pass: the check can fail.
    control = pil_rendering(text, font_path, rtl, width, height, ImageFont.Layout.BASIC)
    assert mismatch(got, control) > 3 * MATCH_TOLERANCE, mismatch(got, control)

    # Right-to-left text hugs the right edge, left-to-right the left one.
    box = got.getbbox()
    if rtl:
        assert box[2] >= width - 4 and box[0] > width // 2
    else:
        assert box[0] <= 4 and box[2] < width // 2


def test_item_outside_code_page_is_an_image_then_its_amount(tmp_path):
    """A Hebrew item: its name an image against the right edge, then the
    quantity and the amount as a text line, framed as the reference does."""
    name = "קפה הפוך"
    ticket = dict(TICKET, items=[{"name": name, "quantity": 2, "unit_price": 300}], total=600)
    ours = encode(ticket, tmp_path)
    images = escpos.rasters(escpos.split(ours))
    assert len(images) == 1
    width, height, rows = images[0]
    ref = reference(ticket, tmp_path, [{"after": "item:" + name, "width": width,
                                        "height": height, "rows": [r.hex() for r in rows]}])
    assert_same_paper(ours, ref)
    box = to_png(width, height, rows, tmp_path / "hebrew.png").getbbox()
    assert box[2] >= width - 4 and box[0] > width // 2


def test_euro_on_cp437_is_an_image_not_a_question_mark(tmp_path):
    ticket = dict(TICKET, codepage=437, note="€")  # CP437 has no euro sign: an image
    assert len(escpos.rasters(escpos.split(encode(ticket, tmp_path)))) == 1


@pytest.fixture
def printer(request):
    p = FakePrinter(getattr(request, "param", "ready"))
    yield p
    p.close()


@pytest.mark.parametrize("note", ["latin", "arabic", "long"])
def test_job_reaches_a_ready_printer(printer, note, tmp_path):
    """The printer gets exactly the encoded bytes, after the two queries; the
    long note (many image bands) makes a job of several hundred KiB."""
    text = {"latin": TICKET["note"], "arabic": NOTES["arabic"][0],
            "long": "\n".join([NOTES["hindi"][0]] * 400)}[note]
    ticket = dict(TICKET, note=text)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(ticket, ensure_ascii=False))
    r = run("send", printer.address, path, 1000, 5000)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.split()[0] == b"ok"
    want = encode(ticket, tmp_path)
    assert printer.wait_jobs(1) == [want]
    assert printer.queries == [1, 4]
    if note == "long":
        assert len(want) > 300_000


@pytest.mark.parametrize("printer,result", [("paper_out", "paper_out"),
                                            ("paper_end", "paper_out"),
                                            ("cover_open", "offline")], indirect=["printer"])
def test_printer_not_ready_is_reported_and_nothing_sent(printer, result, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TICKET, ensure_ascii=False))
    r = run("send", printer.address, path, 1000, 3000)
    assert r.returncode == 1
    assert r.stdout.split()[0] == result.encode()
    assert printer.wait_jobs(1, timeout=0.5) == []
    assert run("query", printer.address).stdout.split()[0] == result.encode()


@pytest.mark.parametrize("printer", ["near_end"], indirect=True)
def test_paper_near_end_still_prints(printer, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TICKET, ensure_ascii=False))
    assert run("send", printer.address, path).stdout.split()[0] == b"ok"
    assert printer.wait_jobs(1) == [encode(TICKET, tmp_path)]


@pytest.mark.parametrize("printer", ["silent"], indirect=True)
def test_printer_that_never_answers_times_out_in_bound(printer, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TICKET, ensure_ascii=False))
    t0 = time.monotonic()
    r = run("send", printer.address, path, 500, 800)
    elapsed = time.monotonic() - t0
    status, took = r.stdout.split()
    assert status == b"timeout" and r.returncode == 1
    assert 800 <= int(took) < 800 + 300, took  # the i/o bound, not more
    assert elapsed < 3
    assert printer.wait_jobs(1, timeout=0.5) == []  # no job after an unanswered query


def test_printer_that_never_accepts_times_out_at_connect():
    """A full accept queue: Linux drops the SYN, connect() never completes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(c)
        time.sleep(0.2)
        r = run("query", "tcp://127.0.0.1:%d" % port, 400, 2000)
        status, took = r.stdout.split()
        assert status == b"timeout"
        assert 400 <= int(took) < 400 + 300, took  # the connect bound, not the i/o one
    finally:
        for c in fillers:
            c.close()
        listener.close()


def test_device_that_stops_reading_times_out_in_bound(tmp_path):
    """A device path (a FIFO here) whose reader never reads: the writes
    block once the pipe is full, and the job ends at the i/o bound; the
    same write loop serves sockets. A reader that reads gets every byte."""
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    ticket = dict(TICKET, note="\n".join([NOTES["hindi"][0]] * 100))  # > 64 KiB
    path = tmp_path / "t.json"
    path.write_text(json.dumps(ticket, ensure_ascii=False))
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        r = run("send", fifo, path, 500, 800)
        status, took = r.stdout.split()
        assert status == b"timeout"
        assert 800 <= int(took) < 800 + 300, took
    finally:
        os.close(reader)
    want = encode(ticket, tmp_path)
    assert len(want) > 65536
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    got = []
    try:
        proc = subprocess.Popen([str(DRIVER), "send", str(fifo), str(path)], stdout=subprocess.PIPE)
        while True:
            done = proc.poll() is not None  # before the read: nothing is lost
            try:
                chunk = os.read(reader, 65536)  # b"" while no writer is open
            except BlockingIOError:
                chunk = b""
            got.append(chunk)
            if done and not chunk:
                break
            if not chunk:
                time.sleep(0.01)
        assert proc.stdout.read().split()[0] == b"ok"
    finally:
        os.close(reader)
    assert b"".join(got) == want


def test_device_without_reader_is_offline(tmp_path):
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)  # open(O_WRONLY | O_NONBLOCK) without a reader: ENXIO
    assert run("query", fifo).stdout.split()[0] == b"offline"


def test_closed_port_is_offline(tmp_path):
    p = FakePrinter()
    address = p.address
    p.close()
    r = run("query", address, 500, 500)
    assert r.stdout.split()[0] == b"offline"
