"""Realtime: a planner run's status changes reach logical replication one committed transaction each.

Supabase Realtime reads the publication ``supabase_realtime``; here a wal2json
slot stands in for it. A worker commits GENERATING before it solves and the
outcome after, so a subscriber sees PENDING, GENERATING and COMPLETED as three
transactions, in that order, and never a half-written state. Realtime hands a
change only to subscribers whose RLS select policies show them the row: a
member of the run's org, never another org's user.
"""
from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest

from receptor_planner_tools import cluster
from receptor_planner_tools.generator import generate
from receptor_planner.instance import parse_instance

from builders import acting_as, assert_checked, import_doc, new_run

SLOT = "t_slot"
FINAL = ("COMPLETED", "INFEASIBLE", "FAILED", "CANCELLED")


@pytest.fixture
def slot(conn):
    """A wal2json logical slot, created before the test writes and always dropped after."""
    conn.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = %s",
                 [SLOT])  # a leftover of an interrupted session
    conn.execute("select pg_create_logical_replication_slot(%s, 'wal2json')", [SLOT])
    try:
        yield SLOT
    finally:
        conn.execute("select pg_drop_replication_slot(%s)", [SLOT])


def run_transactions(conn, run_id) -> list[tuple[int, list[dict]]]:
    """The committed transactions that touched the run, in commit order: (xid, [its changes to the run]).

    With format-version 2 every change is its own row: {"action": "B"} opens a
    transaction, {"action": "C"} commits it, I/U/D rows between are changes.
    """
    # Decoding stops at the flushed WAL: make sure it covers everything written so far.
    written = conn.execute("select pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + 60
    while not conn.execute("select pg_current_wal_flush_lsn() >= %s::pg_lsn", [written]).fetchone()[0]:
        assert time.monotonic() < deadline, "the WAL was not flushed"
        time.sleep(0.1)
    rows = conn.execute(
        "select xid, data from pg_logical_slot_get_changes(%s, null, null, 'format-version', '2', "
        "'add-tables', 'public.allocation_planner_runs')", [SLOT]).fetchall()
    transactions, current = [], None
    for xid, data in rows:
        change = json.loads(data)
        if change["action"] == "B":
            assert current is None, "a transaction began inside another"
            current = (xid, [])
        elif change["action"] == "C":
            assert current is not None and current[0] == xid, "a commit without its begin"
            transactions.append(current)
            current = None
        else:
            assert current is not None, f"a change outside a transaction: {data}"
            assert (change["schema"], change["table"]) == ("public", "allocation_planner_runs")
            values = {c["name"]: c["value"] for c in change["columns"]}
            if values["id"] == str(run_id):
                current[1].append({"action": change["action"], **values})
    assert current is None, "an unterminated transaction"
    return [(xid, changes) for xid, changes in transactions if changes]


def work_until_final(pg_url, conn, run_id, slot=1, timeout=180) -> str:
    """Run worker ``slot`` in a thread (short CALLs on its own connection) until the run is final."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def worker():
        try:
            with psycopg.connect(pg_url, autocommit=True) as own:
                while not stop.is_set():
                    cluster.run_worker(own, slot, 2)
        except BaseException as e:  # noqa: BLE001  (reported by the test)
            errors.append(e)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            status = conn.execute("select status from allocation_planner_runs where id = %s",
                                  [run_id]).fetchone()[0]
            if status in FINAL or errors or time.monotonic() > deadline:
                return status
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(120)
        assert not thread.is_alive(), "the worker did not return"
        assert not errors, errors


def test_the_runs_table_is_published_to_realtime(conn):
    assert conn.execute("select count(*) from pg_publication where pubname = 'supabase_realtime'").fetchone()[0] == 1
    assert conn.execute("select count(*) from pg_publication_tables where pubname = 'supabase_realtime' "
                        "and schemaname = 'public' and tablename = 'allocation_planner_runs'").fetchone()[0] == 1


def test_each_status_change_of_a_worker_solve_is_its_own_transaction(conn, pg_url, slot):
    doc = generate("rural", seed=7)
    n = parse_instance(doc).default_lines()
    allocation_run = import_doc(conn, doc)
    run_id = new_run(conn, allocation_run, n)
    assert work_until_final(pg_url, conn, run_id) == "COMPLETED"
    assert_checked(conn, allocation_run)

    transactions = run_transactions(conn, run_id)
    statuses = [[(c["action"], c["status"]) for c in changes] for _, changes in transactions]
    assert len(transactions) == 3, statuses
    assert len({xid for xid, _ in transactions}) == 3, "the three status changes share a transaction"
    inserted, claimed, finished = statuses
    assert inserted == [("I", "PENDING")]
    assert claimed == [("U", "GENERATING")]
    # the outcome, lines and metadata commit together, in one update of the run: one COMPLETED event
    assert finished == [("U", "COMPLETED")], finished
    generating = transactions[1][1][0]
    assert generating["attempt"] == 1 and generating["worker_pid"] is not None
    completed = transactions[2][1][-1]
    metadata = completed["result_metadata"]
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    assert metadata["metrics"]["lines_built"] == n
    assert metadata["timings"]["write"] is not None
    assert completed["finished_at"] is not None


def test_a_run_cancelled_while_pending_shows_insert_then_cancel(conn, slot):
    doc = generate("rural", seed=8)
    run_id = new_run(conn, import_doc(conn, doc), parse_instance(doc).default_lines())
    conn.execute("update allocation_planner_runs set status = 'CANCELLED' where id = %s", [run_id])

    transactions = run_transactions(conn, run_id)
    statuses = [[(c["action"], c["status"]) for c in changes] for _, changes in transactions]
    assert statuses == [[("I", "PENDING")], [("U", "CANCELLED")]]
    assert transactions[0][0] != transactions[1][0]


# ---------------------------------------------------------------- who receives a change

def test_realtime_publishes_the_run_statuses_only(conn):
    # Job lines are read with a select once a run is COMPLETED: a solve writes hundreds of rows in
    # one transaction, which subscribers need not receive change by change.
    ours = {"orgs", "org_members", "job_lines", "rotations", "allocation_planner_runs", "job_lines_history"}
    published = {row[0] for row in conn.execute("select tablename from pg_publication_tables "
                                                "where pubname = 'supabase_realtime' and schemaname = 'public'")}
    assert published & ours == {"allocation_planner_runs"}


def test_each_change_is_visible_to_the_runs_org_only(conn, pg_url, slot, world):
    """Supabase Realtime sends a change to a subscriber only when the subscriber's RLS select
    policies let them select the changed row: checked here change by change, as each user."""
    with acting_as(conn, world["planner"]):  # queued by a planner of the org, as the edge function does
        run_id = conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines) values (%s, 4) "
                              "returning id", [world["acacia_run"]]).fetchone()[0]
    assert work_until_final(pg_url, conn, run_id) == "COMPLETED"
    assert_checked(conn, world["acacia_run"])
    changes = [change for _, batch in run_transactions(conn, run_id) for change in batch]
    assert [(c["action"], c["status"]) for c in changes] == [("I", "PENDING"), ("U", "GENERATING"),
                                                              ("U", "COMPLETED")]
    for change in changes:
        for user, sees in (("viewer", 1), ("planner", 1), ("admin", 1), ("rival", 0), ("stranger", 0)):
            with acting_as(conn, world[user]):
                visible = conn.execute("select count(*) from allocation_planner_runs where id = %s and org_id = %s",
                                       [change["id"], change["org_id"]]).fetchone()[0]
            assert visible == sees, (user, change["status"])
