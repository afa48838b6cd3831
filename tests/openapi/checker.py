"""Checks an HTTP answer of tokenq against its OpenAPI document.

    from checker import check, CheckError
    check("GET", "/api/orders/42", 200, headers, raw_body)

finds the operation by path template (as the server's router does: literal
segments, `{id}` 1 to 18 digits, any other `{x}` one segment), checks that
the status is one the operation documents, that the Content-Type is one of
that answer's media types, that the headers the answer documents as always
sent are there, and that the body matches the media type's schema (JSON
Schema draft 2020-12, `$ref`s resolved within the document). A problem
answer's `code` must be one the operation lists. A path no route matches
must be 404 and a method the path does not serve 405 with Allow, both
checked against the document's shared NotFound and MethodNotAllowed
answers. Event streams are checked message by message (check_sse).

Raises CheckError with what is wrong; returns the operation's id.
"""

import json
import os
import re
from pathlib import Path

import jsonschema

REPO = Path(__file__).resolve().parents[2]
DOC_PATH = Path(os.environ.get("TOKENQ_OPENAPI") or REPO / "web" / "openapi.json")

_doc = None
_validators = {}


class CheckError(AssertionError):
    pass


def document():
    global _doc
    if _doc is None:
        _doc = json.loads(DOC_PATH.read_text(encoding="utf-8"))
    return _doc


