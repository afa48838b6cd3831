"""ESC/POS byte streams split into commands, for the printing tests.

split() turns the bytes a printer would receive into a list of
(name, bytes) pairs: one per command ("ESC @", "GS ( k", "GS v 0", ...),
one per run of text ("text") and one per line feed ("LF"), so two
encoders' output can be compared command by command and a failure names
the first command that differs. Unknown commands raise ValueError: a
stream the tests cannot read is a failure, not a pass.
"""

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10

# Commands with a fixed number of argument bytes after the two-byte prefix.
FIXED = {
    (ESC, ord("@")): 0, (ESC, ord("t")): 1, (ESC, ord("a")): 1,
    (ESC, ord("E")): 1, (ESC, ord("M")): 1, (ESC, ord("d")): 1,
    (ESC, ord("!")): 1, (ESC, ord("-")): 1, (ESC, ord("G")): 1,
    (ESC, ord("J")): 1, (ESC, ord("2")): 0, (ESC, ord("3")): 1,
    (ESC, ord("=")): 1, (ESC, ord("R")): 1, (ESC, ord("{")): 1,
    (ESC, ord("V")): 1, (ESC, ord("p")): 3,
    (FS, ord(".")): 0, (FS, ord("&")): 0, (FS, ord("C")): 1,
    (GS, ord("!")): 1, (GS, ord("B")): 1, (GS, ord("L")): 2,
    (GS, ord("W")): 2, (GS, ord("h")): 1, (GS, ord("w")): 1,
    (GS, ord("H")): 1, (GS, ord("f")): 1,
    (DLE, 0x04): 1,
}
PREFIX = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}


def _name(data, i, n):
    parts = [PREFIX[data[i]]]
    for b in data[i + 1:i + n]:
        parts.append(chr(b) if 0x21 <= b < 0x7F else "0x%02x" % b)
    return " ".join(parts)


def _length(data, i):
    """The length in bytes of the command at data[i], and its name."""
    if i + 1 >= len(data):
        raise ValueError("a command cut short at byte %d" % i)
    key = (data[i], data[i + 1])
    if key in FIXED:
        return 2 + FIXED[key], _name(data, i, 2)
    if key == (GS, ord("V")):
        m = data[i + 2]
        return (4 if m in (65, 66) else 3), "GS V"
    if key == (GS, ord("(")):
        # GS ( fn pL pH payload: the payload's first byte is cn.
        size = data[i + 3] | data[i + 4] << 8
        return 5 + size, _name(data, i, 3)
    if key == (GS, ord("v")) and data[i + 2] in (0, 0x30):
        x = data[i + 4] | data[i + 5] << 8
        y = data[i + 6] | data[i + 7] << 8
        return 8 + x * y, "GS v 0"
    raise ValueError("unknown command %s at byte %d" % (_name(data, i, 2), i))


def split(data):
    """[(name, bytes)] for the ESC/POS stream data (bytes)."""
    out, i = [], 0
    while i < len(data):
        b = data[i]
        if b in PREFIX:
            n, name = _length(data, i)
            if i + n > len(data):
                raise ValueError("%s at byte %d runs past the end" % (name, i))
            out.append((name, bytes(data[i:i + n])))
            i += n
        elif b == 0x0A:
            out.append(("LF", b"\n"))
            i += 1
        else:
            j = i
            while j < len(data) and data[j] not in PREFIX and data[j] != 0x0A:
                j += 1
            out.append(("text", bytes(data[i:j])))
            i = j
    return out


def merge_text(cmds):
    """Adjacent text runs joined (encoders split text differently)."""
    out = []
    for name, raw in cmds:
        if name == "text" and out and out[-1][0] == "text":
            out[-1] = ("text", out[-1][1] + raw)
        else:
            out.append((name, raw))
    return out


def qr_payload(cmds):
    """The data stored by GS ( k cn=49 fn=80 (function 180), or None."""
    for name, raw in cmds:
        if name.startswith("GS ( k") and raw[5] == 0x31 and raw[6] == 0x50:
            return raw[8:]
    return None


def rasters(cmds):
    """[(width_px, height, rows)] of every GS v 0 image, rows as bytes."""
    out = []
    for name, raw in cmds:
        if name == "GS v 0":
            x = raw[4] | raw[5] << 8
            y = raw[6] | raw[7] << 8
            body = raw[8:]
            out.append((x * 8, y, [body[r * x:(r + 1) * x] for r in range(y)]))
    return out


# What a printer does with a stream: ESC/POS interpreted into paper.

COLUMNS = 48  # font A on 80 mm paper
WIDTH_DOTS = 576
CODECS = {0: "cp437", 19: "cp858"}  # ESC t n -> Python's codec for the page


class _State:
    def __init__(self):
        self.align, self.bold, self.w, self.h, self.page, self.font = 0, 0, 1, 1, 0, 0


