"""What a solve writes about its run (sql/52_run_state.sql), called from SQL as receptor_planner.pg calls it.

The story: a solve remembers the status and attempt its run had when it started, and writes
its outcome only if the run still has them; a run cancelled or rescued meanwhile gets nothing.
Every event goes to the log stamped with the time it happened. Lines are replaced in one call
that first keeps the old ones in history, and a failure leaves the old lines whole. None of it
is anyone's to call but the owner's (solve_run, the worker, restore_job_lines).
"""
from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from builders import acting_as

RUN_STATE_FUNCTIONS = (
    "planner._run_cancelled(uuid)",
    "planner._lock_if_still_ours(uuid,text,integer)",
    "planner._log_event(uuid,text,text,text,jsonb)",
    "planner._finish_run(uuid,text,integer,text,jsonb,text,jsonb)",
    "planner._replace_lines(uuid,jsonb,uuid,uuid)",
)


# ---------------------------------------------------------------- helpers

def queued(conn, allocation_run) -> uuid.UUID:
    """A PENDING planner run (attempt 0) of the allocation run, as a user inserts one."""
    return conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines) values (%s, 2) "
                        "returning id", [allocation_run]).fetchone()[0]


def claimed_again(conn, run_id, attempt: int) -> None:
    """The run as a worker holds it after a claim: GENERATING with ``attempt`` (after a rescue, the next one)."""
    conn.execute("update allocation_planner_runs set status = 'GENERATING', attempt = %s, "
                 "started_at = clock_timestamp(), worker_pid = pg_backend_pid() where id = %s", [attempt, run_id])


def run_row(conn, run_id) -> dict:
    cur = conn.execute("select status, attempt, error, result_metadata, started_at, finished_at "
                       "from allocation_planner_runs where id = %s", [run_id])
    return dict(zip([c.name for c in cur.description], cur.fetchone()))


def events(conn, run_id) -> list[tuple]:
    """(level, event, message, data) of the run's log, oldest first."""
    return conn.execute("select level, event, message, data from planner_execution_logs "
                        "where planner_run_id = %s order by id", [run_id]).fetchall()


def finish_run(conn, run_id, from_status, from_attempt, to_status, metadata=None, error=None, log_data=None) -> bool:
    return conn.execute("select planner._finish_run(%s, %s, %s, %s, %s, %s, %s)",
                        [run_id, from_status, from_attempt, to_status,
                         None if metadata is None else Jsonb(metadata), error,
                         None if log_data is None else Jsonb(log_data)]).fetchone()[0]


def still_ours(conn, run_id, from_status, from_attempt) -> bool:
    return conn.execute("select planner._lock_if_still_ours(%s, %s, %s)",
                        [run_id, from_status, from_attempt]).fetchone()[0]


def line(name: str, posts: list[str]) -> dict:
    """A line of a solution document: one post per 13-week term of the world's 52-week year."""
    return {"name": name, "rotations": [
        {"kind": "clinical", "term": t + 1, "position": p, "start_week": 13 * t + 1, "end_week": 13 * (t + 1)}
        for t, p in enumerate(posts)]}


LINES_A = [line("A1", ["MED", "SUR", "ED", "PSY"]), line("A2", ["SUR", "MED", "PSY", "ED"])]
LINES_B = [line("B1", ["ED", "PSY", "MED", "SUR"]), line("B2", ["PSY", "ED", "SUR", "MED"])]


def replace_lines(conn, allocation_run, lines, written_by, replaced_by) -> int:
    return conn.execute("select planner._replace_lines(%s, %s, %s, %s)",
                        [allocation_run, Jsonb(lines), written_by, replaced_by]).fetchone()[0]


def current_lines(conn, allocation_run) -> list[dict]:
    return conn.execute("select planner.export_solution(%s)", [allocation_run]).fetchone()[0]["lines"]


def history(conn, allocation_run) -> list[tuple]:
    """(planner_run_id, written_by, n_lines, snapshot) of the allocation run's history, oldest first."""
    return conn.execute("select planner_run_id, written_by, n_lines, snapshot from job_lines_history "
                        "where allocation_run_id = %s order by created_at, id", [allocation_run]).fetchall()


def posts(lines: list[dict]) -> list[tuple[str, list[str]]]:
    return [(ln["name"], [r["position"] for r in ln["rotations"]]) for ln in lines]


# ---------------------------------------------------------------- the outcome, fenced

def test_finish_run_writes_the_outcome_and_logs_it(conn, world):
    run_id = queued(conn, world["acacia_run"])
    written = finish_run(conn, run_id, "PENDING", 0, "INFEASIBLE", {"explanation": {"summary": "too few posts"}},
                         "too few posts", {"timings": {"solve": 0.1}})
    assert written is True
    row = run_row(conn, run_id)
    assert (row["status"], row["error"], row["result_metadata"]) == (
        "INFEASIBLE", "too few posts", {"explanation": {"summary": "too few posts"}})
    assert row["started_at"] is not None and row["finished_at"] is not None  # a synchronous solve: both set
    assert events(conn, run_id) == [("warning", "finished", "INFEASIBLE: too few posts", {"timings": {"solve": 0.1}})]


