"""What a new user meets first: the start-up hints, a key made in a new file
said so, and the menu the staff console picks items from."""

import json
import os
import subprocess
import time

import pytest

from conftest import BIN, base_env, free_port, run_cli


def serve_log(tmp_path, args, env=None, seconds=1.0):
    """Starts `tokenq serve ARGS`, lets it run a moment, stops it; returns
    (exit status, everything it logged)."""
    p = subprocess.Popen([BIN, "serve", *args], env=base_env(env), cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(seconds)
    p.terminate()
    out, _ = p.communicate(timeout=15)
    return p.returncode, out


def test_start_up_says_what_to_do_next(tmp_path):
    port = free_port()
    rc, out = serve_log(tmp_path, ["--listen", f"127.0.0.1:{port}", "--database", "sqlite:a.db"])
    assert rc == 0, out
    assert f"open http://127.0.0.1:{port}/staff" in out, out
    assert "tokenq keys create --role admin" in out, out
    assert "loopback address only" in out and f"--listen 0.0.0.0:{port}" in out, out
    assert "TOKENQ_PUBLIC_URL is not set" in out, out


def test_no_key_hint_once_a_key_exists_and_public_url_checked(tmp_path):
    db = f"sqlite:{tmp_path}/b.db"
    assert run_cli("keys", "create", "--role", "admin", db=db).returncode == 0
    port = free_port()
    rc, out = serve_log(tmp_path, ["--listen", f"0.0.0.0:{port}", "--database", db],
                        env={"TOKENQ_PUBLIC_URL": f"http://localhost:{port}"})
    assert rc == 0, out
    assert "no API key yet" not in out, out
    assert "loopback address only" not in out, out
    assert "a loopback address: the QR codes on tickets will not open" in out, out


def test_keys_create_in_a_new_file_names_it(tmp_path):
    r = subprocess.run([BIN, "keys", "create", "--role", "admin"], env=base_env(), cwd=tmp_path,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    where = str(tmp_path / "tokenq.db")
    assert f"there was no database at {where}" in r.stderr, r.stderr
    assert f"in {where}" in r.stderr, r.stderr
    # a second key in the same file: no warning, the file still named
    r = subprocess.run([BIN, "keys", "create", "--role", "pos"], env=base_env(), cwd=tmp_path,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "no database" not in r.stderr and where in r.stderr, r.stderr


MENU = {"currency": "INR", "items": [{"name": "Masala tea", "unit_price": 150},
                                     {"name": "Samosa", "unit_price": 60}]}


def test_menu_is_served_to_every_role(factory, tmp_path):
    path = tmp_path / "menu.json"
    path.write_text(json.dumps(MENU))
    api = factory.api(env={"TOKENQ_MENU": str(path)})
    for role in ("pos", "staff", "admin"):
        r = api.get("/api/menu", key=role)
        assert r.status == 200, r
        assert r.body == MENU, r.body
    assert api.get("/api/menu", key="").status == 401


def test_no_menu_is_404(factory):
    api = factory.api()
    r = api.get("/api/menu", key="staff")
    assert r.status == 404 and r.body["code"] == "not_found", r
    assert "TOKENQ_MENU" in r.body["detail"], r


@pytest.mark.parametrize("text,says", [
    ("[1, 2]", "JSON object"),
    ('{"items": []}', "1 to 500 items"),
    ('{"items": [{"name": "Tea"}]}', "item 1"),
    ('{"items": [{"name": "Tea", "unit_price": -1}]}', "item 1"),
    ('{"items": [{"name": "Tea", "unit_price": 1.5}]}', "item 1"),
    ('{"items": [{"name": "Tea", "unit_price": 1}], "currency": "rupees"}', "currency"),
    ('{"items": [{"name": "Tea", "unit_price": 1}], "price_list": 1}', "only"),
    ('{"items": [', "cannot read the menu"),
])
def test_bad_menu_stops_start_up(tmp_path, text, says):
    path = tmp_path / "menu.json"
    path.write_text(text)
    r = subprocess.run([BIN, "serve", "--listen", f"127.0.0.1:{free_port()}", "--database",
                        f"sqlite:{tmp_path}/m.db"], env=base_env({"TOKENQ_MENU": str(path)}),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert says in r.stderr and str(path) in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not os.path.exists(tmp_path / "m.db"), "a bad menu must change nothing"