def _glyph(st, byte):
    char = bytes([byte]).decode(CODECS[st.page])
    return (char, st.bold, st.w, st.h, st.font)


def paper(data):
    """The stream data as what comes out of the printer, a list of events:

    ("init",)                                   ESC @
    ("line", height, ((column, char, bold, w, h, font), ...))
                                                one printed line, spaces left
                                                out (they carry no ink), the
                                                characters decoded from the
                                                code page in effect
    ("feed", n)                                 n blank lines
    ("qr", align, model, size, level, data)     GS ( k print
    ("raster", align, width, height, bits)      GS v 0, consecutive bands
                                                joined; align is None for an
                                                image as wide as the paper
    ("cut", m)                                  GS V m

    Alignment by ESC a and alignment by padding with spaces make the same
    paper, and style changes that print nothing leave no trace, so two
    encoders that lay the ticket out alike compare equal. Feeds after the
    last cut are dropped (they move the next ticket's paper)."""
    st, events, line, qr = _State(), [], [], {}

    def flush(force):
        if not line and not force:
            return
        if not line:
            if events and events[-1][0] == "feed":
                events[-1] = ("feed", events[-1][1] + 1)
            else:
                events.append(("feed", 1))
            return
        used = sum(g[1][2] for g in line)
        align = line[0][0]
        col = {0: 0, 1: (COLUMNS - used) // 2, 2: COLUMNS - used}[align]
        placed = []
        for _, g in line:
            if g[0] != " ":
                placed.append((col,) + g)
            col += g[2]
        events.append(("line", max(g[1][3] for g in line), tuple(placed)))
        line.clear()

    for name, raw in split(data):
        if name == "text":
            for b in raw:
                g = _glyph(st, b)
                if sum(x[1][2] for x in line) + g[2] > COLUMNS:
                    flush(False)  # the printer wraps by itself
                line.append((st.align, g))
        elif name == "LF":
            flush(True)
        elif name == "ESC @":
            line.clear()
            st = _State()
            events.append(("init",))
        elif name == "ESC t":
            st.page = raw[2]
            if st.page not in CODECS:
                raise ValueError("code page %d is not known to the tests" % st.page)
        elif name == "ESC a":
            st.align = raw[2] & 3 if raw[2] < 0x30 else raw[2] - 0x30
        elif name == "ESC E":
            st.bold = raw[2] & 1
        elif name == "ESC M":
            st.font = raw[2] & 1
        elif name == "GS !":
            st.w, st.h = (raw[2] >> 4) + 1, (raw[2] & 0xF) + 1
        elif name == "ESC d":
            had = bool(line)
            flush(False)
            for _ in range(raw[2] - (1 if had else 0)):
                flush(True)
        elif name.startswith("GS ( k"):
            flush(False)
            cn, fn = raw[5], raw[6]
            if cn != 0x31:
                raise ValueError("GS ( k for symbol %d is not known to the tests" % cn)
            if fn == 0x41:
                qr["model"] = raw[7] - 0x30
            elif fn == 0x43:
                qr["size"] = raw[7]
            elif fn == 0x45:
                qr["level"] = "LMQH"[raw[7] - 0x30]
            elif fn == 0x50:
                qr["data"] = raw[8:]
            elif fn == 0x51:
                events.append(("qr", st.align, qr.get("model"), qr.get("size"),
                               qr.get("level"), qr.get("data")))
        elif name == "GS v 0":
            flush(False)
            width, height, rows = rasters([(name, raw)])[0]
            align = None if width == WIDTH_DOTS else st.align
            bits = b"".join(rows)
            last = events[-1] if events else None
            if last and last[0] == "raster" and last[1] == align and last[2] == width:
                events[-1] = ("raster", align, width, last[3] + height, last[4] + bits)
            else:
                events.append(("raster", align, width, height, bits))
        elif name == "GS V":
            flush(False)
            events.append(("cut", raw[2]))
        elif name in ("FS .", "ESC 2", "ESC 3"):
            pass  # no mark on the paper
        else:
            raise ValueError("%s is not known to the paper model" % name)
    flush(False)
    while events and events[-1][0] == "feed" and any(e[0] == "cut" for e in events):
        events.pop()
    return events


def describe(event):
    """One event as a readable line, for failure messages."""
    if event[0] == "line":
        cells = [" "] * (COLUMNS * 8)
        for col, char, bold, w, h, font in event[2]:
            cells[col] = char
        text = "".join(cells).rstrip()
        styles = sorted({(b, w, h, f) for _, _, b, w, h, f in event[2]})
        return "line h=%d %r styles(bold,w,h,font)=%s" % (event[1], text, styles)
    if event[0] == "raster":
        return "raster align=%s %dx%d" % (event[1], event[2], event[3])
    return repr(event)
