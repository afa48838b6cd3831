"""Makes every answer an HTTP test client receives pass through the
OpenAPI checker, so the document cannot drift from the server.

In a suite's conftest.py, after its client class is defined:

    sys.path.insert(0, str(REPO / "tests" / "openapi"))
    import hook
    hook.install(Api)

install() wraps the class's request(method, path, ...) method, which must
return an object with status, headers and raw (the body's bytes), and
checks each answer with checker.check(). A mismatch fails the test that
made the request, with what differs. TOKENQ_OPENAPI_CHECK=0 turns the
check off; TOKENQ_OPENAPI_CHECK=record only records mismatches in
hook.mismatches (and prints them at exit) instead of failing.
"""

import atexit
import functools
import os
import sys

import checker

mismatches = []
checked = {}


def _mode():
    return os.environ.get("TOKENQ_OPENAPI_CHECK", "1").strip().lower()


def install(cls, method_name="request"):
    """Wraps cls.method_name(self, method, path, ...) once; returns cls."""
    original = getattr(cls, method_name)
    if getattr(original, "_openapi_checked", False):
        return cls

    @functools.wraps(original)
    def request(self, method, path, *args, **kwargs):
        r = original(self, method, path, *args, **kwargs)
        mode = _mode()
        if mode in ("0", "off", "no"):
            return r
        try:
            op = checker.check(method, path, r.status, r.headers, r.raw)
            checked[(op, r.status)] = checked.get((op, r.status), 0) + 1
        except checker.CheckError as e:
            if mode == "record":
                mismatches.append(str(e))
            else:
                raise
        return r

    request._openapi_checked = True
    setattr(cls, method_name, request)
    return cls


def check(method, path, status, headers, raw):
    """For answers read some other way (raw sockets): the same check, counted."""
    op = checker.check(method, path, status, headers, raw)
    checked[(op, status)] = checked.get((op, status), 0) + 1
    return op


@atexit.register
def _report():
    if mismatches:
        print(f"\nOpenAPI: {len(mismatches)} answers do not match web/openapi.json:", file=sys.stderr)
        for m in mismatches[:50]:
            print("  " + m.replace("\n", "\n  "), file=sys.stderr)