def test_the_fence_refuses_a_write_when_the_status_changed(conn, world):
    run_id = queued(conn, world["acacia_run"])
    conn.execute("select planner.cancel_run(%s)", [run_id])
    before = run_row(conn, run_id)
    assert still_ours(conn, run_id, "PENDING", 0) is False
    assert finish_run(conn, run_id, "PENDING", 0, "COMPLETED", {"metrics": {}}) is False
    assert run_row(conn, run_id) == before and before["status"] == "CANCELLED"
    assert events(conn, run_id) == []  # a fenced write logs nothing either


def test_the_fence_refuses_a_write_when_the_attempt_changed(conn, world):
    """Attempt 1's worker died, the rescuer queued the run again and attempt 2 holds it: attempt 1's late
    write gets nothing in; attempt 2's goes in."""
    run_id = queued(conn, world["acacia_run"])
    claimed_again(conn, run_id, 2)
    conn.execute("update allocation_planner_runs set result_metadata = '{\"kept\": true}' where id = %s", [run_id])
    assert still_ours(conn, run_id, "GENERATING", 1) is False
    assert finish_run(conn, run_id, "GENERATING", 1, "COMPLETED", {"metrics": {}}) is False
    assert run_row(conn, run_id)["status"] == "GENERATING" and events(conn, run_id) == []

    assert still_ours(conn, run_id, "GENERATING", 2) is True
    # the worker's write after a cancelled statement: no metadata of its own, so the run keeps its own
    assert finish_run(conn, run_id, "GENERATING", 2, "FAILED", None, "the solve was stopped: canceling statement") \
        is True
    row = run_row(conn, run_id)
    assert (row["status"], row["attempt"], row["result_metadata"]) == ("FAILED", 2, {"kept": True})
    assert events(conn, run_id) == [("error", "finished", "FAILED: the solve was stopped: canceling statement", None)]


def test_lock_if_still_ours_holds_the_run_until_the_commit(conn, world, pg_url):
    run_id = queued(conn, world["acacia_run"])
    with psycopg.connect(pg_url, autocommit=True) as other:
        with conn.transaction():
            assert still_ours(conn, run_id, "PENDING", 0) is True
            with pytest.raises(psycopg.errors.LockNotAvailable):  # a cancel waits for the write to commit
                with other.transaction():
                    other.execute("set local lock_timeout = '200ms'")
                    other.execute("select planner.cancel_run(%s)", [run_id])
        assert other.execute("select planner.cancel_run(%s)", [run_id]).fetchone()[0] == "CANCELLED"


def test_run_cancelled_says_when_a_solve_must_stop(conn, world):
    run_id = queued(conn, world["acacia_run"])
    cancelled = "select planner._run_cancelled(%s)"
    assert conn.execute(cancelled, [run_id]).fetchone()[0] is False
    claimed_again(conn, run_id, 1)
    assert conn.execute(cancelled, [run_id]).fetchone()[0] is False
    conn.execute("select planner.cancel_run(%s)", [run_id])
    assert conn.execute(cancelled, [run_id]).fetchone()[0] is True
    assert conn.execute(cancelled, [uuid.uuid4()]).fetchone()[0] is True  # gone: stop too


# ---------------------------------------------------------------- the log

def test_log_event_writes_a_row_stamped_when_it_happens(conn, world):
    run_id = queued(conn, world["acacia_run"])
    with conn.transaction():  # a worker's transaction began before the event
        began = conn.execute("select now()").fetchone()[0]
        conn.execute("select pg_sleep(0.05)")
        conn.execute("select planner._log_event(%s, 'info', 'claimed', 'attempt 1 by worker slot 1', %s)",
                     [run_id, Jsonb({"slot": 1})])
        conn.execute("select planner._log_event(%s, 'warning', 'cancelled', 'nothing written')", [run_id])
    rows = conn.execute("select org_id, level, event, message, data, created_at from planner_execution_logs "
                        "where planner_run_id = %s order by id", [run_id]).fetchall()
    assert [r[:5] for r in rows] == [(world["acacia"], "info", "claimed", "attempt 1 by worker slot 1", {"slot": 1}),
                                     (world["acacia"], "warning", "cancelled", "nothing written", None)]
    assert all(r[5] > began for r in rows)


# ---------------------------------------------------------------- the lines

