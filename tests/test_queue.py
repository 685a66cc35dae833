"""The run queue inside PostgreSQL: the worker, cancel, rescue, guard rails, views, pg_cron.

The story: a service queues a planner run and a worker slot picks it up,
solves it at a lower CPU priority and commits the lines; a run can be
cancelled, a worker can be cancelled, timed out, terminated or killed, and
the run is never left with partial lines: the rescuer puts a run whose worker
is gone back in the queue, or fails it once its attempts or its deadline are
spent. pg_cron drives the workers once a minute.

Workers are real: the worker loop (``planner.worker_statement(slot, seconds)``) on their own autocommit
connection, in a thread. A ``stress`` instance (302 lines) is a solve that is
still running when the test acts on it; ``rural`` instances solve in moments.
Waits are bounded polls; no test asserts how long anything took.
"""
from __future__ import annotations

import functools
import os
import pwd
import signal
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from receptor_planner_tools import cluster
from receptor_planner_tools.generator import generate
from receptor_planner.instance import parse_instance

from builders import assert_checked, counts, import_doc, new_run


# ---------------------------------------------------------------- helpers

def wait_for(condition, timeout: float = 90, what: str = "the condition", interval: float = 0.1):
    """Poll ``condition`` until it returns something truthy (returned); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(interval)


@functools.cache
def _doc(size: str, seed: int, tight: bool = True) -> dict:
    return generate(size, seed, tight)


def lines_of(doc) -> int:
    return parse_instance(doc).default_lines()


def run_of(db, run_id) -> dict:
    cur = db.execute("select status, error, attempt, worker_pid, started_at, finished_at, result_metadata, "
                     "updated_at from allocation_planner_runs where id = %s", [run_id])
    return dict(zip([c.name for c in cur.description], cur.fetchone()))


def status_of(db, run_id) -> str:
    return db.execute("select status from allocation_planner_runs where id = %s", [run_id]).fetchone()[0]


def events_of(db, run_id) -> list[str]:
    return [e for (e,) in db.execute("select event from planner_execution_logs where planner_run_id = %s "
                                     "order by id", [run_id])]


def rescue(db) -> int:
    return db.execute("select planner.rescue()").fetchone()[0]


def backend_alive(db, pid) -> bool:
    return db.execute("select exists (select 1 from pg_stat_activity where pid = %s)", [pid]).fetchone()[0]


def _dead(db) -> bool:
    try:
        db.execute("select 1")
    except psycopg.OperationalError:
        return True
    return False


def _connect(url: str):
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        return None  # the server is not accepting connections (yet)


class Worker:
    """The worker loop (``planner.worker_statement(slot, seconds)``) in a thread, on its own autocommit connection.

    ``pid`` is the backend that works; ``error`` is what the CALL raised, if anything.
    """

    def __init__(self, url: str, slot: int = 1, seconds: int = 120, setup: tuple[str, ...] = ()):
        self.conn = psycopg.connect(url, autocommit=True)
        self.pid = self.conn.execute("select pg_backend_pid()").fetchone()[0]
        for statement in setup:
            self.conn.execute(statement)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, args=(slot, seconds), daemon=True,
                                       name=f"planner-work-{slot}")
        self.thread.start()

    def _work(self, slot: int, seconds: int) -> None:
        try:
            cluster.run_worker(self.conn, slot, seconds)
        except BaseException as e:  # noqa: BLE001  (the test reads it)
            self.error = e

    @property
    def working(self) -> bool:
        return self.thread.is_alive()

    def join(self, timeout: float = 90) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"worker pid {self.pid} still works after {timeout} s"

    def stop(self, db, timeout: float = 90) -> None:
        """Cancel the worker's CALL (it polls between runs) until its thread ends."""
        deadline = time.monotonic() + timeout
        while self.thread.is_alive():
            db.execute("select pg_cancel_backend(%s)", [self.pid])
            self.thread.join(0.5)
            assert time.monotonic() < deadline, f"worker pid {self.pid} did not stop"
        self.conn.close()


