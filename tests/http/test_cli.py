"""The command line (docs/tokenq.1): help and version, usage errors, bad settings
refused with exit 2 and one sentence naming them, `migrate status`, keys."""

import re
import subprocess

import pytest

from conftest import (BIN, REPO, SUITE_DAY_START, SUITE_TZ, Api, base_env, business_date, free_port,
                      run_cli)

COMMANDS = ["serve", "migrate", "keys", "backup", "copy"]


def one_sentence(stderr):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"want one sentence on stderr, got:\n{stderr}"
    return lines[0]


def test_version():
    r = run_cli("version")
    assert r.returncode == 0, r.stderr
    assert (REPO / "VERSION").read_text().strip() in r.stdout


def test_help():
    r = run_cli("help")
    assert r.returncode == 0, r.stderr
    for c in COMMANDS:
        assert c in r.stdout, f"help does not mention {c}:\n{r.stdout}"


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_command(cmd):
    r = run_cli("help", cmd)
    assert r.returncode == 0, r.stderr
    assert cmd in r.stdout


@pytest.mark.parametrize("cmd", COMMANDS + ["version"])
def test_command_dash_dash_help(cmd, tmp_path):
    # with a database that must not be touched: --help does nothing else
    db = tmp_path / "untouched.db"
    r = run_cli(cmd, "--help", env={"DATABASE_URL": f"sqlite:{db}"}, timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip(), "no help text"
    assert not db.exists(), f"{cmd} --help created the database"


@pytest.mark.parametrize("argv", [["frobnicate"], ["serve", "--bogus"], ["migrate", "--bogus"],
                                  ["keys", "frob"], ["keys", "create", "--role", "wizard"],
                                  ["keys", "create"], ["version", "--bogus"], ["help", "frobnicate"]])
def test_usage_errors_exit_2(argv, tmp_path):
    db = tmp_path / "untouched.db"
    r = run_cli(*argv, env={"DATABASE_URL": f"sqlite:{db}"}, timeout=10)
    assert r.returncode == 2, f"{argv}: exit {r.returncode}, stderr {r.stderr!r}"
    one_sentence(r.stderr)


# ---------------------------------------------------------------- settings


def serve_with(env, tmp_path, args=()):
    """Runs serve with these settings; returns the CompletedProcess, or None
    if it was still running after 10 s (killed)."""
    argv = [BIN, "serve", "--listen", f"127.0.0.1:{free_port()}", *args]
    if "DATABASE_URL" not in env and "--database" not in args:
        argv += ["--database", f"sqlite:{tmp_path / 'settings.db'}"]
    try:
        return subprocess.run(argv, env=base_env(env), capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None


BAD_SETTINGS = [
    ("TOKENQ_TIMEZONE", "Not/AZone"),
    ("TOKENQ_TIMEZONE", "Mars/Olympus_Mons"),
    ("TOKENQ_TIMEZONE", "../../etc/passwd"),
    ("TOKENQ_DAY_START", "24:00"),
    ("TOKENQ_DAY_START", "7:00"),
    ("TOKENQ_DAY_START", "ab:cd"),
    ("TOKENQ_DAY_START", "12:60"),
    ("TOKENQ_DAY_START", "12:00:00"),
    ("TOKENQ_QUEUES", "a=x"),
    ("TOKENQ_QUEUES", "ABCD=x"),
    ("TOKENQ_QUEUES", "A=x,A=y"),
    ("TOKENQ_QUEUES", "A="),
    ("TOKENQ_QUEUES", "A"),
    ("TOKENQ_QUEUES", "A1=x"),
    ("TOKENQ_QUEUES", "=x"),
    ("TOKENQ_QUEUES", "A=" + "n" * 41),
    ("TOKENQ_QUEUES", "A=x=y"),
    ("TOKENQ_TOKEN_DIGITS", "0"),
    ("TOKENQ_TOKEN_DIGITS", "10"),
    ("TOKENQ_TOKEN_DIGITS", "x"),
    ("TOKENQ_TOKEN_DIGITS", "-1"),
    ("TOKENQ_TOKEN_DIGITS", "3x"),
    ("TOKENQ_LISTEN", "nonsense"),
    ("TOKENQ_LISTEN", "127.0.0.1:99999"),
    ("DATABASE_URL", "mysql://x"),
    ("DATABASE_URL", "nonsense"),
]


@pytest.mark.parametrize("name,value", BAD_SETTINGS, ids=[f"{n}={v[:20]}" for n, v in BAD_SETTINGS])
def test_bad_setting_exits_2_naming_it(name, value, tmp_path):
    args = ()
    env = {name: value}
    if name == "TOKENQ_LISTEN":
        # the flag would win over the environment
        argv = [BIN, "serve", "--database", f"sqlite:{tmp_path / 'settings.db'}"]
        try:
            r = subprocess.run(argv, env=base_env(env), capture_output=True, text=True, timeout=10,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            r = None
    else:
        r = serve_with(env, tmp_path, args)
    assert r is not None, f"serve started with {name}={value!r}"
    assert r.returncode == 2, f"{name}={value!r}: exit {r.returncode}, stderr {r.stderr!r}"
    line = one_sentence(r.stderr)
    assert name in line, f"the message does not name {name}: {line!r}"


def test_bad_database_flag_exits_2(tmp_path):
    r = serve_with({}, tmp_path, args=("--database", "mysql://x"))
    assert r is not None, "serve started with --database mysql://x"
    assert r.returncode == 2, r.stderr
    line = one_sentence(r.stderr)
    assert "database" in line.lower(), line


GOOD_SETTINGS = [
    ("gmt+5", {"TOKENQ_TIMEZONE": "Etc/GMT+5"}),
    ("kolkata-2359", {"TOKENQ_TIMEZONE": "Asia/Kolkata", "TOKENQ_DAY_START": "23:59"}),
    ("midnight", {"TOKENQ_DAY_START": "00:00"}),
    ("digits9", {"TOKENQ_TOKEN_DIGITS": "9"}),
    ("three-queues", {"TOKENQ_QUEUES": "A=Dine-in,B=Takeaway,TXZ=" + "n" * 40}),
    ("unicode-name", {"TOKENQ_QUEUES": "A=Caf\u00e9 \u2615 & bar"}),
    ("tz", {"TOKENQ_TIMEZONE": None, "TZ": "America/New_York"}),
]


@pytest.mark.parametrize("env", [e for _, e in GOOD_SETTINGS], ids=[n for n, _ in GOOD_SETTINGS])
def test_good_settings_start_and_take_effect(env, factory):
    s = factory.server(env=env)  # waits for /healthz 200
    api = Api(s, {})  # no key yet: protected mode lets loopback in
    tz = env.get("TOKENQ_TIMEZONE") or env.get("TZ") or SUITE_TZ
    ds = env.get("TOKENQ_DAY_START", SUITE_DAY_START)
    b = api.get("/api/board")
    assert b.status == 200, b
    assert b.body["business_date"] == business_date(tz, ds), f"{env}: {b.body}"
    queues = [tuple(part.split("=", 1)) for part in env.get("TOKENQ_QUEUES", "A=Orders").split(",")]
    q = api.get("/api/queues")
    assert q.body == {"queues": [{"prefix": p, "name": n} for p, n in queues]}, q
    o = api.create(queues[0][0])
    digits = int(env.get("TOKENQ_TOKEN_DIGITS", "3"))
    assert o["token"] == f"{queues[0][0]}-{1:0{digits}d}"


# ---------------------------------------------------------------- migrate


def test_migrate_status(factory):
    db = factory.db()
    r = run_cli("migrate", "status", db=db)
    assert r.returncode == 1, f"a brand-new database has pending migrations: exit {r.returncode} {r.stderr}"
    assert "pending" in r.stdout.lower(), r.stdout
    r = run_cli("migrate", db=db)
    assert r.returncode == 0, r.stderr
    r = run_cli("migrate", "status", db=db)
    assert r.returncode == 0, f"up to date: exit {r.returncode} {r.stdout} {r.stderr}"
    assert "pending" not in r.stdout.lower(), r.stdout
    assert "applied" in r.stdout.lower(), r.stdout
    # serve takes a migrated database as it is
    s = factory.server(db=db)
    assert s.running()


# ---------------------------------------------------------------- keys


def test_keys_create_list_revoke(factory):
    db = factory.db()
    r = run_cli("keys", "create", "--role", "staff", "--label", "till two", db=db)
    assert r.returncode == 0, r.stderr
    secret = r.stdout.splitlines()[0].strip()
    assert secret and " " not in secret
    assert "staff" in r.stderr and "till two" in r.stderr, r.stderr
    assert secret not in r.stderr
    r2 = run_cli("keys", "create", "--role", "pos", "--label", "till two", db=db)
    assert r2.returncode == 0, "labels need not be unique"
    assert r2.stdout.splitlines()[0].strip() != secret
    r3 = run_cli("keys", "create", "--role", "admin", db=db)
    assert r3.returncode == 0, "the label is optional"

    lst = run_cli("keys", "list", db=db)
    assert lst.returncode == 0, lst.stderr
    lines = [ln for ln in lst.stdout.splitlines() if "till two" in ln]
    assert len(lines) == 2, lst.stdout
    assert secret not in lst.stdout, "keys are shown once, never listed"
    staff_line = next(ln for ln in lines if "staff" in ln)
    kid = re.search(r"\d+", staff_line).group(0)

    rv = run_cli("keys", "revoke", kid, db=db)
    assert rv.returncode == 0, rv.stderr
    after = run_cli("keys", "list", db=db).stdout
    new_line = next(ln for ln in after.splitlines() if re.search(r"\d+", ln) and re.search(r"\d+", ln).group(0) == kid)
    assert new_line != staff_line, "keys list does not show the revocation"

    bad = run_cli("keys", "revoke", "987654", db=db)
    assert bad.returncode == 1, f"revoking an unknown id exits 1: {bad.returncode} {bad.stderr}"
    one_sentence(bad.stderr)