def test_replace_lines_snapshots_the_previous_lines(conn, world):
    allocation_run = world["acacia_run"]
    first = queued(conn, allocation_run)
    assert replace_lines(conn, allocation_run, LINES_A, first, first) == 2
    assert history(conn, allocation_run) == []  # nothing to keep yet
    assert finish_run(conn, first, "PENDING", 0, "COMPLETED", {"metrics": {}})
    before = current_lines(conn, allocation_run)
    assert posts(before) == posts(LINES_A)

    second = queued(conn, allocation_run)
    assert replace_lines(conn, allocation_run, LINES_B, second, second) == 2
    assert posts(current_lines(conn, allocation_run)) == posts(LINES_B)
    [(replaced_by, written_by, n_lines, snapshot)] = history(conn, allocation_run)
    assert (replaced_by, written_by, n_lines) == (second, first, 2)
    assert snapshot["lines"] == before
    # the lines and rotations are the allocation run's org's, whatever wrote them
    assert conn.execute("select count(*) from rotations r join job_lines l on l.id = r.job_line_id "
                        "where l.allocation_run_id = %s and r.org_id = %s and l.org_id = %s",
                        [allocation_run, world["acacia"], world["acacia"]]).fetchone()[0] == 8

    # a restore's write: replaced by no run, the restored lines keep the run that wrote them
    assert replace_lines(conn, allocation_run, snapshot["lines"], first, None) == 2
    assert posts(current_lines(conn, allocation_run)) == posts(LINES_A)
    assert [h[:3] for h in history(conn, allocation_run)] == [(second, first, 2), (None, second, 2)]


@pytest.mark.parametrize("broken", [
    pytest.param(line("X1", ["MED", "SUR", "ED", "NOPE"]), id="a position the org does not have"),
    pytest.param(line("X1", ["MED", "SUR", "ED"]), id="a line that does not tile the year"),
])
def test_replace_lines_writes_all_or_nothing(conn, world, broken):
    allocation_run = world["acacia_run"]
    first = queued(conn, allocation_run)
    replace_lines(conn, allocation_run, LINES_A, first, first)
    before = current_lines(conn, allocation_run), history(conn, allocation_run)
    with pytest.raises(psycopg.Error):
        replace_lines(conn, allocation_run, [LINES_B[0], broken], first, first)
    assert (current_lines(conn, allocation_run), history(conn, allocation_run)) == before


def test_replace_lines_names_a_missing_allocation_run(conn):
    with pytest.raises(psycopg.errors.NoDataFound, match="^allocation_run: no allocation run with id"):
        replace_lines(conn, uuid.uuid4(), LINES_A, None, None)


# ---------------------------------------------------------------- the owner's alone

def test_the_run_state_functions_are_internal_with_a_fixed_search_path_and_a_comment(conn):
    rows = conn.execute(
        "select p.oid::regprocedure::text, p.prosecdef, "
        "       exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%%'), "
        "       obj_description(p.oid, 'pg_proc') is not null "
        "  from pg_proc p where p.oid::regprocedure::text = any(%s)", [list(RUN_STATE_FUNCTIONS)]).fetchall()
    assert sorted(r[0].replace(" ", "") for r in rows) == sorted(RUN_STATE_FUNCTIONS)
    assert [r for r in rows if r[1:] != (False, True, True)] == []  # invoker, search_path fixed, commented


def test_no_api_role_may_execute_them(conn):
    """Nobody but the owner: no grant to PUBLIC (every new function has one until 90_grants.sql takes it
    back), to anon, to authenticated, nor to service_role (solving is the owner's)."""
    granted = conn.execute(
        "select p.oid::regprocedure::text, coalesce(r.rolname, 'PUBLIC') from pg_proc p "
        "  cross join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a "
        "  left join pg_roles r on r.oid = a.grantee "
        " where p.oid::regprocedure::text = any(%s) and a.privilege_type = 'EXECUTE' "
        "   and a.grantee <> p.proowner", [list(RUN_STATE_FUNCTIONS)]).fetchall()
    assert granted == []
    for role in ("anon", "authenticated", "service_role"):
        assert conn.execute("select count(*) from pg_proc p where p.oid::regprocedure::text = any(%s) "
                            "and has_function_privilege(%s, p.oid, 'EXECUTE')",
                            [list(RUN_STATE_FUNCTIONS), role]).fetchone()[0] == 0, role


@pytest.mark.parametrize("statement", [
    pytest.param("select planner._finish_run({run}, 'PENDING', 0, 'COMPLETED', '{{}}', null, null)",
                 id="forging an outcome"),
    pytest.param("select planner._replace_lines({allocation_run}, '[]', {run}, {run})", id="wiping the lines"),
    pytest.param("select planner._log_event({run}, 'info', 'forged', 'by a user')", id="forging a log row"),
    pytest.param("select planner._lock_if_still_ours({run}, 'PENDING', 0)", id="locking a run"),
    pytest.param("select planner._run_cancelled({run})", id="polling a run"),
])
def test_a_planner_of_the_org_cannot_call_them(conn, world, statement):
    run_id = queued(conn, world["acacia_run"])
    sql = statement.format(run=f"'{run_id}'::uuid", allocation_run=f"'{world['acacia_run']}'::uuid")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for function"):
        with acting_as(conn, world["planner"]):
            conn.execute(sql)
    assert run_row(conn, run_id)["status"] == "PENDING" and events(conn, run_id) == []
