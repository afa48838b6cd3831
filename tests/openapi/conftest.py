"""The OpenAPI suite: checks web/openapi.json against the running server.

It starts real `tokenq serve` processes with the HTTP suite's helpers
(tests/http/conftest.py, loaded as a plain module), on SQLite and, when
TOKENQ_TEST_PG is set, on PostgreSQL; every answer its client receives goes
through the checker (hook.py), and each test also asserts the status it
expects, so an answer the document does not describe fails.

Run:  /usr/bin/python3 -m pytest tests/openapi -q
"""

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

_spec = importlib.util.spec_from_file_location("tokenq_http_helpers", HERE.parent / "http" / "conftest.py")
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)
sys.modules["tokenq_http_helpers"] = helpers

import hook  # noqa: E402

hook.install(helpers.Api)


@pytest.fixture(scope="session", autouse=True)
def _binary_exists():
    import os

    if not os.path.exists(helpers.BIN):
        pytest.exit(f"tokenq binary {helpers.BIN} not found: build it (make) or set TOKENQ_BIN", returncode=2)


@pytest.fixture(scope="session", autouse=True)
def _drop_databases():
    yield
    if helpers._to_drop and helpers.PG_URL:
        import subprocess

        argv = ["psql", "-X", "-q", helpers.PG_URL]
        for name in helpers._to_drop:
            argv += ["-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]
        subprocess.run(argv, capture_output=True, timeout=300)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request):
    if request.param == "postgres" and not helpers.PG_URL:
        pytest.skip("TOKENQ_TEST_PG is not set: no PostgreSQL server to test against")
    return request.param


@pytest.fixture(scope="module")
def factory(backend, tmp_path_factory):
    f = helpers.Factory(backend, tmp_path_factory.mktemp(f"oa-{backend}"))
    yield f
    f.close()


@pytest.fixture(scope="module")
def api(factory, tmp_path_factory):
    """A server with queues A, B and TX, a menu and a key per role."""
    menu = tmp_path_factory.mktemp("menu") / "menu.json"
    menu.write_text('{"currency": "INR", "items": [{"name": "Masala tea", "unit_price": 150}]}')
    return factory.api(queues="A=Dine-in,B=Takeaway,TX=Tax desk", env={"TOKENQ_MENU": str(menu)})


selected = set()


def pytest_collection_modifyitems(config, items):
    selected.update(it.nodeid for it in items)
