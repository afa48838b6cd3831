#!/usr/bin/env python3
"""Every statement on a venue's tables names the venue.

An install is meant to be distributable by venue (docs/scaling.md): every
table that grows with use carries venue_id first in its key, and every
statement the store runs on such a table says which venue it is about, so
that on a sharded database it goes to one shard. This lists the SQL string
constants in src/store/*.c, finds those that read or write a venue's table,
and fails for any that does not mention venue_id, unless it is one of the
few named below with the reason it may span venues.

    scripts/check-venue-filters.py        (exit 0, or 1 listing offenders)
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENUE_TABLES = {"orders", "counters", "events", "idempotency_keys", "print_jobs",
                "webhook_deliveries", "webhook_attempts", "event_counters"}

# Statements that span venues on purpose: (file, a fragment of their text): why.
SPANNING = {
    ("print_jobs.c", "FROM print_jobs WHERE state = 0 AND next_at <="):
        "the print worker's claim: the next due job of any venue (background, not the order path)",
    ("webhooks.c", "FROM webhook_endpoints w JOIN webhook_deliveries d ON d.id = (SELECT min(h.id)"):
        "the webhook dispatcher's claim: the head of each endpoint's line (background)",
    ("reports.c", "SELECT count(*) FROM "):
        "row counts of whole tables for tokenq copy and its check (whole install)",
    ("reports.c", "setval(pg_get_serial_sequence"):
        "moving id sequences after a copy (whole install)",
    ("reports.c", " WHERE id > $1 ORDER BY id LIMIT $2"):
        "tokenq copy reads whole tables, page by page (whole install)",
    ("reports.c", "WHERE (delivery_id, attempt) > ($1, $2)"):
        "tokenq copy reads whole tables, page by page (whole install)",
}

LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
MACRO = re.compile(r"^#define\s+([A-Z_]+)\s+(.*)$", re.M)
TABLE_REF = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+([a-z_]+)", re.I)
# Naming the venue: a condition on venue_id (a WHERE, an ON, a row comparison),
# or, for an INSERT, venue_id among the columns written.
CONDITION = re.compile(r"venue_id\s*(=|>|<|\bIN\b)|\(venue_id(,\s*[a-z_]+)*\)\s*>", re.I)
INSERT_COLUMNS = re.compile(r"^INSERT INTO [a-z_]+ \(([^)]*)\)", re.I)


def names_venue(sql):
    """Whether sql says which venue it is about."""
    m = INSERT_COLUMNS.match(sql)
    if m and "venue_id" in m.group(1).split(", "):
        return True
    return CONDITION.search(sql) is not None


def expand(text, macros):
    """The string of a run of literals and macro names, macros expanded."""
    out = []
    for tok in re.finditer(r'"((?:[^"\\]|\\.)*)"|\b([A-Z_]{3,})\b', text):
        if tok.group(1) is not None:
            out.append(tok.group(1))
        elif tok.group(2) in macros:
            out.append(macros[tok.group(2)])
    return "".join(out)


def source(path):
    return re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S).replace("\\\n", " ")


def macros_of(src, macros):
    for m in MACRO.finditer(src):
        macros[m.group(1)] = expand(m.group(2), macros)
    return macros


HEADER_MACROS = macros_of(source(ROOT / "src" / "store" / "store-internal.h"), {})


def statements(path):
    src = source(path)
    macros = macros_of(src, dict(HEADER_MACROS))
    # A run: string literals and macro names joined by white space, ended by anything else.
    for m in re.finditer(r'((?:"(?:[^"\\]|\\.)*"|\b[A-Z_]{3,}\b)(?:\s*(?:"(?:[^"\\]|\\.)*"|\b[A-Z_]{3,}\b))*)', src):
        sql = expand(m.group(1), macros).strip()
        if re.match(r"(SELECT|INSERT|UPDATE|DELETE|WITH)\b", sql):
            yield src.count("\n", 0, m.start()) + 1, sql


def main():
    bad, checked = [], 0
    for path in sorted((ROOT / "src" / "store").glob("*.c")):
        for line, sql in statements(path):
            tables = {t.lower() for t in TABLE_REF.findall(sql)} & VENUE_TABLES
            if not tables:
                continue
            checked += 1
            if names_venue(sql):
                continue
            if any(f == path.name and frag in sql for f, frag in SPANNING):
                continue
            bad.append(f"{path.relative_to(ROOT)}:{line}: {', '.join(sorted(tables))}: {sql[:160]}")
    if bad:
        print("check-venue-filters: statements on a venue's tables that do not name the venue:")
        print("\n".join("  " + b for b in bad))
        return 1
    print(f"check-venue-filters: {checked} statements on venue tables, each names its venue")
    return 0


if __name__ == "__main__":
    sys.exit(main())