class Queue:
    """An admin connection, and the workers and settings a test changes, all undone after it."""

    def __init__(self, url: str):
        self.url = url
        self.db = psycopg.connect(url, autocommit=True)
        self.workers: list[Worker] = []
        self.lock_holders: list[psycopg.Connection] = []
        self.saved_settings = self.db.execute("select to_jsonb(s) from planner.settings s").fetchone()[0]

    def reconnect(self, timeout: float = 60):
        """A fresh admin connection, retried while the server restarts."""
        self.db = wait_for(lambda: _connect(self.url), timeout, "the server to accept connections", 0.5)
        return self.db

    def hold_posts(self) -> psycopg.Connection:
        """A transaction holding allocation_run_posts: a worker that claims a run then waits to read it."""
        holder = psycopg.connect(self.url)
        self.lock_holders.append(holder)
        holder.execute("lock table allocation_run_posts in access exclusive mode")
        return holder

    def settings(self, **values) -> None:
        for name, value in values.items():
            self.db.execute(f"update planner.settings set {name} = %s", [value])

    def worker(self, slot: int = 1, seconds: int = 120, setup: tuple[str, ...] = ()) -> Worker:
        worker = Worker(self.url, slot, seconds, setup)
        self.workers.append(worker)
        return worker

    def import_doc(self, size: str, seed: int, org=None, tight: bool = True) -> tuple[dict, str]:
        doc = _doc(size, seed, tight)
        if org is None:
            return doc, import_doc(self.db, doc)
        return doc, self.db.execute("select planner.import_instance(%s, %s)", [Jsonb(doc), org]).fetchone()[0]

    def small_run(self, seed: int = 3, **options) -> tuple[str, str]:
        """A rural allocation run and a queued planner run for its lines: (allocation run, planner run)."""
        doc, allocation_run = self.import_doc("rural", seed)
        return allocation_run, new_run(self.db, allocation_run, lines_of(doc), **options)

    def stress_run(self) -> tuple[str, str]:
        """A 387-line allocation run with spare places and a queued planner run that solves for about
        20 s (its mean-distance stage alone), longer than a test needs it to be solving."""
        doc, allocation_run = self.import_doc("stress", 0, tight=False)
        return allocation_run, new_run(self.db, allocation_run, lines_of(doc), max_seconds=120)

    def wait_status(self, run_id, *statuses: str, timeout: float = 90) -> str:
        return wait_for(lambda: (s := status_of(self.db, run_id)) in statuses and s, timeout,
                        f"run {run_id} to be {' or '.join(statuses)}")

    def wait_solving(self, run_id, worker: Worker, timeout: float = 90) -> None:
        """Until ``worker`` has claimed ``run_id`` (committed GENERATING)."""
        self.wait_status(run_id, "GENERATING", timeout=timeout)
        assert run_of(self.db, run_id)["worker_pid"] == worker.pid

    # ------------------------------------------------------------ cleanup

    def cancel_active_runs(self) -> None:
        self.db.execute("update allocation_planner_runs set status = 'CANCELLED', finished_at = now(), "
                        "error = coalesce(error, 'cancelled by the test cleanup') "
                        "where status in ('PENDING', 'GENERATING')")

    def stop_other_workers(self) -> None:
        """Cancel any worker loop not started by this test (a pg_cron job) until none is left."""
        ours = [w.pid for w in self.workers]

        def strays():
            return [pid for (pid,) in self.db.execute(
                "select pid from pg_stat_activity where pid <> pg_backend_pid() and not (pid = any(%s)) "
                "and query ilike '%%receptor_planner.pg import work%%' and state = 'active'", [ours])]

        def none_left():
            for pid in strays():
                self.db.execute("select pg_cancel_backend(%s)", [pid])
            return not strays()

        wait_for(none_left, 60, "other planner workers to stop", 0.5)

    def setup(self) -> None:
        # Runs left active by other tests would be claimed by this test's workers, oldest first.
        self.stop_other_workers()
        self.cancel_active_runs()

    def teardown(self) -> None:
        for holder in self.lock_holders:
            holder.close()
        if self.db.closed or self.db.broken:
            self.reconnect()
        self.cancel_active_runs()  # a solve stops within a poll and writes nothing
        for worker in self.workers:
            worker.stop(self.db)
        self.db.execute("update planner.settings s set (max_concurrent_solves, solver_threads, max_attempts, "
                        "deadline_margin_seconds, max_queued_per_org, poll_seconds, solve_nice, schedule_enabled, "
                        "max_concurrent_per_org, log_retention_days, history_keep) "
                        "= (select max_concurrent_solves, solver_threads, max_attempts, deadline_margin_seconds, "
                        "max_queued_per_org, poll_seconds, solve_nice, schedule_enabled, max_concurrent_per_org, "
                        "log_retention_days, history_keep "
                        "from jsonb_populate_record(null::planner.settings, %s))", [Jsonb(self.saved_settings)])
        self.db.execute("select planner.schedule_workers()")  # follows the restored (disabled) schedule
        self.stop_other_workers()
        self.cancel_active_runs()
        self.db.close()


