"""A network receipt printer for the printing tests: a TCP server on
loopback that answers the real-time status queries (DLE EOT 1 and 4) the
way an Epson-compatible printer does, then records the job's bytes.

  mode "ready"      online, paper present; the job is recorded
  mode "near_end"   online, the roll near its end (DLE EOT 4 bits 2, 3):
                    still prints
  mode "paper_out"  offline because the roll is empty (DLE EOT 1 bit 3,
                    DLE EOT 4 bits 5 and 6)
  mode "paper_end"  online, yet the roll end sensor says empty (a printer
                    that reports it before going offline)
  mode "cover_open" offline with paper present
  mode "silent"     accepts the connection, reads, never answers

Status queries are recognised only before the job's first byte: inside a
job DLE EOT can be part of an image, and the transport asks first anyway.

  python3 tests/print/fake_printer.py [--port 9100] [--mode ready] [--out job.bin]
runs one by hand, to point tokenq or print_driver at (docs/printing.md).
"""
import argparse
import socket
import threading

# The answers to DLE EOT 1 and DLE EOT 4 in each mode (bits 1 and 4 are
# always set; EOT 1 bit 3 = offline; EOT 4 bits 2, 3 = near end, 5, 6 = end).
ANSWERS = {
    "ready": (0x12, 0x12),
    "near_end": (0x12, 0x1E),
    "paper_out": (0x1A, 0x72),
    "paper_end": (0x12, 0x72),
    "cover_open": (0x1A, 0x12),
}
MODES = tuple(ANSWERS) + ("silent",)

class FakePrinter:
    def __init__(self, mode="ready", port=0):
        self.mode = mode
        self.jobs = []  # bytes of each connection's job, in order
        self.queries = []  # the n of each DLE EOT n asked, in order
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self):
        return "tcp://127.0.0.1:%d" % self.port

    def wait_jobs(self, n, timeout=5.0):
        """The first n jobs, once that many connections have ended (or fewer
        after timeout seconds)."""
        end = threading.Event()
        for _ in range(int(timeout / 0.02)):
            with self._lock:
                if len(self.jobs) >= n:
                    break
            end.wait(0.02)
        with self._lock:
            return list(self.jobs[:n])

    def close(self):
        self._done.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() does not
        except OSError:
            pass
        self._sock.close()
        self._thread.join(2)

    def _serve(self):
        while not self._done.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _answer(self, n):
        eot1, eot4 = ANSWERS[self.mode]
        return {1: eot1, 4: eot4}.get(n, 0x12)

    def _client(self, conn):
        pending, job, in_job = b"", b"", False
        conn.settimeout(10)
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                if in_job:
                    job += chunk
                    continue
                pending += chunk
                while len(pending) >= 3 and pending[:2] == b"\x10\x04":
                    with self._lock:
                        self.queries.append(pending[2])
                    if self.mode != "silent":
                        conn.sendall(bytes([self._answer(pending[2])]))
                    pending = pending[3:]
                if pending and pending[:2] != b"\x10\x04"[: len(pending[:2])]:
                    in_job, job, pending = True, pending, b""
        if job:
            with self._lock:
                self.jobs.append(job)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--mode", choices=MODES, default="ready")
    ap.add_argument("--out", help="append each job's bytes to this file")
    args = ap.parse_args()
    p = FakePrinter(args.mode, args.port)
    print("fake printer on %s (%s); Ctrl-C to stop" % (p.address, args.mode), flush=True)
    seen = 0
    try:
        while True:
            p._done.wait(0.5)
            with p._lock:
                new = p.jobs[seen:]
                seen = len(p.jobs)
            for job in new:
                print("job of %d bytes" % len(job), flush=True)
                if args.out:
                    with open(args.out, "ab") as f:
                        f.write(job)
    except KeyboardInterrupt:
        p.close()


if __name__ == "__main__":
    main()
