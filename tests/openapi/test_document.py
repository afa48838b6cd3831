"""The document itself: it lints, it names every route of the server's
route table with that route's method, path, name and roles, its examples
match its schemas, and docs/api.md is generated from it."""

import json
import re
import shutil
import subprocess
import sys

import pytest

import checker

REPO = checker.REPO
ROUTES_C = REPO / "src" / "http" / "routes.c"
ROLE_BITS = {"R_POS": "pos", "R_STAFF": "staff", "R_ADMIN": "admin"}
ROLE_ORDER = ["pos", "staff", "admin"]


def route_table():
    """[(method, pattern, roles, name)] from src/http/routes.c."""
    text = ROUTES_C.read_text()
    macros = {}
    for m in re.finditer(r"^#define\s+(\w+)\s+\(([^)]*)\)", text, re.M):
        macros[m.group(1)] = m.group(2)

    def roles_of(expr):
        expr = expr.strip()
        if expr in ("0", "PUBLIC", "R_PUBLIC"):
            return []
        out = set()
        for part in expr.strip("()").split("|"):
            part = part.strip()
            if part in macros:
                out |= set(roles_of(macros[part]))
            elif part in ROLE_BITS:
                out.add(ROLE_BITS[part])
            else:
                raise AssertionError(f"unknown role expression {part!r} in routes.c")
        return [r for r in ROLE_ORDER if r in out]

    rows = []
    for m in re.finditer(
        r'\{"([A-Z]+)",\s*"([^"]+)",\s*(\w+),\s*([^,]+),\s*(?:true|false),\s*(?:true|false),\s*(?:true|false),\s*"(\w+)"\}',
        text,
    ):
        rows.append((m.group(1), m.group(2), roles_of(m.group(4)), m.group(5)))
    assert len(rows) >= 10, f"routes.c parsed to only {len(rows)} routes: has its format changed?"
    return rows


def operations():
    for path, item in checker.document()["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                yield method.upper(), path, op


def test_openapi_31_and_version():
    doc = checker.document()
    assert doc["openapi"].startswith("3.1.")
    assert doc["info"]["version"] == (REPO / "VERSION").read_text().strip(), "info.version is not VERSION"


def test_every_route_is_documented():
    ops = {(m, p): op for m, p, op in operations()}
    missing = []
    for method, pattern, roles, name in route_table():
        op = ops.get((method, pattern))
        if op is None:
            missing.append(f"{method} {pattern} ({name})")
            continue
        assert op["operationId"] == name, f"{method} {pattern}: operationId {op['operationId']} is not the route's name {name}"
        assert op["x-roles"] == roles, f"{name}: x-roles {op['x-roles']} but routes.c allows {roles}"
        if roles:
            assert op["security"] == [{"bearerAuth": []}], f"{name}: a protected route needs bearerAuth"
        else:
            assert op["security"] == [], f"{name}: a public route has security []"
        assert "401" in op["responses"] if roles else "401" not in op["responses"], name
        if method == "GET":
            head = ops.get(("HEAD", pattern))
            assert head is not None, f"GET {pattern} is served for HEAD too, but the document has no HEAD"
            assert head["x-route"] == name and head["x-roles"] == roles
    assert not missing, "routes the document lacks: " + ", ".join(missing)


def test_document_has_no_route_the_server_lacks():
    served = {(m, p) for m, p, _, _ in route_table()}
    served |= {("HEAD", p) for m, p in list(served) if m == "GET"}
    # GET /api/openapi.json is documented before the server serves it.
    pending = {("GET", "/api/openapi.json"), ("HEAD", "/api/openapi.json")}
    extra = [f"{m} {p}" for m, p, _ in operations() if (m, p) not in served and (m, p) not in pending]
    assert not extra, "documented but not in routes.c: " + ", ".join(extra)


def test_operation_ids_unique_and_problem_codes_listed():
    seen = set()
    for method, path, op in operations():
        assert op["operationId"] not in seen, op["operationId"]
        seen.add(op["operationId"])
        codes = set()
        for status, resp in op["responses"].items():
            media = (resp.get("content") or {}).get("application/problem+json")
            if media:
                codes |= set(media["schema"]["allOf"][1]["properties"]["code"]["enum"])
        if method != "HEAD":
            assert codes == set(op["x-problem-codes"]), f"{op['operationId']}: x-problem-codes {op['x-problem-codes']} vs answers {sorted(codes)}"


def _examples():
    for method, path, op in operations():
        body = (op.get("requestBody") or {}).get("content", {})
        for mt, media in list(body.items()) + [
            (mt, m) for r in op["responses"].values() for mt, m in (r.get("content") or {}).items()
        ]:
            if not mt.endswith("json"):
                continue
            exs = [media["example"]] if "example" in media else []
            exs += [e["value"] for e in (media.get("examples") or {}).values()]
            for e in exs:
                yield f"{op['operationId']} {mt}", media["schema"], e


def test_examples_match_schemas():
    n = 0
    for what, schema, example in _examples():
        checker.validate(example, schema, what)
        n += 1
    assert n > 30


def test_schemas_reject_drift():
    """The schemas are strict enough to notice a changed answer."""
    order = checker.document()["components"]["schemas"]["Order"]["examples"][0]
    schema = {"$ref": "#/components/schemas/Order"}
    checker.validate(order, schema, "order")
    for bad in (
        {k: v for k, v in order.items() if k != "token"},
        dict(order, status="DONE"),
        dict(order, total="300"),
        dict(order, created_at="2026-11-27 08:15:00"),
        dict(order, history=[]),
    ):
        with pytest.raises(checker.CheckError):
            checker.validate(bad, schema, "order")


def test_redocly_lint():
    here = checker.REPO / "tests" / "openapi"
    if not (here / "node_modules" / ".bin" / "redocly").exists():
        if shutil.which("npm") is None:
            pytest.fail("npm is needed to install @redocly/cli (scripts/deps.sh test)")
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=here,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"npm ci failed: {r.stderr}"
    r = subprocess.run([str(here / "node_modules" / ".bin" / "redocly"), "lint", "--format=stylish",
                        str(checker.DOC_PATH)], cwd=here, capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and not re.search(r"\berror\b", out.split("validating", 1)[-1]), out


def test_api_md_is_generated_from_the_document():
    r = subprocess.run([sys.executable, str(REPO / "tools" / "apidoc.py"), "--check"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
