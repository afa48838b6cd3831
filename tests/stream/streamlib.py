"""Helpers for the event-stream tests: a real tokenq server on loopback and a
raw-socket Server-Sent Events client."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import tokenq_server  # noqa: E402

PG = os.environ.get("TOKENQ_TEST_PG")


class Server(tokenq_server.Server):
    """A `tokenq serve` process on loopback with the caller's environment
    plus env, and a small JSON client for it."""

    READY_TIMEOUT = 15
    STOP_TIMEOUT = 15

    def __init__(self, database, tmp_path, env=None):
        super().__init__(database, tmp_path, env=env)
        self.database = database
        self.base = f"http://127.0.0.1:{self.port}"

    def environment(self):
        return dict(os.environ, **self.env)

    def request(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def order(self, name="Tea", prefix=""):
        """A new order (at the venue of prefix, "/v/SLUG"; main's without)."""
        status, body = self.request(
            "POST", prefix + "/api/orders", {"items": [{"name": name, "quantity": 1, "unit_price": 100}]})
        assert status == 201, body
        return body

    def move(self, order_id, status):
        code, body = self.request("PATCH", f"/api/orders/{order_id}", {"status": status})
        assert code == 200, body
        return body

    def threads(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])


class Stream:
    """A raw-socket SSE client: what a board's EventSource does, byte for byte."""

    def __init__(self, server, last_event_id=None, query="", rcvbuf=None, prefix=""):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", server.port))
        self.sock.settimeout(10)
        head = f"GET {prefix}/api/events{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if last_event_id is not None:
            head += f"Last-Event-ID: {last_event_id}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        self.raw = b""
        self.headers = self._read_headers()
        self.chunk_left = 0

    def _read_headers(self):
        while b"\r\n\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("closed before headers")
            self.buf += data
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        return {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}

    def _fill(self, timeout):
        """Reads more of the chunked body into self.raw; False on timeout."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            raise EOFError("stream closed")
        self.buf += data
        self._dechunk()
        return True

    def _dechunk(self):
        """Moves the complete chunk data in self.buf to self.raw."""
        while True:
            if self.chunk_left == 0:
                if b"\r\n" not in self.buf:
                    return
                size_line, rest = self.buf.split(b"\r\n", 1)
                if size_line == b"":
                    self.buf = rest
                    continue
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    raise EOFError("stream ended")
                self.buf = rest
                self.chunk_left = size
            take = min(self.chunk_left, len(self.buf))
            if take == 0:
                return
            self.raw += self.buf[:take]
            self.buf = self.buf[take:]
            self.chunk_left -= take

    def next_block(self, timeout=5.0):
        """The next SSE block (event or comment) as a list of lines, or None on timeout."""
        deadline = time.time() + timeout
        self._dechunk()
        while b"\n\n" not in self.raw:
            left = deadline - time.time()
            if left <= 0 or not self._fill(left):
                return None
        block, self.raw = self.raw.split(b"\n\n", 1)
        return block.decode().split("\n")

    def next_event(self, timeout=5.0):
        """The next event as (id, type, data); comments and retry hints are skipped."""
        deadline = time.time() + timeout
        while True:
            block = self.next_block(max(0.01, deadline - time.time()))
            if block is None:
                return None
            fields = {}
            for line in block:
                if line.startswith(":") or ":" not in line:
                    continue
                k, v = line.split(":", 1)
                fields[k] = v[1:] if v.startswith(" ") else v
            if "data" in fields:
                return int(fields["id"]), fields.get("event", "message"), json.loads(fields["data"])

    def close(self):
        self.sock.close()


def pg_database():
    """A fresh PostgreSQL database URL on the test server, and a dropper."""
    name = "s_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", PG, "-qc", f"CREATE DATABASE {name}"], check=True)
    base = PG.rsplit("/", 1)[0]

    def drop():
        subprocess.run(["psql", PG, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                       check=False, capture_output=True)
    return f"{base}/{name}", drop