@pytest.fixture
def queue(pg_url):
    q = Queue(pg_url)
    q.setup()
    try:
        yield q
    finally:
        q.teardown()


# ---------------------------------------------------------------- a run through the queue

def test_a_worker_solves_a_queued_run(queue):
    db = queue.db
    allocation_run, run_id = queue.small_run()
    assert run_of(db, run_id)["status"] == "PENDING"
    worker = queue.worker()
    assert queue.wait_status(run_id, "COMPLETED", "INFEASIBLE", "FAILED") == "COMPLETED"

    run = run_of(db, run_id)
    assert run["worker_pid"] == worker.pid and run["attempt"] == 1 and run["error"] is None
    assert run["started_at"] is not None and run["finished_at"] >= run["started_at"]
    assert set(run["result_metadata"]["timings"]) >= {"queue_wait", "import", "solve", "write"}
    assert events_of(db, run_id) == ["claimed", "solved", "finished"]
    solution = assert_checked(db, allocation_run)
    assert len(solution["lines"]) == lines_of(_doc("rural", 3))
    assert counts(db, allocation_run)[2] == 0  # nothing was there before: no history


def test_one_worker_per_slot_and_the_slot_is_given_back(queue):
    db = queue.db
    # A worker whose loop has ended, on a connection that stays open (a DBA's session, a pool).
    finished = queue.worker(slot=1, seconds=0)
    finished.join()
    assert finished.error is None

    allocation_run, run_id = queue.small_run()
    # A slot above max_concurrent_solves (1) does nothing and returns.
    above = queue.worker(slot=2, seconds=30)
    above.join()
    assert above.error is None and status_of(db, run_id) == "PENDING"

    # Slot 1 is free again: a new worker takes it and solves the run...
    worker = queue.worker(slot=1, seconds=120)
    wait_for(lambda: status_of(db, run_id) != "PENDING" or not worker.working, 90,
             "the new slot-1 worker to claim the run")
    assert status_of(db, run_id) != "PENDING", "slot 1 is still held by the session of the finished worker"
    assert queue.wait_status(run_id, "COMPLETED", "INFEASIBLE", "FAILED") == "COMPLETED"
    assert run_of(db, run_id)["worker_pid"] == worker.pid
    assert_checked(db, allocation_run)
    # ...while it holds the slot, another slot-1 worker returns at once and claims nothing.
    _, queued = queue.small_run(seed=4)
    second = Worker(queue.url, slot=1, seconds=30)
    queue.workers.append(second)
    second.join()
    assert second.error is None
    queue.wait_status(queued, "COMPLETED")  # the slot holder solved it
    assert run_of(db, queued)["worker_pid"] == worker.pid


# ---------------------------------------------------------------- the status machine

