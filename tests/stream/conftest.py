"""Fixtures for the event-stream tests: real tokenq servers on loopback, on a
SQLite file and on the throwaway PostgreSQL server of tests/run.sh
(TOKENQ_TEST_PG)."""
import pytest

from streamlib import PG, Server, pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path}/tokenq.db"
        return
    if not PG:
        pytest.skip("TOKENQ_TEST_PG is not set (tests/run.sh starts a PostgreSQL server)")
    url, drop = pg_database()
    yield url
    drop()


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def make(database, env=None):
        s = Server(database, tmp_path, env).start()
        servers.append(s)
        return s
    yield make
    codes = [s.stop() for s in servers]
    # A clean exit also means no leak reports under the sanitizers.
    assert codes == [0] * len(servers), [s.log_path.read_text()[-3000:] for s in servers]
