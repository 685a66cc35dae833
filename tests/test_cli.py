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

from receptor_planner_tools import cluster
from receptor_planner.checker import check
from receptor_planner_tools.generator import generate

from builders import filled_workbook, import_doc, new_run, solve

REPO = Path(__file__).resolve().parents[1]


def planner(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "receptor_planner_tools", *args], capture_output=True, text=True,
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
    assert "reproducible: yes" in done.stderr
    document = json.loads(solution.read_text())
    assert document["metrics"]["lines_built"] == document["metrics"]["lines_requested"]
    assert document["request"]["constraints"] == ["VIC_PGY1"]
    assert check(json.loads(instance.read_text()), document) == []
    checked = planner("check", str(solution), "--instance", str(instance))
    assert checked.returncode == 0, checked.stdout
    assert "0 violation(s)" in checked.stderr


def test_solve_writes_the_report_beside_the_document(files, tmp_path):
    instance, solution = files
    page = tmp_path / "year.html"
    done = planner("solve", str(instance), "--constraints", "VIC_PGY1", "-o", str(solution), "--report", str(page))
    assert done.returncode == 0, done.stderr
    lines = json.loads(solution.read_text())["lines"]
    assert page.read_text().count('<tr class="line"') == len(lines) > 0


def test_solve_writes_a_workbook_when_asked_for_xlsx(files, tmp_path):
    from openpyxl import load_workbook

    instance, _ = files
    book = tmp_path / "lines.xlsx"
    done = planner("solve", str(instance), "--constraints", "VIC_PGY1", "-o", str(book), "--json")
    assert done.returncode == 0, done.stderr
    lines = json.loads(done.stdout)["lines"]
    rotations = load_workbook(book, read_only=True)["Rotations"]
    assert sum(len(line["rotations"]) for line in lines) == rotations.max_row - 1  # a header row, then one each


def test_a_filled_template_solves_to_a_workbook_and_a_report_without_json(tmp_path):
    """The planner's whole path offline: the service workbook in, the lines workbook and the page out."""
    from receptor_planner.service_workbook import read_workbook

    service = tmp_path / "service.xlsx"
    service.write_bytes(filled_workbook(generate("regional", seed=1)))
    lines, page = tmp_path / "lines.xlsx", tmp_path / "year.html"
    done = planner("solve", str(service), "--constraints", "VIC_PGY1", "-o", str(lines), "--report", str(page))
    assert done.returncode == 0, done.stderr
    assert "status: COMPLETED" in done.stderr
    n = len(read_workbook(service.read_bytes())["positions"])
    assert n and lines.stat().st_size > 0 and page.read_text().count('<tr class="line"') > 0


def test_solve_json_prints_the_document_alone(files):
    instance, solution = files
    done = planner("solve", str(instance), "--constraints", "VIC_PGY1", "-o", str(solution), "--json")
    assert done.returncode == 0 and "status:" not in done.stderr, done.stderr
    assert json.loads(done.stdout) == json.loads(solution.read_text())


def test_the_summary_says_why_a_result_is_not_reproducible():
    from receptor_planner_tools.cli import summary

    def said(**metrics) -> str:
        return next(line for line in summary({"status": "COMPLETED", "metrics": metrics}).splitlines()
                    if line.startswith("reproducible"))

    assert said(reproducible=True).startswith("reproducible: yes")
    assert said(reproducible=False, stopped_by_clock=["lines", "leave"]) == \
        "reproducible: no (lines, leave cut short by the clock)"
    assert said(reproducible=False) == "reproducible: no (racing CP-SAT workers)"


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
    # a table: rule, line, term, position, message
    assert re.search(rf"^CAPACITY +1 +{re.escape(other)} +position {re.escape(other)} term 1 holds \d+ lines, "
                     r"capacity \d+$", checked.stdout, re.M), checked.stdout
    as_json = planner("check", str(solution), "--instance", str(instance), "--json")
    assert as_json.returncode == 1 and as_json.stderr == ""
    found = json.loads(as_json.stdout)
    assert found["lines"] == len(document["lines"])
    assert ("CAPACITY", None, 1, other) in [(v["rule"], v["line"], v["term"], v["position"])
                                            for v in found["violations"]]


def test_check_names_a_metric_the_lines_contradict(files):
    instance, solution = files
    planner("solve", str(instance), "--constraints", "VIC_PGY1", "-o", str(solution))
    document = json.loads(solution.read_text())
    document["metrics"]["duplicate_lines"] += 1
    solution.write_text(json.dumps(document))
    checked = planner("check", str(solution), "--instance", str(instance))
    assert checked.returncode == 1
    assert re.search(r"^METRICS +.*duplicate_lines", checked.stdout, re.M), checked.stdout


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


@pytest.mark.database
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


# ---------------------------------------------------------------- planner watch

STATUS_LINE = r"^ *\d+\.\ds "


@pytest.fixture
def rural_run(conn):
    """An imported rural service and a factory of planner runs for it."""
    from receptor_planner.instance import parse_instance
    doc = generate("rural", seed=11)
    allocation_run = import_doc(conn, doc)
    n = parse_instance(doc).default_lines()
    return n, lambda lines=n: new_run(conn, allocation_run, lines)


def test_watch_a_completed_run_exits_0_with_its_summary(conn, pg_url, rural_run):
    n, new_run = rural_run
    run_id = new_run()
    solve(conn, run_id)
    done = planner("watch", str(run_id), "--url", pg_url)
    assert done.returncode == 0, done.stderr
    assert re.search(STATUS_LINE + rf"COMPLETED: {n} of {n} lines$", done.stdout, re.M), done.stdout
    assert re.search(rf"^status: COMPLETED\nlines: {n} built of {n} requested; proven upper bound {n}$",
                     done.stdout, re.M), done.stdout