def test_the_status_machine(queue):
    db = queue.db
    doc, allocation_run = queue.import_doc("rural", 5)
    n = lines_of(doc)

    def set_status(run_id, status):
        db.execute("update allocation_planner_runs set status = %s where id = %s", [status, run_id])

    def refused(run_id, status, message):
        before = run_of(db, run_id)
        with pytest.raises(psycopg.errors.CheckViolation, match="^" + message):
            set_status(run_id, status)
        assert run_of(db, run_id) == before

    # Claimed, rescued back to the queue, claimed again, finished.
    first = new_run(db, allocation_run, n)
    for status in ("GENERATING", "PENDING", "GENERATING", "COMPLETED"):
        set_status(first, status)
        assert status_of(db, first) == status
    # An outcome is final.
    for status in ("PENDING", "GENERATING", "FAILED"):
        refused(first, status, f"allocation_planner_runs.status: a COMPLETED run cannot become {status}")
    refused(first, "CANCELLED", "allocation_planner_runs.status: a COMPLETED run cannot be cancelled; "
                                "only PENDING and GENERATING runs can")
    with pytest.raises(psycopg.errors.CheckViolation,
                       match="^allocation_planner_runs.status: a COMPLETED run cannot be cancelled"):
        db.execute("select planner.cancel_run(%s)", [first])
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="^run_id: no planner run with id"):
        db.execute("select planner.cancel_run(gen_random_uuid())")
    with pytest.raises(psycopg.errors.CheckViolation, match="status_is_known"):
        set_status(first, "DONE")

    # PENDING straight to an outcome (a synchronous solve_run does that); still final.
    failed = new_run(db, allocation_run, n)
    set_status(failed, "FAILED")
    refused(failed, "COMPLETED", "allocation_planner_runs.status: a FAILED run cannot become COMPLETED")
    infeasible = new_run(db, allocation_run, n)
    set_status(infeasible, "INFEASIBLE")
    refused(infeasible, "GENERATING", "allocation_planner_runs.status: a INFEASIBLE run cannot become GENERATING")

    # A queued run is cancelled, and no worker ever claims it; the run queued after it is solved.
    cancelled = new_run(db, allocation_run, n)
    assert db.execute("select planner.cancel_run(%s)", [cancelled]).fetchone()[0] == "CANCELLED"
    refused(cancelled, "PENDING", "allocation_planner_runs.status: a CANCELLED run cannot become PENDING")
    refused(cancelled, "GENERATING", "allocation_planner_runs.status: a CANCELLED run cannot become GENERATING")
    after = new_run(db, allocation_run, n)
    queue.worker()
    assert queue.wait_status(after, "COMPLETED", "INFEASIBLE", "FAILED") == "COMPLETED"
    assert_checked(db, allocation_run)
    run = run_of(db, cancelled)
    assert (run["status"], run["attempt"], run["worker_pid"], run["started_at"]) == ("CANCELLED", 0, None, None)
    assert run["error"].startswith("cancelled by ")
    assert events_of(db, cancelled) == []


# ---------------------------------------------------------------- guard rails

def test_guard_rails_on_queueing(queue):
    db = queue.db
    doc, allocation_run = queue.import_doc("rural", 6)
    n = lines_of(doc)
    active = new_run(db, allocation_run, n)
    with pytest.raises(psycopg.errors.UniqueViolation,
                       match=f"^allocation_planner_runs.allocation_run: allocation run {allocation_run} "
                             f"already has an active planner run {active} \\(PENDING\\)"):
        new_run(db, allocation_run, n)
    assert db.execute("select count(*) from allocation_planner_runs where allocation_run = %s",
                      [allocation_run]).fetchone()[0] == 1

    # At most max_queued_per_org PENDING runs per org: three allocation runs of one org queue, a fourth waits.
    queue.settings(max_queued_per_org=3)
    doc, first = queue.import_doc("rural", 7)
    org = db.execute("select org_id from allocation_runs where id = %s", [first]).fetchone()[0]
    allocation_runs = [first] + [queue.import_doc("rural", 7, org)[1] for _ in range(3)]
    queued = [new_run(db, a, lines_of(doc)) for a in allocation_runs[:3]]
    with pytest.raises(psycopg.errors.ProgramLimitExceeded,
                       match="^allocation_planner_runs: this org already has 3 queued planner runs, the most allowed"):
        new_run(db, allocation_runs[3], lines_of(doc))
    assert db.execute("select count(*) from allocation_planner_runs where org_id = %s", [org]).fetchone()[0] == 3
    # The cap counts queued runs only: once one is cancelled, the fourth is accepted.
    db.execute("select planner.cancel_run(%s)", [queued[0]])
    new_run(db, allocation_runs[3], lines_of(doc))
    assert db.execute("select count(*) from allocation_planner_runs where org_id = %s and status = 'PENDING'",
                      [org]).fetchone()[0] == 3


# ---------------------------------------------------------------- stopping a solve

