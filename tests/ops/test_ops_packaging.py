"""What runs tokenq in production: the systemd units (accepted by
systemd-analyze, sandboxed as docs/operations.md says, the nightly backup
line doing what it says once systemd has unescaped it), the sysusers file,
and the man page (renders without a warning)."""

import datetime as dt
import re
import subprocess

import pytest

import opskit
from opskit import ops  # noqa: F401 (fixtures)

PKG = opskit.REPO / "packaging"
UNITS = ["tokenq.service", "tokenq-backup.service", "tokenq-backup.timer"]


def directives(text):
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            k, _, v = line.partition("=")
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def test_units_pass_systemd_analyze_verify(tmp_path):
    if not opskit.have("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (Debian: systemd)")
    for name in UNITS:
        text = (PKG / name).read_text().replace("/usr/local/bin/tokenq", opskit.BIN)
        (tmp_path / name).write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                        *[str(tmp_path / n) for n in UNITS]],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and not r.stderr.strip(), f"systemd-analyze verify:\n{r.stderr}"


def test_server_unit_is_sandboxed():
    d = directives((PKG / "tokenq.service").read_text())
    assert d.get("User") == ["tokenq"] or d.get("DynamicUser") == ["yes"]
    for k, v in {"StateDirectory": "tokenq tokenq/backups", "WorkingDirectory": "/var/lib/tokenq",
                 "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                 "NoNewPrivileges": "yes", "KillSignal": "SIGTERM", "TimeoutStopSec": "15",
                 "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
                 "CapabilityBoundingSet": ""}.items():
        assert d.get(k, [None])[0] == v, f"{k}={d.get(k)}"
    assert "@system-service" in d["SystemCallFilter"]
    assert "DATABASE_URL=sqlite:/var/lib/tokenq/tokenq.db" in d["Environment"]
    assert d["ExecStart"] == ["/usr/local/bin/tokenq serve"]


def systemd_unescape(s):
    """What systemd makes of an ExecStart= word: %% -> %, $$ -> $."""
    return s.replace("%%", "%").replace("$$", "$")


def test_backup_unit_line_writes_a_dated_backup(ops):
    d = directives((PKG / "tokenq-backup.service").read_text())
    line = d["ExecStart"][0]
    m = re.fullmatch(r"/bin/sh -c '(.*)'", line)
    assert m, line
    script = systemd_unescape(m.group(1))
    assert "%Y%m%d" in script and "$(date" in script, script
    db = ops.db("sqlite")
    opskit.create_key(db, "admin")
    (ops.tmpdir / "backups").mkdir()
    script = (script.replace("/usr/local/bin/tokenq", opskit.BIN)
              .replace("/var/lib/tokenq/backups", str(ops.tmpdir / "backups")))
    for _ in range(2):  # a second run the same day replaces the file (--force)
        r = subprocess.run(["/bin/sh", "-c", script], env=opskit.base_env({"DATABASE_URL": db.url}),
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    made = [p.name for p in (ops.tmpdir / "backups").iterdir()]
    today = dt.date.today().strftime("%Y%m%d")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).strftime("%Y%m%d")
    assert made in ([f"tokenq-{today}.db"], [f"tokenq-{yesterday}.db"]), made
    prune = d["ExecStartPost"][0]
    assert prune.startswith("/usr/bin/find /var/lib/tokenq/backups") and "-delete" in prune
    t = directives((PKG / "tokenq-backup.timer").read_text())
    assert t.get("OnCalendar") and t.get("Persistent") == ["yes"]


def test_sysusers_file(tmp_path):
    if not opskit.have("systemd-sysusers"):
        pytest.skip("systemd-sysusers is not installed (Debian: systemd)")
    (tmp_path / "etc").mkdir()
    r = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", str(PKG / "tokenq.sysusers")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^tokenq:x:\d+:\d+:", (tmp_path / "etc/passwd").read_text(), re.M)


def test_man_page_renders_without_warnings():
    if not opskit.have("groff"):
        pytest.skip("groff is not installed")
    r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", str(opskit.REPO / "docs/tokenq.1")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    text = subprocess.run(["groff", "-man", "-Tutf8", str(opskit.REPO / "docs/tokenq.1")],
                          capture_output=True, text=True, timeout=60).stdout
    plain = re.sub(r".\x08", "", text)
    for word in ("serve", "migrate", "keys", "backup", "copy", "EXIT STATUS", "ENVIRONMENT",
                 "FILES", "EXAMPLES", "DATABASE_URL", "TOKENQ_PUBLIC_URL"):
        assert word in plain, word


def test_every_command_is_in_the_man_page_and_the_guide():
    man = (opskit.REPO / "docs/tokenq.1").read_text()
    guide = (opskit.REPO / "docs/operations.md").read_text()
    for cmd in ("serve", "migrate", "keys", "backup", "copy"):
        assert f"tokenq {cmd}" in man.replace("\\-", "-") or f".B tokenq {cmd}" in man, cmd
        assert f"tokenq {cmd}" in guide, cmd
    for needed in ("pg_restore --no-owner", "proxy_buffering off", "proxy_read_timeout",
                   "TOKENQ_PUBLIC_URL", "/healthz", "/metrics", "make install"):
        assert needed in guide, needed