def test_watch_json_is_one_object_a_line_then_the_result(conn, pg_url, rural_run):
    n, new_run = rural_run
    run_id = new_run()
    solve(conn, run_id)
    done = planner("watch", str(run_id), "--url", pg_url, "--json")
    assert done.returncode == 0, done.stderr
    status, result = [json.loads(line) for line in done.stdout.splitlines()]
    attempt = conn.execute("select attempt from allocation_planner_runs where id = %s", [run_id]).fetchone()[0]
    assert (status["status"], status["attempt"], status["progress"]) == ("COMPLETED", attempt, None)
    assert result["result"]["status"] == "COMPLETED" and result["result"]["lines"] == n
    assert result["result"]["metrics"]["lines_built"] == n


def test_watch_an_infeasible_run_exits_1_and_says_why(conn, pg_url, rural_run):
    n, new_run = rural_run
    run_id = new_run(n + 5)
    assert solve(conn, run_id)["status"] == "INFEASIBLE"
    done = planner("watch", str(run_id), "--url", pg_url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(STATUS_LINE + r"INFEASIBLE: \S", done.stdout, re.M), done.stdout
    assert re.search(r"^status: INFEASIBLE$", done.stdout, re.M)
    assert re.search(r"^  - CAPACITY: ", done.stdout, re.M), done.stdout


def test_watch_a_failed_run_exits_1_with_the_error(conn, pg_url, rural_run):
    _, new_run = rural_run
    run_id = new_run()
    conn.execute("update allocation_planner_runs set status = 'FAILED', error = 'the disk is full (test)' "
                 "where id = %s", [run_id])
    done = planner("watch", str(run_id), "--url", pg_url)
    assert done.returncode == 1
    assert re.search(STATUS_LINE + r"FAILED: the disk is full \(test\)$", done.stdout, re.M), done.stdout
    assert re.search(r"^error: the disk is full \(test\)$", done.stdout, re.M)


def test_watch_a_cancelled_run_exits_3(conn, pg_url, rural_run):
    _, new_run = rural_run
    run_id = new_run()
    conn.execute("select planner.cancel_run(%s)", [run_id])
    done = planner("watch", str(run_id), "--url", pg_url)
    assert done.returncode == 3, done.stdout + done.stderr
    assert re.search(STATUS_LINE + r"CANCELLED: cancelled by postgres$", done.stdout, re.M), done.stdout
    assert re.search(r"^status: CANCELLED$", done.stdout, re.M)


def test_watch_follows_a_run_from_the_queue_through_a_worker(conn, pg_url, rural_run):
    import threading

    n, new_run = rural_run
    conn.execute("update allocation_planner_runs set status = 'CANCELLED' where status = 'PENDING'")
    run_id = new_run()
    watcher = subprocess.Popen([sys.executable, "-m", "receptor_planner_tools", "watch", str(run_id), "--url", pg_url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO / "plpython")})
    stop, errors = threading.Event(), []

    def worker():
        try:
            with psycopg.connect(pg_url, autocommit=True) as own:
                while not stop.is_set():
                    cluster.run_worker(own, 1, 2)
        except psycopg.Error as e:
            errors.append(e)

    thread = threading.Thread(target=worker, daemon=True)
    # The solve takes a fraction of a second; holding job_lines keeps the outcome uncommitted (its lines
    # cannot be written) until the watch has printed GENERATING, which it could otherwise miss between polls.
    gate = psycopg.connect(pg_url)
    watchdog = threading.Timer(300, watcher.kill)  # bounds the readline()s below
    watchdog.start()
    try:
        gate.execute("lock table job_lines in exclusive mode")
        first = watcher.stdout.readline()  # the watch has seen the run waiting before any worker runs
        assert re.match(STATUS_LINE + r"PENDING$", first), first
        thread.start()
        second = watcher.stdout.readline()
        assert re.match(STATUS_LINE + r"GENERATING ", second), second
        gate.commit()
        out, err = watcher.communicate(timeout=300)
    finally:
        watchdog.cancel()
        gate.close()
        stop.set()
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
        if thread.is_alive():
            thread.join(120)
    assert not errors, errors
    assert watcher.returncode == 0, out + err
    pid = conn.execute("select worker_pid from allocation_planner_runs where id = %s", [run_id]).fetchone()[0]
    status_lines = [line for line in (first + second + out).splitlines() if re.match(STATUS_LINE, line)]
    assert [re.sub(STATUS_LINE, "", line) for line in status_lines] == [
        "PENDING", f"GENERATING (attempt 1, pid {pid})", f"COMPLETED: {n} of {n} lines"]
    seconds = [float(line.split("s ", 1)[0]) for line in status_lines]
    assert seconds == sorted(seconds)


def test_watch_an_unknown_run_exits_2(pg_url):
    done = planner("watch", "00000000-0000-0000-0000-000000000000", "--url", pg_url)
    assert done.returncode == 2
    assert "no planner run with id 00000000-0000-0000-0000-000000000000" in done.stderr
    assert planner("watch", "not-a-run", "--url", pg_url).returncode == 2


def test_watch_gives_up_after_its_timeout_and_the_run_goes_on(conn, pg_url, rural_run):
    _, new_run = rural_run
    run_id = new_run()  # no worker runs in the tests: it stays PENDING
    try:
        done = planner("watch", str(run_id), "--url", pg_url, "--timeout", "1")
        assert done.returncode == 4, done.stdout + done.stderr
        assert re.search(STATUS_LINE + r"PENDING$", done.stdout, re.M), done.stdout
        assert re.search(STATUS_LINE + r"stopped watching: the run is still PENDING", done.stdout, re.M)
    finally:
        conn.execute("select planner.cancel_run(%s)", [run_id])