def test_a_cancelled_solve_writes_nothing_and_the_worker_moves_on(queue):
    db = queue.db
    stress, run_id = queue.stress_run()
    worker = queue.worker()
    queue.wait_solving(run_id, worker)
    db.execute("update allocation_planner_runs set status = 'CANCELLED' where id = %s", [run_id])
    wait_for(lambda: "cancelled" in events_of(db, run_id), 90, "the worker to notice the cancel")
    assert status_of(db, run_id) == "CANCELLED"
    assert "finished" not in events_of(db, run_id)
    assert counts(db, stress) == (0, 0, 0)

    # The same backend is alive and solves the next run.
    small, next_run = queue.small_run()
    assert queue.wait_status(next_run, "COMPLETED", "INFEASIBLE", "FAILED") == "COMPLETED"
    assert run_of(db, next_run)["worker_pid"] == worker.pid == run_of(db, run_id)["worker_pid"]
    assert worker.working and worker.error is None
    assert_checked(db, small)
    assert status_of(db, run_id) == "CANCELLED" and counts(db, stress) == (0, 0, 0)


def test_cancelling_the_solving_backend_fails_the_run_and_the_backend_survives(queue):
    db = queue.db
    stress, run_id = queue.stress_run()
    worker = queue.worker()
    queue.wait_solving(run_id, worker)
    db.execute("select pg_cancel_backend(%s)", [worker.pid])
    worker.join()
    assert isinstance(worker.error, psycopg.errors.QueryCanceled)
    run = run_of(db, run_id)
    assert run["status"] == "FAILED"
    assert run["error"] == "the solve was stopped: canceling statement due to user request"
    assert events_of(db, run_id) == ["claimed", "finished"]
    assert counts(db, stress) == (0, 0, 0)  # no lines, no history: nothing of the solve was written
    assert worker.conn.execute("select 1").fetchone() == (1,)
    assert worker.conn.execute("select pg_backend_pid()").fetchone()[0] == worker.pid


@pytest.mark.slow
def test_a_statement_timeout_fails_the_run(queue):
    db = queue.db
    stress, run_id = queue.stress_run()
    # OR-Tools is loaded first (a zero-second loop), so the 4 s go to the solve.
    worker = queue.worker(seconds=60, setup=(db.execute("select planner.worker_statement(1, 0)").fetchone()[0],
                                                      "set statement_timeout = '4s'"))
    worker.join()
    assert isinstance(worker.error, psycopg.errors.QueryCanceled)
    assert "statement timeout" in str(worker.error)
    run = run_of(db, run_id)
    assert run["status"] == "FAILED" and run["worker_pid"] == worker.pid
    assert run["error"] == "the solve was stopped: canceling statement due to statement timeout"
    assert counts(db, stress) == (0, 0, 0)
    assert worker.conn.execute("select 1").fetchone() == (1,)


# ---------------------------------------------------------------- rescue

def _solve_blocked(queue, run_id):
    """A worker that has claimed ``run_id`` (committed GENERATING) and waits on a lock before solving.

    The test holds the allocation run's posts; returns (worker, the holding connection)."""
    holder = queue.hold_posts()
    worker = queue.worker()
    queue.wait_solving(run_id, worker)
    return worker, holder


def _terminate(queue, worker) -> None:
    queue.db.execute("select pg_terminate_backend(%s)", [worker.pid])
    worker.join()
    assert isinstance(worker.error, psycopg.OperationalError)  # the connection died with its backend


