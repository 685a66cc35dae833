"""planner.solve_run through SQL: import, solve, export, and the checker on what was written.

The story: a service imports its instance, asks for lines, gets them; asks
again and the first lines go to history; asks for the impossible, or breaks
while writing, and keeps what it had.
"""
from __future__ import annotations

import threading
import time

import psycopg
import pytest

from receptor_planner_tools.generator import generate

from builders import assert_checked, counts, default_lines, exported, import_doc, new_run, solve


def run_row(conn, run_id) -> dict:
    cur = conn.execute("select status, error, result_metadata from allocation_planner_runs where id = %s",
                       [run_id])
    status, error, meta = cur.fetchone()
    return {"status": status, "error": error, "meta": meta or {}}


@pytest.fixture
def rural(conn):
    doc = generate("rural", seed=3)
    return doc, import_doc(conn, doc)


def test_solve_writes_checked_lines_and_metadata(conn, rural):
    doc, allocation_run = rural
    n = default_lines(doc)
    run_id = new_run(conn, allocation_run, n)
    outcome = solve(conn, run_id)
    assert outcome["status"] == "COMPLETED" and outcome["written"] is True
    row = run_row(conn, run_id)
    assert row["status"] == "COMPLETED"
    metrics = row["meta"]["metrics"]
    assert metrics["lines_built"] == metrics["lines_requested"] == metrics["lines_upper_bound"] == n
    assert set(row["meta"]["timings"]) >= {"queue_wait", "import", "model_build", "solve", "write"}
    solution = assert_checked(conn, allocation_run)
    assert len(solution["lines"]) == n
    assert solution["request"]["constraints"] == ["VIC_PGY1"]
    events = [r[0] for r in conn.execute("select event from planner_execution_logs where planner_run_id = %s "
                                         "order by id", [run_id])]
    assert events == ["solved", "finished"]


def test_a_service_with_every_local_rule_solves_in_full_through_the_database(conn):
    """The real-shaped regional service: core terms, a linked second-site post, a home site, a
    two-term community post, fixed and blocked leave weeks, leave preferred in non-core terms."""
    from receptor_planner_tools.generator import planted_rules

    doc = generate("real-regional", seed=2)
    allocation_run = import_doc(conn, doc)
    n = default_lines(doc)
    outcome = solve(conn, new_run(conn, allocation_run, n, planted_rules("real-regional")))
    assert outcome["status"] == "COMPLETED" and outcome["written"] is True
    solution = assert_checked(conn, allocation_run)  # the checker reads the exported local rules too
    assert len(solution["lines"]) == n
    metrics = run_row(conn, outcome["run_id"])["meta"]["metrics"]
    assert metrics["lines_built"] == metrics["lines_upper_bound"] == n
    assert metrics["leave_preferred_share"] >= 0.9


def test_a_second_solve_keeps_the_first_lines_in_history(conn, rural):
    doc, allocation_run = rural
    n = default_lines(doc)
    first = new_run(conn, allocation_run, n, seed=1)
    solve(conn, first)
    before = exported(conn, allocation_run)[1]
    second = new_run(conn, allocation_run, n, seed=2)
    assert solve(conn, second)["status"] == "COMPLETED"
    lines, _, history = counts(conn, allocation_run)
    assert (lines, history) == (n, 1)
    snapshot, replaced_by = conn.execute(
        "select snapshot, planner_run_id from job_lines_history where allocation_run_id = %s",
        [allocation_run]).fetchone()
    assert replaced_by == second
    assert snapshot["lines"] == before["lines"]
    assert_checked(conn, allocation_run)


def test_an_impossible_request_is_infeasible_and_keeps_the_lines(conn, rural):
    doc, allocation_run = rural
    n = default_lines(doc)
    solve(conn, new_run(conn, allocation_run, n))
    before = counts(conn, allocation_run), exported(conn, allocation_run)[1]["lines"]
    run_id = new_run(conn, allocation_run, n + 5)
    outcome = solve(conn, run_id)
    assert outcome["status"] == "INFEASIBLE" and outcome["written"] is False
    row = run_row(conn, run_id)
    assert row["status"] == "INFEASIBLE"
    assert row["meta"]["metrics"]["lines_upper_bound"] == n
    assert row["meta"]["explanation"]["reasons"][0]["rule"] == "CAPACITY"
    assert (counts(conn, allocation_run), exported(conn, allocation_run)[1]["lines"]) == before