def _resolve(node):
    """Follows a local $ref (one at a time, until a node without one)."""
    while isinstance(node, dict) and "$ref" in node:
        ptr = node["$ref"]
        if not ptr.startswith("#/"):
            raise CheckError(f"only local $refs are supported: {ptr}")
        node = document()
        for part in ptr[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _validator(schema):
    key = json.dumps(schema, sort_keys=True)
    v = _validators.get(key)
    if v is None:
        doc = document()
        resolver = jsonschema.RefResolver(base_uri="", referrer=doc)
        cls = jsonschema.Draft202012Validator
        cls.check_schema(schema)
        v = cls(schema, resolver=resolver, format_checker=cls.FORMAT_CHECKER)
        _validators[key] = v
    return v


def _short(text, limit=300):
    return text if len(text) <= limit else text[: limit // 2] + " … " + text[-limit // 2 :]


def validate(instance, schema, what):
    errors = sorted(_validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  at /{'/'.join(str(p) for p in e.absolute_path)}: {_short(e.message)}" for e in errors[:8]
        ]
        raise CheckError(f"{what} does not match the document:\n" + "\n".join(lines))


# ---------------------------------------------------------------- routing


def _segment_matches(tmpl, seg):
    m = re.fullmatch(r"\{([^}]+)\}", tmpl)
    if not m:
        return tmpl == seg
    if m.group(1) == "id":
        return re.fullmatch(r"[0-9]{1,18}", seg) is not None
    return seg != ""


def template_matches(template, path):
    t = template.split("/")
    p = path.split("/")
    return len(t) == len(p) and all(_segment_matches(a, b) for a, b in zip(t, p))


# A venue's prefix (the document's second server, /v/{venue}) before any path.
VENUE_PREFIX = re.compile(r"^/v/([^/]*)(/.*)?$")


def without_venue(path):
    """The path with a /v/{venue} prefix taken off ("/" for the venue's root),
    and whether it had one."""
    m = VENUE_PREFIX.match(path.split("?", 1)[0])
    if m is None:
        return path, False
    rest = path[len("/v/" + m.group(1)):]
    if rest == "" or rest.startswith("?"):
        rest = "/" + rest
    return rest, True


def find_path(path):
    """The path template matching a request path (query stripped), or None."""
    path = without_venue(path)[0]
    path = path.split("?", 1)[0].split("#", 1)[0]
    for template in document()["paths"]:
        if template_matches(template, path):
            return template
    return None


def find_operation(method, path):
    """(template, operation) or (template, None) or (None, None)."""
    template = find_path(path)
    if template is None:
        return None, None
    return template, document()["paths"][template].get(method.lower())


# ---------------------------------------------------------------- answers


def _media_type(headers):
    ct = _header(headers, "content-type") or ""
    return ct.split(";", 1)[0].strip().lower(), ct


def _header(headers, name):
    if headers is None:
        return None
    items = headers.items() if hasattr(headers, "items") else headers
    for k, v in items:
        if k.lower() == name.lower():
            return v
    return None


def _check_response(resp, status, headers, raw, method, where):
    resp = _resolve(resp)
    for name, h in (resp.get("headers") or {}).items():
        h = _resolve(h)
        value = _header(headers, name)
        # Documented headers are checked when sent; those of problems and
        # creations are always sent.
        if value is None:
            if name in ("Location", "Allow", "WWW-Authenticate", "Retry-After", "Idempotent-Replayed"):
                raise CheckError(f"{where}: {status} lacks the {name} header")
            continue
        schema = h.get("schema")
        if schema:
            inst = value
            if schema.get("type") == "integer" and re.fullmatch(r"[0-9]+", value):
                inst = int(value)
            validate(inst, schema, f"{where}: header {name}")
    content = resp.get("content")
    if method.upper() == "HEAD":
        if raw:
            raise CheckError(f"{where}: a HEAD answer has a body ({len(raw)} bytes)")
        return
    if not content:
        if raw:
            raise CheckError(f"{where}: {status} is documented without a body, got {len(raw)} bytes")
        return
    mt, ct = _media_type(headers)
    media = None
    for key, m in content.items():
        if key.split(";", 1)[0].strip().lower() == mt:
            media = m
            break
    if media is None:
        raise CheckError(f"{where}: {status} Content-Type {ct!r} is not one of {list(content)}")
    schema = media.get("schema")
    if mt == "text/event-stream":
        check_sse(raw, media, where)
        return
    if mt.endswith("json"):
        try:
            body = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        except ValueError as e:
            raise CheckError(f"{where}: {status} body is not JSON ({e}): {raw[:200]!r}") from None
    else:
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if schema:
        validate(body, schema, f"{where}: {status} {mt} body")


def check(method, path, status, headers, raw_body):
    """Validates one answer; returns the operationId (or a shared answer's name)."""
    method = method.upper()
    raw = raw_body if raw_body is not None else b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    where = f"{method} {path}"
    components = document()["components"]["responses"]
    if without_venue(path)[1] and status == 404:
        # An unknown venue is refused before its route is looked at.
        _check_response(components["NotFound"], status, headers, raw, method, where)
        return "NotFound"
    template, opn = find_operation(method, path)
    if template is None:
        if status != 404:
            raise CheckError(f"{where}: no documented path matches, but the answer is {status}, not 404")
        _check_response(components["NotFound"], status, headers, raw, method, where)
        return "NotFound"
    if opn is None:
        if status != 405:
            raise CheckError(
                f"{where}: {template} documents no {method}, but the answer is {status}, not 405"
            )
        _check_response(components["MethodNotAllowed"], status, headers, raw, method, where)
        allow = {m.strip() for m in (_header(headers, "allow") or "").split(",")}
        documented = {m.upper() for m in document()["paths"][template] if not m.startswith("x-")}
        if allow != documented:
            raise CheckError(f"{where}: Allow says {sorted(allow)}, the document {sorted(documented)}")
        return "MethodNotAllowed"
    where = f"{where} ({opn['operationId']})"
    resp = opn["responses"].get(str(status))
    if resp is None:
        raise CheckError(f"{where}: status {status} is not documented (documented: {sorted(opn['responses'])})")
    _check_response(resp, status, headers, raw, method, where)
    if method != "HEAD" and _media_type(headers)[0] == "application/problem+json":
        code = json.loads(raw)["code"]
        if code not in opn.get("x-problem-codes", []):
            raise CheckError(f"{where}: problem code {code!r} is not in x-problem-codes")
    return opn["operationId"]


def parse_sse(raw):
    """The messages of an event stream: a list of dicts with id, event, data
    (comments and retry lines dropped; a message ends at a blank line)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    messages, cur = [], {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if line == "":
            if "data" in cur:
                messages.append(cur)
            cur = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            cur["data"] = cur["data"] + "\n" + value if "data" in cur else value
        elif name in ("id", "event", "retry"):
            cur[name] = value
        else:
            raise CheckError(f"event stream: unknown field {name!r} in line {line!r}")
    return messages


def check_sse(raw, media=None, where="event stream"):
    """Every complete message of the stream: event token or recall, an id,
    data matching the document's event schema, id equal to data.event_id."""
    if media is None:
        media = document()["paths"]["/api/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    schema = media.get("x-event-data")
    out = []
    for m in parse_sse(raw):
        if m.get("event") not in ("token", "recall"):
            raise CheckError(f"{where}: event type {m.get('event')!r}")
        try:
            data = json.loads(m["data"])
        except ValueError:
            raise CheckError(f"{where}: data is not JSON: {m['data']!r}") from None
        if schema:
            validate(data, schema, f"{where}: event {m.get('id')} data")
        if str(data.get("event_id")) != m.get("id"):
            raise CheckError(f"{where}: id {m.get('id')} but event_id {data.get('event_id')}")
        out.append((m["event"], data))
    return out