def test_rescue_requeues_a_run_whose_backend_is_gone_then_fails_it(queue):
    db = queue.db
    stress, run_id = queue.stress_run()
    worker = queue.worker()
    queue.wait_solving(run_id, worker)
    _terminate(queue, worker)
    wait_for(lambda: not backend_alive(db, worker.pid), 30, "the terminated backend to exit")
    assert status_of(db, run_id) == "GENERATING"  # nobody has looked yet; the DBA's view shows the dead solve:
    assert db.execute("select worker_pid, backend_alive from planner.running_solves where id = %s",
                      [run_id]).fetchall() == [(worker.pid, False)]
    assert wait_for(lambda: rescue(db), 30, "rescue to find the dead solve") == 1
    run = run_of(db, run_id)
    assert (run["status"], run["attempt"], run["worker_pid"]) == ("PENDING", 1, None)
    assert "gone" in run["error"] and f"pid {worker.pid}" in run["error"]
    assert events_of(db, run_id)[-1] == "rescued"
    assert counts(db, stress) == (0, 0, 0)
    db.execute("select planner.cancel_run(%s)", [run_id])

    # With one attempt allowed, a dead solve fails instead.
    queue.settings(max_attempts=1)
    allocation_run, once = queue.small_run(seed=8)
    worker, holder = _solve_blocked(queue, once)
    _terminate(queue, worker)
    holder.rollback()
    holder.close()
    assert wait_for(lambda: rescue(db), 30, "rescue to find the dead solve") == 1
    run = run_of(db, once)
    assert (run["status"], run["attempt"]) == ("FAILED", 1)
    assert run["error"] == f"the solving backend (pid {worker.pid}) is gone after 1 attempt(s)"
    assert counts(db, allocation_run) == (0, 0, 0)

    # With two, the rescued run is solved by the next worker, on its second attempt.
    queue.settings(max_attempts=2)
    twice = new_run(db, allocation_run, lines_of(_doc("rural", 8)))
    worker, holder = _solve_blocked(queue, twice)
    _terminate(queue, worker)
    holder.rollback()
    holder.close()
    assert wait_for(lambda: rescue(db), 30, "rescue to find the dead solve") == 1
    assert status_of(db, twice) == "PENDING"
    second = queue.worker()
    assert queue.wait_status(twice, "COMPLETED", "INFEASIBLE", "FAILED") == "COMPLETED"
    run = run_of(db, twice)
    assert (run["attempt"], run["worker_pid"], run["error"]) == (2, second.pid, None)
    assert events_of(db, twice) == ["claimed", "rescued", "claimed", "solved", "finished"]
    assert_checked(db, allocation_run)


def test_rescue_leaves_live_and_finished_runs_alone_and_fails_an_overdue_one(queue):
    db = queue.db
    finished_run, finished = queue.small_run(seed=9)
    db.execute("select planner.solve_run(%s)", [finished])
    finished_before = run_of(db, finished)
    assert finished_before["status"] == "COMPLETED"

    stress, run_id = queue.stress_run()
    worker = queue.worker()
    queue.wait_solving(run_id, worker)
    live = run_of(db, run_id)
    assert rescue(db) == 0
    assert run_of(db, run_id) == live and run_of(db, finished) == finished_before

    # The deadline (started_at + max_seconds + margin) passes while the worker is alive.
    db.execute("update allocation_planner_runs set started_at = now() - interval '1 hour' where id = %s", [run_id])
    assert rescue(db) == 1
    run = run_of(db, run_id)
    assert run["status"] == "FAILED" and run["error"].startswith("no outcome ")
    assert "past max_seconds (120) plus the margin (30 s)" in run["error"]
    worker.join()  # rescue cancelled it
    assert isinstance(worker.error, psycopg.errors.QueryCanceled)
    # The worker's late result never overwrites the rescuer's verdict.
    assert run_of(db, run_id)["status"] == "FAILED"
    assert run_of(db, run_id)["error"] == run["error"]
    assert "finished" not in events_of(db, run_id)
    assert counts(db, stress) == (0, 0, 0)
    assert run_of(db, finished) == finished_before
    assert rescue(db) == 0


# ---------------------------------------------------------------- for the DBA