def test_a_failed_write_leaves_lines_and_history_untouched(conn, rural):
    doc, allocation_run = rural
    n = default_lines(doc)
    solve(conn, new_run(conn, allocation_run, n, seed=1))
    solve(conn, new_run(conn, allocation_run, n, seed=2))
    before = counts(conn, allocation_run), exported(conn, allocation_run)[1]["lines"]
    assert before[0][2] == 1
    failing = new_run(conn, allocation_run, n, seed=3)
    conn.execute(f"""
        create function pg_temp.refuse() returns trigger language plpgsql as $$
        begin
          if new.planner_run_id = '{failing}' then raise exception 'disk full (test)'; end if;
          return new;
        end $$;
        create trigger refuse before insert on job_lines for each row execute function pg_temp.refuse();""")
    try:
        outcome = solve(conn, failing)
    finally:
        conn.execute("drop trigger refuse on job_lines")
    assert outcome["status"] == "FAILED"
    row = run_row(conn, failing)
    assert row["status"] == "FAILED" and "disk full (test)" in row["error"]
    assert (counts(conn, allocation_run), exported(conn, allocation_run)[1]["lines"]) == before
    traceback = conn.execute("select data ->> 'traceback' from planner_execution_logs "
                             "where planner_run_id = %s and level = 'error'", [failing]).fetchone()[0]
    assert "disk full (test)" in traceback


def test_solving_touches_only_its_own_allocation_run(conn):
    a = import_doc(conn, generate("rural", seed=4))
    b = import_doc(conn, dict(generate("rural", seed=5), org={"name": "Other Health"}))
    solve(conn, new_run(conn, b, default_lines(generate("rural", seed=5))))
    before_b = counts(conn, b), exported(conn, b)[1]["lines"]
    solve(conn, new_run(conn, a, default_lines(generate("rural", seed=4))))
    assert (counts(conn, b), exported(conn, b)[1]["lines"]) == before_b
    org_of_a = conn.execute("select org_id from allocation_runs where id = %s", [a]).fetchone()[0]
    assert conn.execute("select count(*) from rotations r join job_lines l on l.id = r.job_line_id "
                        "where l.allocation_run_id = %s and r.org_id <> %s", [a, org_of_a]).fetchone()[0] == 0


def test_only_active_runs_are_solved(conn, rural):
    doc, allocation_run = rural
    run_id = new_run(conn, allocation_run, default_lines(doc))
    solve(conn, run_id)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=r"^run_id: planner run .* is COMPLETED"):
        solve(conn, run_id)


def test_solve_run_is_not_executable_by_public(conn, rural):
    doc, allocation_run = rural
    run_id = new_run(conn, allocation_run, default_lines(doc))
    conn.execute("drop role if exists planner_outsider; create role planner_outsider")
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with conn.transaction():
                conn.execute("set local role planner_outsider")
                solve(conn, run_id)
    finally:
        conn.execute("drop role planner_outsider")
    assert run_row(conn, run_id)["status"] == "PENDING"


