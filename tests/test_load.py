"""Load: 200 small runs from 20 orgs queued at once, solved by workers under a cap of two.

The story: every org of a state asks for lines at the same moment. The DBA
allows two solves at a time; three worker slots are started anyway. Every run
is solved exactly once, never more than two at a time, and every allocation
run ends with lines the checker accepts.
"""
from __future__ import annotations

import threading
import time
from collections import Counter

import psycopg
import pytest
from psycopg.types.json import Jsonb

from receptor_planner_tools import cluster
from receptor_planner.checker import check

from builders import exported, instance, post

ORGS = 20
RUNS_PER_ORG = 10
LINES = 3
CAP = 2
FINAL = ("COMPLETED", "INFEASIBLE", "FAILED", "CANCELLED")


def tiny(org: str) -> dict:
    """Four posts of one place each over four terms, for three lines (a line never repeats a post)."""
    return dict(instance([post("MED"), post("SURG"), post("ED"), post("PSYCH")]), org={"name": org})


@pytest.fixture
def cap_of_two(conn):
    before = conn.execute("select max_concurrent_solves from planner.settings").fetchone()[0]
    conn.execute("update planner.settings set max_concurrent_solves = %s", [CAP])
    try:
        yield CAP
    finally:
        conn.execute("update planner.settings set max_concurrent_solves = %s", [before])


def queue_load(conn) -> tuple[list, list]:
    """20 orgs of 10 allocation runs each, and one PENDING run for each, inserted in one transaction."""
    allocation_runs = []
    for i in range(1, ORGS + 1):
        doc = tiny(f"Load Org {i}")
        first = conn.execute("select planner.import_instance(%s)", [Jsonb(doc)]).fetchone()[0]
        org = conn.execute("select org_id from allocation_runs where id = %s", [first]).fetchone()[0]
        allocation_runs.append(first)
        for _ in range(RUNS_PER_ORG - 1):
            allocation_runs.append(conn.execute("select planner.import_instance(%s, %s)",
                                                [Jsonb(doc), org]).fetchone()[0])
    runs = [row[0] for row in conn.execute(
        "insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options) "
        "select a, %s, '{UNRESTRICTED}', %s from unnest(%s::uuid[]) with ordinality as u(a, k) order by k "
        "returning id", [LINES, Jsonb({"max_seconds": 20, "seed": 1}), allocation_runs]).fetchall()]
    return allocation_runs, runs


class Worker(threading.Thread):
    """Runs the worker loop of ``slot`` on its own connection, again and again until told to stop."""

    def __init__(self, pg_url: str, slot: int, seconds: int, once: bool = False):
        super().__init__(daemon=True)
        self.pg_url, self.slot, self.seconds, self.once = pg_url, slot, seconds, once
        self.stop = threading.Event()
        self.calls = 0  # CALLs that returned
        self.pid = None
        self.error: BaseException | None = None

    def run(self):
        try:
            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                self.pid = conn.execute("select pg_backend_pid()").fetchone()[0]
                while not self.stop.is_set():
                    cluster.run_worker(conn, self.slot, self.seconds)
                    self.calls += 1
                    if self.once:
                        return
        except BaseException as e:  # noqa: BLE001  (asserted by the test)
            self.error = e


def max_overlap(intervals: list[tuple]) -> int:
    """The most intervals open at one instant; one ending as another starts does not overlap it."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                    key=lambda e: (e[0], e[1]))
    open_now = most = 0
    for _, step in events:
        open_now += step
        most = max(most, open_now)
    return most


def slot_holders(conn, slot: int) -> list[int]:
    """The backends holding a worker slot's advisory lock (a bigint key: classid high, objid low)."""
    return [row[0] for row in conn.execute(
        "select pid from pg_locks where locktype = 'advisory' and objsubid = 1 and granted "
        "and (classid::bigint << 32 | objid::bigint) = planner._slot_lock(%s)", [slot])]