def test_views_show_the_queue_and_the_running_solves(queue):
    db = queue.db
    stress, solving = queue.stress_run()
    worker = queue.worker()
    queue.wait_solving(solving, worker)
    # One run of each outcome on a small allocation run, and one left queued behind the busy worker.
    doc, allocation_run = queue.import_doc("rural", 10)
    n = lines_of(doc)
    assert db.execute("select planner.solve_run(%s)", [new_run(db, allocation_run, n)]).fetchone()[0]["status"] \
        == "COMPLETED"
    assert db.execute("select planner.solve_run(%s)", [new_run(db, allocation_run, n + 5)]).fetchone()[0]["status"] \
        == "INFEASIBLE"
    db.execute("update allocation_planner_runs set status = 'FAILED' where id = %s", [new_run(db, allocation_run, n)])
    db.execute("select planner.cancel_run(%s)", [new_run(db, allocation_run, n)])
    pending = new_run(db, allocation_run, n)

    rows = db.execute("select v.status, v.runs, (select count(*) from allocation_planner_runs r "
                      "where r.status = v.status), v.oldest_pending_wait is not null "
                      "from planner.queue_overview v").fetchall()
    assert {status for status, *_ in rows} == {"PENDING", "GENERATING", "COMPLETED", "INFEASIBLE", "FAILED",
                                               "CANCELLED"}
    for status, runs, direct, waiting in rows:
        assert runs == direct and runs >= 1, status
        assert waiting == (status == "PENDING")
    assert dict((s, r) for s, r, *_ in rows)["GENERATING"] == 1
    assert status_of(db, pending) == "PENDING"

    running = db.execute("select id, attempt, worker_pid, backend_alive, max_seconds from planner.running_solves"
                         ).fetchall()
    assert running == [(solving, 1, worker.pid, True, 120)]


def test_solving_threads_run_at_the_nice_value_and_the_backend_does_not(queue):
    stress, run_id = queue.stress_run()
    worker = queue.worker()
    queue.wait_solving(run_id, worker)
    tasks = Path(f"/proc/{worker.pid}/task")

    def nice_values() -> dict[int, int]:
        values = {}
        for task in tasks.iterdir():
            try:
                stat = (task / "stat").read_text()
            except FileNotFoundError:
                continue  # a thread that just ended
            values[int(task.name)] = int(stat.rsplit(")", 1)[1].split()[16])
        return values

    niced = wait_for(lambda: (v := nice_values()) and 10 in v.values() and v, 90, "CP-SAT threads at nice 10")
    assert niced[worker.pid] == 0  # the backend itself serves queries at normal priority
    assert status_of(queue.db, run_id) == "GENERATING"


# ---------------------------------------------------------------- pg_cron

def _planner_jobs(db) -> dict[str, tuple[str, str]]:
    return {name: (schedule, command) for name, schedule, command in db.execute(
        "select jobname, schedule, command from cron.job where jobname like 'planner-%'")}


def _claim(db) -> str | None:
    return db.execute("select id from planner._claim_run()").fetchone()[0]


def test_runs_are_claimed_round_robin_by_org_and_one_org_never_holds_every_slot(queue):
    """Org A queues ten runs, then org B one: B's starts before A's second; while A solves as many runs as
    max_concurrent_per_org allows, A's queue waits and other orgs' runs start."""
    db = queue.db
    doc_a, allocation_a = queue.import_doc("rural", 3)
    org_a = db.execute("select org_id from allocation_runs where id = %s", [allocation_a]).fetchone()[0]
    # one active run per allocation run: A's ten runs are of ten allocation runs of its org
    allocations_a = [allocation_a] + [queue.import_doc("rural", 3, org=org_a)[1] for _ in range(9)]
    a_runs = [new_run(db, allocation, lines_of(doc_a)) for allocation in allocations_a]
    doc_b, allocation_b = queue.import_doc("rural", 5)
    b_run = new_run(db, allocation_b, lines_of(doc_b))
    assert _claim(db) == a_runs[0]
    assert _claim(db) == b_run  # A solves one already: its cap (1) holds its queue back
    assert _claim(db) is None  # both orgs at their cap, though A has nine queued
    db.execute("update allocation_planner_runs set status = 'CANCELLED' where id = %s", [a_runs[0]])
    assert _claim(db) == a_runs[1]  # A's place came free: its oldest queued run
    db.execute("update allocation_planner_runs set status = 'CANCELLED' where id = any(%s)", [[a_runs[1], b_run]])

    queue.settings(max_concurrent_per_org=2)
    c_doc, allocation_c = queue.import_doc("rural", 7)
    c_run = new_run(db, allocation_c, lines_of(c_doc))
    # A has eight queued (a_runs[2:]) and C one, queued last: A's next, then C's first, then A's again
    assert [_claim(db), _claim(db), _claim(db)] == [a_runs[2], c_run, a_runs[3]]
    assert _claim(db) is None  # A solves two, its cap; C has nothing more


