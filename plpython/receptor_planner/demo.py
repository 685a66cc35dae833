"""``make demo``: a metropolitan service's PGY1 year, solved inside the local database."""
from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from .checker import check
from .cli import summary
from .cluster import LocalCluster
from .instance import parse_instance


def run_demo(instance_path: Path, constraints: list[str], seconds: float) -> int:
    doc = json.loads(instance_path.read_text())
    n_lines = parse_instance(doc).default_lines()
    cluster = LocalCluster.default()
    print(f"starting the local database ({cluster.root}) ...")
    cluster.start()
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        # the demo owns its service: a second run replaces the first
        conn.execute("delete from orgs where name = %s", [doc["org"]["name"]])
        allocation_run = conn.execute("select planner.import_instance(%s)", [Jsonb(doc)]).fetchone()[0]
        print(f"imported {doc['org']['name']}: {len(doc['positions'])} posts, "
              f"terms {doc['term_weeks']}, allocation run {allocation_run}")
        run_id = conn.execute(
            "insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options) "
            "values (%s, %s, %s, %s) returning id",
            [allocation_run, n_lines, constraints, Jsonb({"max_seconds": seconds, "seed": 1})]).fetchone()[0]
        print(f"planner run {run_id}: {n_lines} lines under {', '.join(constraints)}, PENDING")
        started = time.monotonic()
        conn.execute("select planner.solve_run(%s)", [run_id])
        wall = time.monotonic() - started
        status, error, meta = conn.execute(
            "select status, error, result_metadata from allocation_planner_runs where id = %s",
            [run_id]).fetchone()
        solution = conn.execute("select planner.export_solution(%s)", [allocation_run]).fetchone()[0]
        instance = conn.execute("select planner.export_instance(%s)", [allocation_run]).fetchone()[0]
    print(f"\nplanner.solve_run finished in {wall:.1f} s: {status}" + (f" ({error})" if error else ""))
    meta = meta or {}
    print(summary({"status": status, "error": error, "metrics": meta.get("metrics"),
                   "explanation": meta.get("explanation"),
                   "lines": solution["lines"] if status == "COMPLETED" else []}, show_lines=5))
    violations = check(instance, solution)
    verdict = "no violations" if not violations else f"{len(violations)} violations"
    print(f"\nindependent checker: {verdict} in {len(solution['lines'])} lines")
    for v in violations[:20]:
        print(f"  {v}")
    return 0 if status == "COMPLETED" and not violations else 1