def wait_until(condition, what: str, timeout: float = 60, interval: float = 0.05):
    """Poll ``condition`` until it returns something truthy (returned); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(interval)
    return found


def test_a_committed_cancel_stops_the_solve_and_writes_nothing(conn, pg_url):
    doc = generate("stress", seed=2)
    allocation_run = import_doc(conn, doc)
    run_id = new_run(conn, allocation_run, default_lines(doc), max_seconds=120)
    outcome: dict = {}
    solver_pid: list[int] = []

    def solver():
        with psycopg.connect(pg_url, autocommit=True) as other:
            solver_pid.append(other.info.backend_pid)
            outcome.update(solve(other, run_id))

    thread = threading.Thread(target=solver)
    thread.start()
    # The solve is under way once its backend has read the queue settings: after the run (still
    # PENDING) and its instance, just before CP-SAT starts. A relation lock lasts to the transaction's end.
    wait_until(lambda: solver_pid and conn.execute(
        "select exists (select 1 from pg_locks where pid = %s and granted "
        "and relation = 'planner.settings'::regclass)", [solver_pid[0]]).fetchone()[0],
        "the solving backend to read planner.settings")
    conn.execute("update allocation_planner_runs set status = 'CANCELLED' where id = %s", [run_id])
    thread.join(60)
    assert not thread.is_alive()
    assert outcome == {"run_id": str(run_id), "status": "CANCELLED", "written": False}
    assert run_row(conn, run_id)["status"] == "CANCELLED"
    assert counts(conn, allocation_run) == (0, 0, 0)
    # stopped by the poll during the solve, not turned away before it (which returns the same outcome)
    assert [r[0] for r in conn.execute("select event from planner_execution_logs where planner_run_id = %s",
                                       [run_id])] == ["cancelled"]


def test_the_shipped_affinity_profile_is_valid_and_says_where_it_comes_from(conn):
    from receptor_planner.instance import parse_affinity

    version, source, weights = conn.execute(
        "select version, source, weights from affinity_profiles where org_id is null and name = 'default'"
    ).fetchone()
    assert parse_affinity({"version": version, "source": source, "weights": weights}, "default") is not None
    assert "not derived from data" in source


def test_a_run_uses_the_affinity_profile_of_its_allocation_run(conn, rural):
    doc, allocation_run = rural
    conn.execute("update allocation_runs set affinity_profile_id = "
                 "(select id from affinity_profiles where org_id is null and name = 'default') where id = %s",
                 [allocation_run])
    run_id = new_run(conn, allocation_run, default_lines(doc), max_seconds=5)
    assert solve(conn, run_id)["status"] == "COMPLETED"
    metrics = run_row(conn, run_id)["meta"]["metrics"]
    assert isinstance(metrics["affinity_total"], int)
    assert "affinity" in metrics["solver_status"]
    assert_checked(conn, allocation_run)


def test_a_planner_run_may_choose_its_own_affinity_profile(conn, rural):
    doc, allocation_run = rural
    shared = conn.execute("select id from affinity_profiles where org_id is null and name = 'default'").fetchone()[0]
    run_id = conn.execute(
        "insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options, "
        "affinity_profile_id) values (%s, %s, '{VIC_PGY1}', '{\"max_seconds\": 5}', %s) returning id",
        [allocation_run, default_lines(doc), shared]).fetchone()[0]
    solve(conn, run_id)
    assert "affinity" in run_row(conn, run_id)["meta"]["metrics"]["solver_status"]
    assert_checked(conn, allocation_run)


def test_a_planner_run_cannot_use_another_orgs_affinity_profile(conn, rural):
    doc, allocation_run = rural
    other = conn.execute("insert into orgs (name) values ('Elsewhere Health') returning id").fetchone()[0]
    foreign = conn.execute(
        "insert into affinity_profiles (org_id, name, version, source, weights) "
        "values (%s, 'theirs', '1', 'their own guess', '{}') returning id", [other]).fetchone()[0]
    with pytest.raises(psycopg.errors.ForeignKeyViolation,
                       match=r"^allocation_planner_runs.affinity_profile_id: no affinity profile"):
        conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines, affinity_profile_id) "
                     "values (%s, 1, %s)", [allocation_run, foreign])


def test_two_backends_solving_the_same_request_write_the_same_lines(pg_url, conn):
    # a loose rural service whose constructed start the model refuses, so CP-SAT searches; each
    # backend has its own Python interpreter (and string hash seed)
    doc = generate("rural", seed=1, tight=False)
    allocation_run = import_doc(conn, doc)
    written = []
    for _ in range(2):
        with psycopg.connect(pg_url, autocommit=True) as backend:
            run_id = new_run(backend, allocation_run, default_lines(doc), ("VIC_PGY1", "MAX_1_RURAL"),
                             allow_partial=True, seed=7)
            assert solve(backend, run_id)["status"] == "COMPLETED"
            metrics = run_row(backend, run_id)["meta"]["metrics"]
        assert metrics["reproducible"] is True and "lines" in metrics["solver_status"]
        written.append(assert_checked(conn, allocation_run)["lines"])
    assert written[0] == written[1]