def test_schedule_workers_installs_the_jobs_idempotently(queue):
    db = queue.db
    assert _planner_jobs(db) == {}  # the test server runs without the schedule
    try:
        queue.settings(schedule_enabled=True)
        assert db.execute("select planner.schedule_workers()").fetchone()[0] == 3
        assert db.execute("select planner.schedule_workers()").fetchone()[0] == 3
        assert _planner_jobs(db) == {"planner-worker-1": ("* * * * *", db.execute("select planner.worker_statement(1)").fetchone()[0]),
                                     "planner-rescue": ("* * * * *", "select planner.rescue()"),
                                     "planner-prune": ("17 3 * * *", "select planner.prune()")}
        queue.settings(max_concurrent_solves=2)
        assert db.execute("select planner.schedule_workers()").fetchone()[0] == 4
        assert set(_planner_jobs(db)) == {"planner-worker-1", "planner-worker-2", "planner-rescue", "planner-prune"}
        queue.settings(schedule_enabled=False)
        assert db.execute("select planner.schedule_workers()").fetchone()[0] == 0
        assert _planner_jobs(db) == {}
    finally:
        queue.settings(schedule_enabled=False)
        db.execute("select planner.unschedule_workers()")
        queue.stop_other_workers()  # a job that fired meanwhile
    assert _planner_jobs(db) == {}


@pytest.mark.slow
def test_pg_cron_drives_the_worker(queue):
    # Waits for pg_cron's next minute tick: up to a minute, plus the solve.
    db = queue.db
    allocation_run, run_id = queue.small_run(seed=11)
    try:
        queue.settings(schedule_enabled=True)
        assert db.execute("select planner.schedule_workers()").fetchone()[0] == 3
        assert queue.wait_status(run_id, "COMPLETED", "INFEASIBLE", "FAILED", timeout=150) == "COMPLETED"
    finally:
        queue.settings(schedule_enabled=False)
        db.execute("select planner.unschedule_workers()")
        queue.stop_other_workers()
    run = run_of(db, run_id)
    assert run["attempt"] == 1 and run["worker_pid"] is not None
    assert events_of(db, run_id) == ["claimed", "solved", "finished"]
    assert_checked(db, allocation_run)
    assert _planner_jobs(db) == {}


# ---------------------------------------------------------------- crash (keep last: it restarts every backend)

@pytest.mark.slow
def test_a_crashed_server_leaves_no_partial_lines_and_the_run_is_requeued(queue):
    db = queue.db
    stress, run_id = queue.stress_run()
    worker = queue.worker()
    queue.wait_solving(run_id, worker)
    assert counts(db, stress) == (0, 0, 0)
    # The test server commits asynchronously (synchronous_commit=off) and a crash restart loses WAL the
    # WAL writer has not written yet (in production commits are synchronous): wait until the claim is out.
    claimed = db.execute("select pg_current_wal_insert_lsn()").fetchone()[0]
    wait_for(lambda: db.execute("select pg_current_wal_flush_lsn() >= %s::pg_lsn", [claimed]).fetchone()[0],
             60, "the WAL writer to write the claim")
    status = Path(f"/proc/{worker.pid}/status").read_text()
    assert Path(f"/proc/{worker.pid}/cmdline").read_bytes().startswith(b"postgres")
    assert f"\nUid:\t{pwd.getpwnam('postgres').pw_uid}\t" in status  # a server process, nothing else

    os.kill(worker.pid, signal.SIGKILL)  # the postmaster restarts every backend
    worker.join()
    assert isinstance(worker.error, psycopg.OperationalError)
    wait_for(lambda: _dead(db), 60, "the postmaster to end the other backends")
    db = queue.reconnect()
    # The server recovered: the run is as last committed, GENERATING, and nobody holds its lock.
    run = run_of(db, run_id)
    assert (run["status"], run["attempt"], run["worker_pid"]) == ("GENERATING", 1, worker.pid)
    assert counts(db, stress) == (0, 0, 0)
    assert rescue(db) == 1
    run = run_of(db, run_id)
    assert (run["status"], run["attempt"]) == ("PENDING", 1) and "gone" in run["error"]
    assert counts(db, stress) == (0, 0, 0)
    db.execute("select planner.cancel_run(%s)", [run_id])
    assert status_of(db, run_id) == "CANCELLED"
