"""The planner command: offline solve and check, and the local database's lifecycle."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from receptor_planner.checker import check
from receptor_planner.generator import generate

REPO = Path(__file__).resolve().parents[1]


def planner(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "receptor_planner", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "plpython"), **(env or {})}, timeout=600)


@pytest.fixture
def files(tmp_path):
    instance = tmp_path / "instance.json"
    instance.write_text(json.dumps(generate("regional", seed=1)))
    return instance, tmp_path / "solution.json"


def test_solve_then_check(files):
    instance, solution = files
    done = planner("solve", str(instance), "--constraints", "VIC_PGY1", "--seed", "3", "-o", str(solution))
    assert done.returncode == 0, done.stderr
    assert "status: COMPLETED" in done.stderr
    document = json.loads(solution.read_text())
    assert document["metrics"]["lines_built"] == document["metrics"]["lines_requested"]
    assert document["request"]["constraints"] == ["VIC_PGY1"]
    assert check(json.loads(instance.read_text()), document) == []
    checked = planner("check", str(solution), "--instance", str(instance))
    assert checked.returncode == 0, checked.stdout
    assert "0 violation(s)" in checked.stderr


def term_one_post(line: dict) -> str:
    return next(r["position"] for r in line["rotations"] if r["kind"] == "clinical" and r["term"] == 1)


def test_check_exits_1_and_names_the_violation(files):
    instance, solution = files
    planner("solve", str(instance), "--constraints", "VIC_PGY1", "-o", str(solution))
    document = json.loads(solution.read_text())
    first = document["lines"][0]
    other = next(term_one_post(line) for line in document["lines"] if term_one_post(line) != term_one_post(first))
    for rotation in first["rotations"]:
        if rotation["kind"] == "clinical" and rotation["term"] == 1:
            rotation["position"] = other  # the tight instance has no room for one more there
    solution.write_text(json.dumps(document))
    checked = planner("check", str(solution), "--instance", str(instance))
    assert checked.returncode == 1
    assert re.search(rf"^CAPACITY: position {re.escape(other)} term 1 holds \d+ lines, capacity \d+$",
                     checked.stdout, re.M), checked.stdout


def test_lines_default_to_what_the_posts_hold_and_partial_reports_the_bound(files):
    instance, solution = files
    doc = json.loads(instance.read_text())
    held = min(sum(p["capacity"] if isinstance(p["capacity"], int) else p["capacity"][t]
                   for p in doc["positions"] if p.get("terms") is None or t + 1 in p["terms"])
               for t in range(len(doc["term_weeks"])))
    done = planner("solve", str(instance), "--lines", str(held + 3), "--allow-partial", "-o", str(solution))
    assert done.returncode == 0, done.stderr
    metrics = json.loads(solution.read_text())["metrics"]
    assert metrics["lines_requested"] == held + 3
    assert metrics["lines_built"] == metrics["lines_upper_bound"] == held


def test_invalid_input_names_the_field(tmp_path):
    doc = generate("rural", seed=0)
    doc["positions"][0]["capacity"] = -2
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    done = planner("solve", str(path))
    assert done.returncode == 2
    assert "positions[0].capacity[0]: must be a non-negative integer, got -2" in done.stderr


def test_unknown_ruleset_is_an_error(files):
    instance, _ = files
    done = planner("solve", str(instance), "--constraints", "VIC_PGY9")
    assert done.returncode == 2
    assert "constraints: unknown ruleset 'VIC_PGY9'" in done.stderr


def running(pid: int) -> bool:
    """A live process (an exited one may linger as a zombie until its parent reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_db_start_twice_url_status_stop():
    home = Path(tempfile.mkdtemp(prefix="planner-home-"))
    env = {"PLANNER_HOME": str(home)}
    try:
        first = planner("db", "start", env=env)
        assert first.returncode == 0, first.stderr
        again = planner("db", "start", env=env)
        assert again.returncode == 0, again.stderr
        url = planner("db", "url", env=env).stdout.strip()
        assert url == first.stdout.strip().splitlines()[-1] == again.stdout.strip().splitlines()[-1]
        status = json.loads(planner("db", "status", env=env).stdout)
        assert status["running"] is True
        with psycopg.connect(url) as conn:
            assert conn.execute("show wal_level").fetchone()[0] == "logical"
            assert "pg_cron" in conn.execute("show shared_preload_libraries").fetchone()[0]
            assert conn.execute("select count(*) from pg_extension where extname in ('plpython3u', 'pg_cron')"
                                ).fetchone()[0] == 2
        assert planner("db", "stop", env=env).returncode == 0
        assert json.loads(planner("db", "status", env=env).stdout)["running"] is False
        assert not running(status["pid"])
    finally:
        planner("db", "stop", env=env)
        subprocess.run(["rm", "-rf", str(home)])
