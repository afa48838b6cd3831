"""What every Python suite of tokenq (tests/http, tests/stream, tests/ops,
tests/fault, tests/openapi) needs to run a real server: the binary, a free
port, the environment a tokenq process gets, the business-date rule, and
Server, one `tokenq serve` process with its output in a log file.

A suite's helper module loads this one with a line of its own,

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
    import tokenq_server

and re-exports what its tests import, subclassing Server where the suite
wants other timeouts, another environment or more methods.

Environment:
  TOKENQ_BIN  the binary (default build/tokenq under the repo root; a
              relative path is taken from the repo root)
"""

import datetime as dt
import http.client
import os
import signal
import socket
import subprocess
import time
import uuid
import zoneinfo
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("TOKENQ_BIN") or "build/tokenq"
if not os.path.isabs(BIN):
    BIN = str(REPO / BIN)
PG_SH = str(REPO / "tests" / "pg.sh")

# Servers of the suites run in UTC with the business day starting about 12
# hours from now, so that no day boundary falls inside a test run. Tests of
# the business date itself set their own time zone and day start.
_NOW = dt.datetime.now(dt.timezone.utc)
SUITE_TZ = "UTC"
SUITE_DAY_START = (_NOW + dt.timedelta(hours=12)).strftime("%H:%M")


def business_date(tz=SUITE_TZ, day_start=SUITE_DAY_START, now=None):
    """The business date per the numbering rule for instant `now` (default:
    now): the local date in zone tz, or the day before while the local time
    is earlier than day_start (HH:MM)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    local = now.astimezone(zoneinfo.ZoneInfo(tz))
    h, m = (int(x) for x in day_start.split(":"))
    if (local.hour, local.minute) < (h, m):
        return (local.date() - dt.timedelta(days=1)).isoformat()
    return local.date().isoformat()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(extra=None):
    """The environment for a tokenq process: none of the caller's tokenq
    settings, the suites' time zone and day start, then `extra` (a value of
    None removes the variable)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TOKENQ_") and k not in ("DATABASE_URL", "TZ")
    }
    env["TOKENQ_TIMEZONE"] = SUITE_TZ
    env["TOKENQ_DAY_START"] = SUITE_DAY_START
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


class Server:
    """A `tokenq serve --listen HOST:PORT --database URL ARGS` process, its
    stdout and stderr appended to a log file in logdir.

    db is a URL or an object with a .url; env is passed through environment()
    (by default base_env); argv_prefix runs the server under another program
    (valgrind, prlimit...). Subclasses set the timeouts and the log lines
    log_tail shows."""

    READY_TIMEOUT = 10  # seconds for /healthz to answer 200
    STOP_TIMEOUT = 10  # seconds for SIGTERM to end the process
    LOG_LINES = 150

    def __init__(self, db, logdir, env=None, host="127.0.0.1", args=(), port=None, argv_prefix=()):
        self.db = db
        self.url = db if isinstance(db, str) else db.url
        self.host = host
        self.connect_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.port = port or free_port()
        self.env = dict(env or {})
        self.args = list(args)
        self.argv_prefix = list(argv_prefix)
        self.log_path = Path(logdir) / f"tokenq-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self.proc = None
        self.log = None

    def environment(self):
        return base_env(self.env)

    def argv(self):
        return [*self.argv_prefix, BIN, "serve", "--listen", f"{self.host}:{self.port}",
                "--database", self.url, *self.args]

    def start(self, wait=True, timeout=None):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.argv(),
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        if wait:
            self.wait_ready(timeout)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def wait_ready(self, timeout=None):
        timeout = timeout or self.READY_TIMEOUT
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"tokenq serve exited with {self.proc.returncode} before answering:\n{self.log_tail()}"
                )
            try:
                c = http.client.HTTPConnection(self.connect_host, self.port, timeout=2)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return
                last = r.status
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"/healthz not 200 within {timeout} s (last: {last}):\n{self.log_tail()}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    alive = running

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.log.close()

    def stop(self, timeout=None):
        """SIGTERM; returns the exit status, or None if it did not exit in time
        (then it is killed)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout or self.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.log.close()
                return None
        self.log.close()
        return self.proc.returncode

    def log_tail(self, lines=None):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-(lines or self.LOG_LINES):])
