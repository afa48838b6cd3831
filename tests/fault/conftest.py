"""Fixtures of the fault-injection suite (helpers live in faultlib.py).

Tests marked slow are skipped unless `-m slow` selects them (or
TOKENQ_FAULT_SLOW=1): the default selection stays within a few minutes.
"""

import os

import pytest

import faultlib


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long fault-injection runs, only with -m slow")
    config.addinivalue_line("markers", "root: needs root (mount, setrlimit beyond the hard limit)")


def pytest_collection_modifyitems(config, items):
    markexpr = config.getoption("-m", default="") or ""
    if "slow" in markexpr or os.environ.get("TOKENQ_FAULT_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: select with -m slow")
    for item in items:
        if "slow" in item.keywords and "tests/fault" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server URL where databases may be created: TOKENQ_TEST_PG
    when set, else a cluster of this suite's own."""
    url = os.environ.get("TOKENQ_TEST_PG")
    if url:
        yield url
        return
    try:
        c = faultlib.PgCluster()
    except Exception as e:  # no PostgreSQL installed, no free port
        pytest.skip(f"no PostgreSQL: {e}")
    yield c.url
    c.destroy()


@pytest.fixture
def pg_cluster():
    """A cluster of this test's own, to stop and restart."""
    try:
        c = faultlib.PgCluster()
    except Exception as e:
        pytest.skip(f"no PostgreSQL: {e}")
    yield c
    c.destroy()


@pytest.fixture
def servers(tmp_path):
    """Starts servers for a test and makes sure they are gone after it;
    prints the tail of each log when the test failed."""
    started = []

    def make(db, **kw):
        s = faultlib.Server(db, tmp_path, **kw)
        started.append(s)
        return s

    yield make
    for s in started:
        if s.alive():
            s.proc.kill()
            s.proc.wait()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed and "servers" in item.fixturenames:
        tmp = item.funcargs.get("tmp_path")
        if tmp is not None:
            for log in sorted(tmp.glob("tokenq-*.log")):
                text = log.read_text(errors="replace").splitlines()[-40:]
                rep.sections.append((f"server log {log.name}", "\n".join(text)))