@pytest.mark.slow
def test_two_hundred_runs_from_twenty_orgs_solved_once_each_two_at_a_time(conn, pg_url, cap_of_two):
    # Runs left PENDING by earlier tests would be claimed first; this test is about its own queue.
    conn.execute("update allocation_planner_runs set status = 'CANCELLED' where status = 'PENDING'")
    test_started = conn.execute("select clock_timestamp()").fetchone()[0]
    allocation_runs, runs = queue_load(conn)
    assert len(runs) == ORGS * RUNS_PER_ORG
    assert conn.execute("select count(distinct org_id) from allocation_planner_runs where id = any(%s)",
                        [runs]).fetchone()[0] == ORGS

    workers = [Worker(pg_url, 1, 5), Worker(pg_url, 2, 5)]
    above_cap = Worker(pg_url, 3, 120, once=True)
    for worker in (*workers, above_cap):
        worker.start()
    deadline = time.monotonic() + 300
    held_by = {slot: set() for slot in (1, 2, 3)}  # a looping worker holds its slot's lock while it works
    try:
        while True:
            for slot, pids in held_by.items():
                pids.update(slot_holders(conn, slot))
            active = conn.execute("select count(*) from allocation_planner_runs where id = any(%s) "
                                  "and status not in ('COMPLETED', 'INFEASIBLE', 'FAILED', 'CANCELLED')",
                                  [runs]).fetchone()[0]
            if active == 0 or time.monotonic() > deadline or any(w.error for w in workers):
                break
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.stop.set()
        for worker in (*workers, above_cap):
            worker.join(120)
    assert not any(w.is_alive() for w in (*workers, above_cap)), "a worker did not return"
    assert [w.error for w in (*workers, above_cap)] == [None, None, None]

    # slot 3 is above the cap: its one CALL returned without taking the slot (it would hold the slot's
    # lock and loop for 120 s otherwise) and claimed nothing
    assert above_cap.calls == 1
    assert held_by == {1: {workers[0].pid}, 2: {workers[1].pid}, 3: set()}, held_by
    assert conn.execute("select count(*) from allocation_planner_runs where worker_pid = %s and started_at >= %s",
                        [above_cap.pid, test_started]).fetchone()[0] == 0
    assert conn.execute("select count(*) from planner_execution_logs where event = 'claimed' "
                        "and message like '%%by worker slot 3 %%'").fetchone()[0] == 0

    rows = conn.execute("select id, status, attempt, started_at, finished_at from allocation_planner_runs "
                        "where id = any(%s)", [runs]).fetchall()
    assert Counter(status for _, status, *_ in rows) == {"COMPLETED": len(runs)}
    assert Counter(attempt for _, _, attempt, *_ in rows) == {1: len(runs)}  # none solved twice
    events = Counter(conn.execute("select planner_run_id, event from planner_execution_logs "
                                  "where planner_run_id = any(%s) and event in ('claimed', 'finished')",
                                  [runs]).fetchall())
    assert events == Counter({(run, event): 1 for run in runs for event in ("claimed", "finished")})
    slots = Counter(row[0] for row in conn.execute(
        "select substring(message from 'by worker slot (\\d+) ') from planner_execution_logs "
        "where planner_run_id = any(%s) and event = 'claimed'", [runs]))
    assert set(slots) == {"1", "2"}, slots  # both slots under the cap solved

    # [started_at, finished_at] spans the solve: the run's claim and the end of its solve, logged by the
    # solving backend as they happen, fall inside it, in that order
    inside = Counter(conn.execute(
        "select l.event from allocation_planner_runs r join planner_execution_logs l on l.planner_run_id = r.id "
        "where r.id = any(%s) and l.event in ('claimed', 'solved') and r.started_at <= l.created_at "
        "and l.created_at <= r.finished_at and (l.event = 'solved' or l.created_at <= (select s.created_at "
        "from planner_execution_logs s where s.planner_run_id = r.id and s.event = 'solved'))", [runs]))
    assert inside == {("claimed",): len(runs), ("solved",): len(runs)}, inside
    # every solve this test saw (its own and any other) ran inside [started_at, finished_at]
    intervals = conn.execute("select started_at, finished_at from allocation_planner_runs "
                             "where started_at >= %s and finished_at is not null", [test_started]).fetchall()
    assert all(start < end for start, end in intervals)
    assert max_overlap(intervals) <= CAP

    for allocation_run in allocation_runs:
        doc, solution = exported(conn, allocation_run)
        assert len(solution["lines"]) == LINES
        assert check(doc, solution) == [], allocation_run


def test_a_slot_is_free_again_once_its_worker_returns(conn, pg_url):
    """A worker's slot lock is a session lock: it must be released when the CALL returns, not when the
    session ends, or a pooled connection that once ran the worker blocks the slot for every other one."""
    conn.execute("update allocation_planner_runs set status = 'CANCELLED' where status = 'PENDING'")
    with psycopg.connect(pg_url, autocommit=True) as first, psycopg.connect(pg_url, autocommit=True) as second:
        cluster.run_worker(first, 1, 1)
        assert first.execute("select count(*) from pg_locks where locktype = 'advisory' "
                             "and pid = pg_backend_pid()").fetchone()[0] == 0
        allocation_run = conn.execute("select planner.import_instance(%s)",
                                      [Jsonb(tiny("Slot Health"))]).fetchone()[0]
        run_id = conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines) "
                              "values (%s, %s) returning id", [allocation_run, LINES]).fetchone()[0]
        cluster.run_worker(second, 1, 2)  # `first` is still connected
        status, pid = conn.execute("select status, worker_pid from allocation_planner_runs where id = %s",
                                   [run_id]).fetchone()
        assert status == "COMPLETED"
        assert pid == second.execute("select pg_backend_pid()").fetchone()[0]
