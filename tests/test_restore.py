"""planner.restore_job_lines: bringing back lines a later run replaced.

The story: a service solves, solves again, prefers the first lines and
restores them; the lines it gives up go to history, so the restore can be
undone. A restore is refused while a run of the allocation run is queued.
"""
from __future__ import annotations

import psycopg
import pytest

from receptor_planner_tools.generator import generate
from receptor_planner.instance import parse_instance

from builders import assert_checked, counts, exported, import_doc, new_run, solve


def restore(conn, history_id) -> dict:
    return conn.execute("select planner.restore_job_lines(%s)", [history_id]).fetchone()[0]


def history(conn, allocation_run) -> list[tuple]:
    """(id, planner_run_id, written_by, snapshot) of the allocation run's history, oldest first."""
    return conn.execute("select id, planner_run_id, written_by, snapshot from job_lines_history "
                        "where allocation_run_id = %s order by created_at, id", [allocation_run]).fetchall()


@pytest.fixture
def solved_twice(conn):
    """An allocation run solved twice (different seeds and time limits): history holds the first lines."""
    doc = generate("rural", seed=3)
    n = parse_instance(doc).default_lines()
    allocation_run = import_doc(conn, doc)
    first = new_run(conn, allocation_run, n, seed=1, max_seconds=30)
    assert solve(conn, first)["status"] == "COMPLETED"
    first_solution = exported(conn, allocation_run)[1]
    second = new_run(conn, allocation_run, n, seed=2, max_seconds=25)
    assert solve(conn, second)["status"] == "COMPLETED"
    second_solution = exported(conn, allocation_run)[1]
    assert first_solution["request"] != second_solution["request"]
    assert first_solution["lines"] != second_solution["lines"], "the seeds gave the same lines: nothing to restore"
    [(history_id, replaced_by, written_by, snapshot)] = history(conn, allocation_run)
    assert (replaced_by, written_by) == (second, first)
    assert snapshot["lines"] == first_solution["lines"]
    return {"allocation_run": allocation_run, "n": n, "first": first, "second": second, "history_id": history_id,
            "first_solution": first_solution, "second_solution": second_solution}


def test_restore_brings_the_first_lines_back_and_keeps_the_replaced_ones(conn, solved_twice):
    s = solved_twice
    allocation_run = s["allocation_run"]
    outcome = restore(conn, s["history_id"])
    assert outcome == {"restored_lines": s["n"], "allocation_run": str(allocation_run)}

    solution = exported(conn, allocation_run)[1]
    assert solution["lines"] == s["first_solution"]["lines"]
    # request and metrics are those of the run that wrote the lines, not of the latest run
    assert solution["request"] == s["first_solution"]["request"]
    assert solution["metrics"] == s["first_solution"]["metrics"]
    assert solution == s["first_solution"]
    assert conn.execute("select array_agg(distinct planner_run_id) from job_lines where allocation_run_id = %s",
                        [allocation_run]).fetchone()[0] == [s["first"]]

    rows = history(conn, allocation_run)
    assert len(rows) == 2
    _, replaced_by, written_by, snapshot = rows[-1]
    assert replaced_by is None  # replaced by a restore, not by a planner run
    assert written_by == s["second"]
    assert snapshot["lines"] == s["second_solution"]["lines"]
    assert counts(conn, allocation_run)[:2] == (s["n"], sum(len(line["rotations"]) for line in solution["lines"]))
    assert_checked(conn, allocation_run)


def test_a_restore_can_itself_be_undone(conn, solved_twice):
    s = solved_twice
    restore(conn, s["history_id"])
    undo = history(conn, s["allocation_run"])[-1][0]
    restore(conn, undo)
    assert exported(conn, s["allocation_run"])[1] == s["second_solution"]
    assert len(history(conn, s["allocation_run"])) == 3
    assert_checked(conn, s["allocation_run"])


def test_restoring_an_unknown_snapshot_is_an_error(conn):
    with pytest.raises(psycopg.errors.InvalidParameterValue,
                       match=r"^history_id: no job_lines_history row with id 00000000-0000-0000-0000-000000000000"):
        restore(conn, "00000000-0000-0000-0000-000000000000")


def test_restore_is_refused_while_a_run_is_pending_and_writes_nothing(conn, solved_twice):
    s = solved_twice
    allocation_run = s["allocation_run"]
    pending = new_run(conn, allocation_run, s["n"])
    before = counts(conn, allocation_run), exported(conn, allocation_run)[1], history(conn, allocation_run)
    with pytest.raises(psycopg.errors.InvalidParameterValue,
                       match=rf"^history_id: allocation run {allocation_run} has an active planner run {pending}; "
                             r"cancel it or let it finish before restoring"):
        restore(conn, s["history_id"])
    assert (counts(conn, allocation_run), exported(conn, allocation_run)[1], history(conn, allocation_run)) == before
    assert before[1] == s["second_solution"]

    conn.execute("select planner.cancel_run(%s)", [pending])
    restore(conn, s["history_id"])
    assert exported(conn, allocation_run)[1] == s["first_solution"]
