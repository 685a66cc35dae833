"""``make demo``: a metropolitan service's PGY1 year, queued in the local database and solved by a worker.

The demo does what an application does: it inserts a planner run and follows
it (``planner watch``) until a worker has solved it. On the local database the
workers are pg_cron jobs, started each minute; on a freshly started cluster the
first one may take up to a minute to come. The whole demo stays under two
minutes: DEMO_BUDGET_SECONDS bounds the wait and the solve's time limit
(``--seconds``) is well inside it.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from receptor_planner.checker import check
from receptor_planner.instance import parse_instance
from .cluster import LocalCluster, run_worker
from .watch import FINAL_EXIT_CODES, watch

DEMO_BUDGET_SECONDS = 115
WAITING_NOTE = "waiting for a worker (pg_cron starts one each minute)..."


def run_demo(instance_path: Path, constraints: list[str], seconds: float) -> int:
    began = time.monotonic()
    doc = json.loads(instance_path.read_text())
    n_lines = parse_instance(doc).default_lines()
    cluster = LocalCluster.default()
    print(f"starting the local database ({cluster.root}) ...")
    cluster.start()
    url = cluster.url()
    with psycopg.connect(url, autocommit=True) as conn:
        # the demo owns its service: a second run replaces the first
        conn.execute("delete from orgs where name = %s", [doc["org"]["name"]])
        allocation_run = conn.execute("select planner.import_instance(%s)", [Jsonb(doc)]).fetchone()[0]
        print(f"imported {doc['org']['name']}: {len(doc['positions'])} posts, "
              f"terms {doc['term_weeks']}, allocation run {allocation_run}")
        run_id = conn.execute(
            "insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options) "
            "values (%s, %s, %s, %s) returning id",
            [allocation_run, n_lines, constraints, Jsonb({"max_seconds": seconds, "seed": 1})]).fetchone()[0]
        print(f"planner run {run_id}: {n_lines} lines under {', '.join(constraints)}, queued")
        scheduled = conn.execute("select count(*) from cron.job where jobname like 'planner-worker-%%' "
                                 "and active").fetchone()[0]

    worker = None
    if not scheduled:
        print("the pg_cron schedule is off (planner.settings.schedule_enabled = false): "
              "this demo runs a worker itself")
        worker = _OwnWorker(url)
        worker.start()
    try:
        code = watch(url, str(run_id), show_lines=5, waiting_note=None if worker else WAITING_NOTE,
                     timeout=max(DEMO_BUDGET_SECONDS - (time.monotonic() - began), 1))
    finally:
        if worker:
            worker.stop.set()
            worker.join(60)
    if code not in FINAL_EXIT_CODES.values():
        return 1  # timed out (watch said so), or the run vanished

    with psycopg.connect(url, autocommit=True) as conn:
        status = conn.execute("select status from allocation_planner_runs where id = %s", [run_id]).fetchone()[0]
        solution = conn.execute("select planner.export_solution(%s)", [allocation_run]).fetchone()[0]
        instance = conn.execute("select planner.export_instance(%s)", [allocation_run]).fetchone()[0]
    violations = check(instance, solution)
    verdict = "no violations" if not violations else f"{len(violations)} violations"
    print(f"\nindependent checker: {verdict} in {len(solution['lines'])} lines")
    for v in violations[:20]:
        print(f"  {v}")
    print(f"demo finished in {time.monotonic() - began:.0f} s")
    return 0 if status == "COMPLETED" and not violations else 1


class _OwnWorker(threading.Thread):
    """The worker loop on slot 1, in short calls, for a database whose pg_cron schedule is off."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                while not self.stop.is_set():
                    run_worker(conn, 1, 2)
        except psycopg.Error as e:
            print(f"the demo's worker stopped: {e}", file=sys.stderr)
