"""``planner bench`` (``make bench``): the queue, the machine and the solver, measured side by side.

One run writes one markdown report (``bench/results.md`` by default), the
machine and the UTC time at its top, and five sections, each next to a
baseline measured in the same run:

1. Queue latency: 20 tiny planner runs inserted at seeded random intervals
   across a pg_cron hand-over between worker loops; latency is
   ``started_at - created_at`` from the rows (server clock). Baseline: the
   same inserts dispatched only at minute boundaries, which is what a
   ``'* * * * *'`` pg_cron job that solves the pending runs gives.
2. Sharing the machine: pgbench select-only latency and TPS with the server
   idle, during a stress solve by a worker at ``solve_nice`` 10, and during
   the same solve at ``solve_nice`` 0 (the baseline: no priority lowering).
3. The solver per size, offline: this solver, a greedy first-fit baseline
   (a planner by hand), and the straightforward CP-SAT model of
   ``shared/solver-notes.md``; every solve in a fresh process so its peak
   memory is its own, every result through the independent checker.
4. Reproducibility on loose services, as many lines as possible: this
   solver as shipped (one CP-SAT worker, a deterministic budget) twice, each
   in a fresh process, beside the same with two racing workers (the
   baseline: CP-SAT's parallel portfolio).
5. Writing lines: a solved service's lines written again (restore_job_lines,
   the write path solve_run uses), commit included, with the tenancy checks
   on job lines and rotations (the members-only gate and the tiling check
   at commit), beside the same writes with those triggers disabled.

Sections 1, 2 and 5 use a throwaway cluster (``LocalCluster`` in a temporary
folder) with the pg_cron schedule on; it is stopped and removed at the end.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import math
import multiprocessing
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ortools.sat.python import cp_model

from receptor_planner import metrics
from receptor_planner.checker import check
from receptor_planner.instance import Instance, parse_instance, parse_request
from receptor_planner.leave import LeaveOption, leave_options
from receptor_planner.model import rulebook, structure
from receptor_planner.model.construct import LineLimits
from receptor_planner.model.variables import create_variables
from receptor_planner.rules import Rules, resolve_rules
from receptor_planner.solution import SOLUTION_FORMAT, rotations
from .cluster import run_worker
from .generator import REAL_SIZES, generate, planted_rules

SIZES = ("rural", "regional", "metropolitan", "stress", *REAL_SIZES)
SECTIONS = (1, 2, 3, 4, 5)
SEEDS = (0, 1)
RULESET = ["VIC_PGY1"]
BASELINE_WORKERS = 2  # the straightforward model, as solver-notes measured it; this solver runs its default, 1
SOLVER_SEED = 0
METHODS = ("this solver", "greedy first-fit", "straightforward CP-SAT")

# section 1
INSERTS = 20
INSERT_GAP = (0.5, 3.0)  # seconds between inserts, uniform
INSERT_SEED = 0
LATENCY_TARGET = 2.0  # the issue: a new run starts within 2 s of its insert (p95)
TINY = ("rural", 0)
# section 4
LOOSE_CASES = (("loose", False), ("loose, short of category D", True))  # (service, impossible)
LOOSE_SIZES = ("rural", "regional", "metropolitan", "stress")  # whose impossible mode withdraws category D
LOOSE_SEED = 1
LOOSE_RULES = ["VIC_PGY1", "MAX_1_RURAL"]
LOOSE_WORKERS = (1, 2)  # as shipped; the racing baseline
LOOSE_RUNS = 2
# section 2
PGBENCH = Path(os.environ.get("PLANNER_PG_BIN", "/usr/lib/postgresql/15/bin")) / "pgbench"
PGBENCH_SECONDS = 15
PGBENCH_DATABASE = "pgbench"


# ================================================================ the machine

def machine() -> dict:
    """CPU model, cores, memory, OS, PostgreSQL, OR-Tools and Python versions, and the load now."""
    import ortools

    from .cluster import PG_BIN

    cpuinfo = Path("/proc/cpuinfo").read_text()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    os_release = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    os_name = (re.search(r'PRETTY_NAME="([^"]+)"', os_release) or [None, platform.platform()])[1]
    postgres = subprocess.run([str(PG_BIN / "postgres"), "--version"], capture_output=True, text=True).stdout
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
            "os": f"{os_name}, kernel {platform.release()}", "postgres": postgres.strip(),
            "ortools": ortools.__version__, "python": platform.python_version(),
            "load": load_average(), "source": source_state()}


def source_state() -> str:
    """The commit measured, and the files of the package and schema that differ from it."""
    from .cluster import REPO_DIR

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO_DIR), *args], capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD").strip()
    if not commit:
        return "not a git checkout"
    changed = [line[3:] for line in git("status", "--porcelain", "--", "plpython", "sql").splitlines() if line]
    return f"{commit}" + (f" plus uncommitted changes to {', '.join(changed)}" if changed else " (clean)")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine shows here."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def table(headers: list[str], rows: list[list]) -> str:
    """A markdown table; None shows as an em dash."""
    def cell(value) -> str:
        return "—" if value is None else str(value)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _seconds(value: float | None, digits: int = 2) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


# ================================================================ section 3: three ways to build lines

@dataclass
class Built:
    """What one method built and how it went."""
    lines: list[tuple[tuple[str, ...], LeaveOption]]  # post key per term, leave option
    status: str
    bound: int | None = None  # proven most lines, when the method proves one
    first_seconds: float | None = None  # to the first solution with every requested line
    note: str = ""


def _greedy_line(instance: Instance, limits: LineLimits, free: Counter, shift: int):
    """One line, terms in order, each the first post (list order, rotated by ``shift``) with a free
    place that keeps the line valid (the rulebook's partial-line check: no rule broken, none out of
    reach in the terms left); None when some term has no such post."""
    order = list(range(len(instance.positions)))
    order = order[shift:] + order[:shift]
    placed: list[tuple[int, int]] = []
    for t in range(1, instance.n_terms + 1):
        pick = next((p for p in order if instance.positions[p].offered(t)
                     and free[instance.positions[p].key, t] > 0 and not limits.fails(placed + [(t, p)])), None)
        if pick is None:
            return None
        placed.append((t, pick))
    return tuple(instance.positions[p].key for _, p in placed)


def _greedy_restarts(instance: Instance, limits: LineLimits, free: Counter):
    """A line from the first start (post list rotated by 0, 1, ...) that completes it; None if none does."""
    for shift in range(len(instance.positions)):
        line = _greedy_line(instance, limits, free, shift)
        if line is not None:
            return line
    return None


def _greedy_leave(instance: Instance, count: int) -> list[LeaveOption]:
    """For each line in turn, the first leave option that keeps every week within max_concurrent."""
    cap = instance.leave.max_concurrent
    on_leave: Counter = Counter()
    chosen = []
    options = leave_options(instance)
    for _ in range(count):
        option = next((o for o in options if cap is None or all(
            on_leave[s + i] < cap for s, n in o.free for i in range(n))), None)
        if option is None:
            break
        on_leave.update(s + i for s, n in option.free for i in range(n))
        chosen.append(option)
    return chosen


def greedy(instance: Instance, rules: Rules, n: int) -> Built:
    """A planner by hand: lines one at a time; in each, terms in order, the first post with a free
    place that keeps the line valid. A line that gets stuck is restarted from term 1 with the post
    list rotated by one, up to once per post (no other backtracking); when every restart fails, no
    later line can do better, so it stops. Then leave: for each line, the first option that fits."""
    start = time.monotonic()
    limits = LineLimits(instance, rules)
    free = Counter({(p.key, t): p.capacity[t - 1] for p in instance.positions for t in p.terms})
    built = []
    while len(built) < n and not _instance_breaks(instance, rules):
        line = _greedy_restarts(instance, limits, free)
        if line is None:
            break
        free.subtract((key, t) for t, key in enumerate(line, start=1))
        built.append(line)
    leave = _greedy_leave(instance, len(built))
    lines = list(zip(built, leave))  # a line without leave is not complete
    complete = len(lines) == n
    note = "" if complete else (f"stuck after {len(built)} lines" if len(built) < n
                                else f"leave fits only {len(leave)} lines")
    return Built(lines, "COMPLETED" if complete else "PARTIAL",
                 first_seconds=round(time.monotonic() - start, 3) if complete else None, note=note)


def straightforward(instance: Instance, rules: Rules, n: int, seconds: float, seed: int = SOLVER_SEED,
                    workers: int = BASELINE_WORKERS) -> Built:
    """The model of shared/solver-notes.md: a boolean per line, term and post, a boolean per line
    and leave option, the structural rules and the rulebook's line rules as the solver states them,
    no symmetry handling, no constructed start, no objective."""
    start = time.monotonic()
    broken = _instance_breaks(instance, rules)
    if broken:
        return Built([], "INFEASIBLE", bound=0, note=broken)
    model = cp_model.CpModel()
    posts = instance.positions
    v = create_variables(model, instance, n, allow_partial=False, forced_lines=set())
    x = v.x
    options = leave_options(instance)
    y = [[model.new_bool_var(f"y[{l},{o}]") for o in range(len(options))] for l in range(n)]
    for l in range(n):
        model.add_exactly_one(y[l])
    structure.add_one_position_per_term(model, v)
    structure.add_no_repeat_position(model, v)
    structure.add_capacity(model, v)
    structure.add_min_fill(model, v)  # an excludable post may fall short
    rulebook.add_line_rules(model, v, rules)
    if instance.leave.max_concurrent is not None:
        for week in range(1, instance.period_weeks + 1):
            covering = [o for o, option in enumerate(options) if any(s <= week < s + k for s, k in option.free)]
            if covering:
                model.add(cp_model.LinearExpr.sum([y[l][o] for l in range(n) for o in covering])
                          <= instance.leave.max_concurrent)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.catch_sigint_signal = False
    first = FirstSolution(start)
    status = solver.solve(model, first)
    size = f"{len(x) + n * len(options)} booleans"
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        held = {(line, t): posts[p].key for (line, t, p), var in x.items() if solver.boolean_value(var)}
        lines = [(tuple(held[l, t] for t in range(1, instance.n_terms + 1)),  # x is not in term order (span posts)
                  options[next(o for o, var in enumerate(y[l]) if solver.boolean_value(var))])
                 for l in range(n)]
        return Built(lines, "COMPLETED", bound=n, first_seconds=first.at, note=size)
    if status == cp_model.INFEASIBLE:
        return Built([], "INFEASIBLE", bound=n - 1, note=f"proven infeasible; {size}")
    return Built([], "TIMEOUT", note=f"no solution within {seconds:g} s ({solver.status_name(status)}); {size}")


def _instance_breaks(instance: Instance, rules: Rules) -> str | None:
    """A year rule no line can meet on this term structure and leave, whatever its posts."""
    return "; ".join(f"{code}: {message}" for code, message in rulebook.year_breaks(rules, instance)) or None


class FirstSolution(cp_model.CpSolverSolutionCallback):
    """Notes the seconds since ``start`` (monotonic) of the first solution."""

    def __init__(self, start: float):
        super().__init__()
        self.start, self.at = start, None

    def on_solution_callback(self) -> None:
        if self.at is None:
            self.at = round(time.monotonic() - self.start, 3)


def this_solver(instance: Instance, n: int, seconds: float, constraints: list[str] = RULESET) -> Built:
    """receptor_planner.solve.solve, in process: all n lines (no allow_partial), as a run asks."""
    from receptor_planner.solve import solve

    request = parse_request({"n_job_lines": n, "constraints": constraints, "max_seconds": seconds,
                             "seed": SOLVER_SEED}, instance.cohort, instance.n_terms)
    result = solve(instance, request)
    m = result.metrics
    stages = ", ".join(f"{k} {v}" for k, v in (m.get("solver_status") or {}).items())
    note = "; ".join(filter(None, [stages, result.error,
                                   (result.explanation or {}).get("summary") if result.status != "COMPLETED"
                                   else None]))
    return Built([(line.posts, line.leave) for line in result.lines],
                 "COMPLETED" if result.status == "COMPLETED" else result.status,
                 bound=m.get("lines_upper_bound"), first_seconds=m.get("time_to_first_solution"), note=note)


def solution_document(instance: Instance, n: int, built: Built, constraints: list[str] = RULESET) -> dict:
    """A receptor-planner/solution@1 document of what a method built, for the checker."""
    return {
        "format": SOLUTION_FORMAT,
        "status": "COMPLETED" if built.lines else built.status,
        "request": {"n_job_lines": n, "constraints": constraints, "allow_partial": len(built.lines) < n},
        "lines": [{"name": f"Line {i}", "rotations": rotations(instance, posts, option.weeks())}
                  for i, (posts, option) in enumerate(built.lines, start=1)],
        "metrics": {"lines_requested": n, "lines_built": len(built.lines)},
        "explanation": None,
    }


def constraints_for(size: str) -> list[str]:
    """The rulesets a size is measured under: VIC_PGY1; for a service with local rules, the rulesets
    its planted lines keep (VIC_PGY1 and DISTINCT_SPECIALTIES), its own rules coming with the instance."""
    return planted_rules(size) if size in REAL_SIZES else list(RULESET)


def build(method: str, instance: Instance, n: int, seconds: float, constraints: list[str] = RULESET) -> Built:
    """Run one of METHODS on the instance under ``constraints``."""
    rules = resolve_rules(constraints, instance.cohort)
    if method == "this solver":
        return this_solver(instance, n, seconds, constraints)
    if method == "greedy first-fit":
        return greedy(instance, rules, n)
    if method == "straightforward CP-SAT":
        return straightforward(instance, rules, n, 2 * seconds)
    raise ValueError(f"unknown method {method!r}")


def evaluate(method: str, size: str, seed: int, seconds: float) -> dict:
    """Build the lines of one (method, instance) and measure them: a row of section 3.

    Peak memory is this process's maximum RSS right after the build (run it in a fresh process)."""
    doc = generate(size, seed)
    instance = parse_instance(doc)
    n = instance.default_lines()
    constraints = constraints_for(size)
    started = time.monotonic()
    built = build(method, instance, n, seconds, constraints)
    total = time.monotonic() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    violations = check(doc, solution_document(instance, n, built, constraints))
    posts = [p for p, _ in built.lines]
    hamming = metrics.hamming(posts)
    excludable = {p.key for p in instance.positions if p.excludable}
    unfilled = metrics.unfilled(instance, posts)["unfilled"]
    return {"method": method, "size": size, "seed": seed, "n": n, "built": len(built.lines),
            "bound": built.bound, "status": built.status, "note": built.note,
            "violations": len(violations), "violation_rules": dict(Counter(v.rule for v in violations)),
            "duplicates": len(posts) - len(set(posts)) if posts else None,
            "hamming_min": hamming["hamming_min"], "hamming_mean": hamming["hamming_mean"],
            "leave_preferred_share": metrics.leave_preferred_share(
                instance, [(posts, option.free) for posts, option in built.lines]),
            "unfilled_excludable": sum(u["unfilled"] for u in unfilled if u["position"] in excludable)
            if posts else None,
            "first_seconds": built.first_seconds, "total_seconds": round(total, 3),
            "peak_mib": round(peak_mib)}


def _child(conn, target, args) -> None:
    try:
        conn.send(("ok", target(*args)))
    except BaseException as e:  # reported as the row's failure, never lost
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def in_fresh_process(target, *args, timeout: float):
    """``target(*args)`` in a new interpreter (spawn): its peak RSS is its own. Raises on a
    failure or when it outlives ``timeout``."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(child, target, args), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise TimeoutError(f"{getattr(target, '__name__', target)}{args} took over {timeout:.0f} s")
        kind, value = parent.recv()
    except EOFError:  # it died without an answer (out of memory, a signal)
        process.join(5)
        kind, value = "error", f"the process ended without an answer (exit code {process.exitcode})"
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    if kind != "ok":
        raise RuntimeError(value)
    return value


def idle_process_mib() -> float:
    """Peak RSS of a fresh process that has imported the package and OR-Tools' CP-SAT, and solved nothing."""
    importlib.import_module("receptor_planner.solve")
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def solver_section(sizes: list[str], seconds: float, say) -> dict:
    """Section 3: every method on every size and seed, each in its own process."""
    rows = []
    for size in sizes:
        for seed in SEEDS:
            for method in METHODS:
                limit = 2 * seconds if method == "straightforward CP-SAT" else seconds
                say(f"solver: {method} on {size} seed {seed} (limit {limit:g} s) ...")
                try:
                    row = in_fresh_process(evaluate, method, size, seed, seconds, timeout=limit + 600)
                except (RuntimeError, TimeoutError) as e:
                    row = {"method": method, "size": size, "seed": seed, "status": "ERROR", "note": str(e)}
                say(f"  {row.get('status')}: {row.get('built')} of {row.get('n')} lines, "
                    f"{row.get('violations')} violations, {row.get('total_seconds')} s, {row.get('peak_mib')} MiB")
                rows.append(row)
    return {"rows": rows, "idle_mib": in_fresh_process(idle_process_mib, timeout=120), "seconds": seconds}


# ================================================================ section 4: the same lines again

def reproduce(size: str, impossible: bool, workers: int, seconds: float) -> dict:
    """One allow_partial solve of a loose service: a fingerprint of its lines and how it went."""
    from receptor_planner.solution import to_document
    from receptor_planner.solve import solve

    doc = generate(size, LOOSE_SEED, tight=False, impossible=impossible)
    instance = parse_instance(doc)
    request = parse_request({"n_job_lines": instance.default_lines(), "constraints": LOOSE_RULES,
                             "allow_partial": True, "max_seconds": seconds, "seed": SOLVER_SEED,
                             "num_workers": workers}, instance.cohort, instance.n_terms)
    started = time.monotonic()
    result = solve(instance, request)
    total = time.monotonic() - started
    document = to_document(instance, request, result)
    m = result.metrics
    statuses = m.get("solver_status") or {}
    return {"status": result.status, "n": request.n_job_lines, "built": len(result.lines),
            "bound": m.get("lines_upper_bound"), "violations": len(check(doc, document)),
            "construct": statuses.get("construct"),
            "searches": [k for k in statuses if k not in ("construct", "diversity")],
            "reproducible": m.get("reproducible"), "hamming_min": m.get("hamming_min"),
            "fingerprint": hashlib.sha256(json.dumps(document["lines"]).encode()).hexdigest()[:12],
            "total_seconds": round(total, 3),
            "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def reproducibility_section(sizes: list[str], seconds: float, say) -> dict:
    """Section 4: each loose case solved LOOSE_RUNS times per worker count, each in its own process,
    on the sizes of LOOSE_SIZES among ``sizes``."""
    rows = []
    for size in (s for s in sizes if s in LOOSE_SIZES):
        for case, impossible in LOOSE_CASES:
            for workers in LOOSE_WORKERS:
                say(f"reproducibility: {size}, {case}, {workers} worker(s) ...")
                runs = []
                for run in range(LOOSE_RUNS):
                    # every run after the first beside a busy core, as under a database's load
                    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if run else None
                    try:
                        runs.append(in_fresh_process(reproduce, size, impossible, workers, seconds,
                                                     timeout=seconds + 600))
                    except (RuntimeError, TimeoutError) as e:
                        runs.append({"status": "ERROR", "note": str(e)})
                    finally:
                        if busy:
                            busy.kill()
                            busy.wait()
                say("  " + ", ".join(f"{r.get('status')} {r.get('built')} lines {r.get('fingerprint')} "
                                     f"{r.get('total_seconds')} s" for r in runs))
                rows.append({"size": size, "case": case, "workers": workers, "runs": runs})
    return {"rows": rows, "seconds": seconds}


# ================================================================ the throwaway cluster

class Bench:
    """A throwaway cluster with the pg_cron schedule on, and a connection to it."""

    def __init__(self, say):
        import psycopg

        from .cluster import LocalCluster

        self.say = say
        self.root = Path(tempfile.mkdtemp(prefix="planner-bench-"))
        self.cluster = LocalCluster(self.root)
        say(f"starting a throwaway cluster in {self.root} ...")
        try:
            self.cluster.start()
            self.url = self.cluster.url()
            self.db = psycopg.connect(self.url, autocommit=True)
        except BaseException:
            self.cluster.stop()
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        self.server_version = self.value("show server_version")

    def close(self) -> None:
        """Stop the cluster and remove its folder."""
        try:
            self.db.close()
        finally:
            self.cluster.stop()
            shutil.rmtree(self.root, ignore_errors=True)

    def value(self, sql: str, args=None):
        return self.db.execute(sql, args).fetchone()[0]

    def import_doc(self, doc: dict) -> str:
        from psycopg.types.json import Jsonb

        return self.value("select planner.import_instance(%s)", [Jsonb(doc)])

    def insert_run(self, allocation_run: str, n: int, **options) -> str:
        from psycopg.types.json import Jsonb

        return self.value("insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options) "
                          "values (%s, %s, %s, %s) returning id", [allocation_run, n, RULESET, Jsonb(options)])

    def status(self, run_id: str) -> str:
        return self.value("select status from allocation_planner_runs where id = %s", [run_id])

    def wait(self, condition, timeout: float, what: str, interval: float = 0.1):
        """Poll ``condition`` until it returns something truthy; raise after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)
        return value

    def wait_final(self, run_id: str, timeout: float) -> str:
        return self.wait(lambda: (s := self.status(run_id)) not in ("PENDING", "GENERATING") and s,
                         timeout, f"run {run_id} to finish")

    def workers(self) -> list[tuple[int, dt.datetime]]:
        """(pid, query start) of the backends running a worker loop."""
        return self.db.execute("select pid, query_start from pg_stat_activity where query ilike '%%receptor_planner.pg import work%%' "
                               "and pid <> pg_backend_pid() order by query_start").fetchall()


# ================================================================ section 1: queue latency

def insert_gaps(seed: int = INSERT_SEED) -> list[float]:
    """The seeded seconds between consecutive inserts."""
    rng = random.Random(seed)
    return [round(rng.uniform(*INSERT_GAP), 3) for _ in range(INSERTS - 1)]


def sleep_until(wall_time: float) -> None:
    time.sleep(max(wall_time - time.time(), 0))


def insert_series(bench: Bench, allocation_runs: list[str], n: int, gaps: list[float], first_at: float) -> list[str]:
    """One tiny run per allocation run, the first at ``first_at`` (epoch seconds), then after each gap."""
    sleep_until(first_at)
    ids = []
    for i, allocation_run in enumerate(allocation_runs):
        if i:
            time.sleep(gaps[i - 1])
        ids.append(bench.insert_run(allocation_run, n, max_seconds=10, seed=SOLVER_SEED))
    return ids


def latencies(bench: Bench, ids: list[str], timeout: float) -> list[dict]:
    """Per run, once every run is final: created_at, latency, the claiming backend and the outcome."""
    bench.wait(lambda: bench.value("select count(*) from allocation_planner_runs where id = any(%s::uuid[]) "
                                   "and status not in ('PENDING', 'GENERATING')", [ids]) == len(ids),
               timeout, "every run to finish")
    rows = bench.db.execute(
        "select id, created_at, extract(epoch from started_at - created_at)::float8, worker_pid, status "
        "from allocation_planner_runs where id = any(%s::uuid[]) order by created_at", [ids]).fetchall()
    return [{"id": str(i), "created_at": c, "latency": lat, "pid": pid, "status": s} for i, c, lat, pid, s in rows]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1]


def summarise(rows: list[dict]) -> dict:
    values = [r["latency"] for r in rows]
    return {"p50": statistics.median(values), "p95": percentile(values, 0.95), "max": max(values),
            "over": sum(v > LATENCY_TARGET for v in values), "count": len(values),
            "completed": sum(r["status"] == "COMPLETED" for r in rows)}


class MinuteDispatcher(threading.Thread):
    """The naive baseline: at each minute boundary, a new session (as a pg_cron job gets) calls
    the worker loop until no run is pending, then waits for the next minute."""

    def __init__(self, url: str):
        super().__init__(name="minute-dispatcher", daemon=True)
        self.url, self.stop, self.errors = url, threading.Event(), []

    def run(self) -> None:
        import psycopg

        while not self.stop.wait(60 - time.time() % 60):
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    while conn.execute("select exists (select 1 from allocation_planner_runs "
                                       "where status = 'PENDING')").fetchone()[0]:
                        run_worker(conn, 1, 1)
            except Exception as e:  # reported in the results
                self.errors.append(f"{type(e).__name__}: {e}")


def queue_worker_phase(bench: Bench, allocation_runs: list[str], n: int, gaps: list[float]) -> dict:
    """The pg_cron workers as shipped: inserts centred on the next hand-over between worker loops."""
    span = sum(gaps)
    current = bench.wait(bench.workers, 90, "a pg_cron worker loop")[-1][1].timestamp()
    loop_seconds = 60.8  # a loop is 60 s plus a fresh backend's OR-Tools import (seen: 0.7-0.8 s)
    hand_over = current + loop_seconds
    while hand_over - span / 2 < time.time() + 1:
        hand_over += loop_seconds
    ids = insert_series(bench, allocation_runs, n, gaps, hand_over - span / 2)
    rows = latencies(bench, ids, 180)
    return {"rows": rows, "first_at": hand_over - span / 2, "hand_overs": hand_overs(bench, rows)}


def hand_overs(bench: Bench, rows: list[dict]) -> dict:
    """The hand-overs between worker loops while the inserts went on, from cron.job_run_details.

    When one loop ends, pg_cron starts the queued next one in a fresh backend, which imports OR-Tools
    before its first poll, so no run can start for about ``gap`` (between the two loops) plus
    ``extra``: a finished loop's length beyond its 60 s (the import and at most one last poll, an
    upper bound; the median over the finished loops)."""
    first, last = rows[0]["created_at"], rows[-1]["created_at"]
    loops = bench.db.execute(
        "select d.start_time, d.end_time from cron.job_run_details d join cron.job j using (jobid) "
        "where j.jobname = 'planner-worker-1' and d.status <> 'starting' order by d.start_time").fetchall()
    extras = [(end - start).total_seconds() - 60 for start, end in loops if end is not None]
    extra = statistics.median(extras) if extras else None
    pairs = [{"ended": ended, "started": started, "gap": (started - ended).total_seconds()}
             for (_, ended), (started, _) in zip(loops, loops[1:])
             if ended is not None and first <= ended <= last]
    return {"pairs": pairs, "extra": extra, "loops": len(extras)}


def queue_minute_phase(bench: Bench, allocation_runs: list[str], n: int, gaps: list[float],
                       offset: float) -> dict:
    """The baseline: the schedule off, the same inserts at the same second of the minute, dispatched
    only at minute boundaries by MinuteDispatcher."""
    bench.db.execute("update planner.settings set schedule_enabled = false")
    bench.db.execute("select planner.schedule_workers()")  # unschedules, and cancels the loop in progress
    bench.wait(lambda: not bench.workers(), 90, "the pg_cron worker loop to end")
    dispatcher = MinuteDispatcher(bench.url)
    dispatcher.start()
    now = time.time()
    first_at = now - now % 60 + offset
    if first_at < now + 1:
        first_at += 60
    try:
        ids = insert_series(bench, allocation_runs, n, gaps, first_at)
        rows = latencies(bench, ids, 180)
    finally:
        dispatcher.stop.set()
        dispatcher.join(120)
    return {"rows": rows, "first_at": first_at, "errors": dispatcher.errors}


def queue_section(bench: Bench, say) -> dict:
    """Section 1, first half: wait for a live worker, then the inserts with the pg_cron schedule on.
    The baseline half (queue_baseline) runs after section 2, which needs the schedule on too."""
    doc = generate(*TINY)
    n = parse_instance(doc).default_lines()
    allocation_runs = [bench.import_doc(doc) for _ in range(INSERTS + 1)]
    say("queue: waiting for pg_cron's first worker (a first tiny run to complete) ...")
    warm = bench.insert_run(allocation_runs[0], n, max_seconds=10, seed=SOLVER_SEED)
    waited = time.monotonic()
    status = bench.wait_final(warm, 180)
    say(f"  first tiny run {status} after {time.monotonic() - waited:.1f} s")
    gaps = insert_gaps()
    say(f"queue: {INSERTS} inserts over {sum(gaps):.1f} s around a worker hand-over (pg_cron on) ...")
    workers = queue_worker_phase(bench, allocation_runs[1:], n, gaps)
    say("  " + _summary_text(summarise(workers["rows"])))
    return {"n": n, "gaps": gaps, "workers": workers, "warm_status": status, "load": load_average()}


def queue_baseline(bench: Bench, section: dict, say) -> None:
    """Section 1, second half (after section 2, which needs the schedule on)."""
    say(f"queue baseline: the same {INSERTS} inserts, dispatched at minute boundaries (schedule off) ...")
    allocation_runs = [r for (r,) in bench.db.execute(
        "select allocation_run from allocation_planner_runs where id = any(%s::uuid[]) order by created_at",
        [[r["id"] for r in section["workers"]["rows"]]])]
    offset = section["workers"]["first_at"] % 60
    section["minute"] = queue_minute_phase(bench, allocation_runs, section["n"], section["gaps"], offset)
    section["minute_load"] = load_average()
    say("  " + _summary_text(summarise(section["minute"]["rows"])))


def _summary_text(s: dict) -> str:
    return (f"p50 {s['p50']:.2f} s, p95 {s['p95']:.2f} s, max {s['max']:.2f} s, "
            f"{s['over']} of {s['count']} over {LATENCY_TARGET:g} s")


# ================================================================ section 2: sharing the machine

def pgbench(bench: Bench) -> dict:
    """One select-only pgbench run: average latency (ms) and TPS, and where the CPU went meanwhile."""
    argv = [str(PGBENCH), "-h", "127.0.0.1", "-p", str(bench.cluster.port), "-U", "postgres",
            "-S", "-c", "2", "-j", "2", "-T", str(PGBENCH_SECONDS), "-n", PGBENCH_DATABASE]
    load = load_average()
    sampler = CpuSampler(bench.cluster.status()["pid"])
    sampler.start()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PGBENCH_SECONDS + 120)
    finally:
        cpu = sampler.finish()
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed: {done.stderr.strip()}")
    latency = float(re.search(r"latency average = ([\d.]+) ms", done.stdout).group(1))
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout).group(1))
    return {"latency_ms": latency, "tps": tps, "load": load, "cpu": cpu}


TICK = os.sysconf("SC_CLK_TCK")


def _task_stat(path: Path) -> tuple[float, int] | None:
    """(CPU seconds, nice) of a process or thread from its stat file; None if it is gone."""
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[16])


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy since boot (every core; not idle, not iowait)."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICK


class CpuSampler(threading.Thread):
    """Where the CPU goes during a measurement: every 0.2 s it reads the CPU time of each thread of
    the cluster's processes (the postmaster's children) with its nice value, telling the pg_cron
    workers (which solve) from the other backends; at the end it adds the pgbench client (this
    process's children) and the whole machine, so what other users of the machine took shows too."""

    def __init__(self, postmaster: int):
        super().__init__(name="cpu-sampler", daemon=True)
        self.postmaster, self.stop = postmaster, threading.Event()
        self.first: dict[tuple[int, int], float] = {}
        self.last: dict[tuple[int, int], tuple[float, int, bool]] = {}
        self.sampled = False
        self.began, self.busy0 = time.monotonic(), _machine_busy()
        self.children0 = _children_cpu()
        self.sample()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()

    def sample(self) -> None:
        for pid in self._cluster_processes():
            try:
                worker = Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres: pg_cron worker")
                tasks = list(Path(f"/proc/{pid}/task").iterdir())
            except (FileNotFoundError, ProcessLookupError):
                continue
            for task in tasks:
                stat = _task_stat(task / "stat")
                if stat is None:
                    continue
                key = (pid, int(task.name))
                self.first.setdefault(key, stat[0] if not self.sampled else 0.0)  # born later: all of it
                self.last[key] = (stat[0], stat[1], worker)
        self.sampled = True

    def _cluster_processes(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == self.postmaster:
                        pids.append(int(entry.name))
                except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                    continue
        return pids

    def finish(self) -> dict:
        """Stop sampling; CPU seconds by where they went, and the seconds the window lasted."""
        self.sample()
        self.stop.set()
        self.join()
        window = time.monotonic() - self.began
        used: Counter = Counter()
        for key, (ticks, nice, worker) in self.last.items():
            spent = ticks - self.first[key]
            used["worker_niced" if worker and nice > 0 else "worker" if worker else "backends"] += spent
        used["pgbench_client"] = _children_cpu() - self.children0
        machine = _machine_busy() - self.busy0
        used["others"] = max(machine - sum(used.values()), 0.0)
        return {k: round(v, 1) for k, v in used.items()} | {
            "machine": round(machine, 1), "window": round(window, 1),
            "capacity": round(window * (os.cpu_count() or 1), 1)}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pgbench_init(bench: Bench) -> None:
    """``pgbench -i -s 10`` into a database of its own in the same cluster."""
    bench.db.execute(f"create database {PGBENCH_DATABASE}")
    argv = [str(PGBENCH), "-h", "127.0.0.1", "-p", str(bench.cluster.port), "-U", "postgres",
            "-i", "-s", "10", "-q", PGBENCH_DATABASE]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench -i failed: {done.stderr.strip()}")


STRESS_QUEUE = 3  # stress runs queued at once, so a worker is solving throughout pgbench's window


def during_solves(bench: Bench, allocation_runs: list[str], n: int, nice: int, seconds: float) -> dict:
    """pgbench while a pg_cron worker solves stress runs at ``nice``: STRESS_QUEUE runs are queued so
    that one solve follows another; pgbench starts when the first is claimed. Runs still active
    afterwards are cancelled."""
    bench.db.execute("update planner.settings set solve_nice = %s", [nice])
    ids = [bench.insert_run(a, n, max_seconds=seconds, seed=SOLVER_SEED)
           for a in allocation_runs]
    bench.wait(lambda: bench.status(ids[0]) != "PENDING", 150, "a worker to claim the first stress run")
    result = pgbench(bench)
    rows = bench.db.execute("select status, extract(epoch from finished_at - started_at)::float8 "
                            "from allocation_planner_runs where id = any(%s::uuid[]) order by created_at",
                            [ids]).fetchall()
    for run_id in ids:
        if bench.status(run_id) in ("PENDING", "GENERATING"):
            bench.value("select planner.cancel_run(%s)", [run_id])
    for run_id in ids:
        bench.wait_final(run_id, 90)
    return result | {"runs": [(status, seconds_) for status, seconds_ in rows]}


def sharing_section(bench: Bench, seconds: float, say) -> dict:
    """Section 2: idle, solving at nice 10, solving at nice 0, idle again (a noise check)."""
    doc = generate("stress", 0)
    n = parse_instance(doc).default_lines()
    allocation_runs = [bench.import_doc(doc) for _ in range(STRESS_QUEUE)]
    out = {"n": n, "max_seconds": seconds}
    say("sharing: pgbench idle ...")
    out["idle"] = pgbench(bench)
    for name, nice in (("nice10", 10), ("nice0", 0)):
        say(f"sharing: pgbench during a stress solve at solve_nice {nice} ...")
        out[name] = during_solves(bench, allocation_runs, n, nice, seconds)
    bench.db.execute("update planner.settings set solve_nice = 10")
    say("sharing: pgbench idle again ...")
    out["idle_after"] = pgbench(bench)
    for key in ("idle", "nice10", "nice0", "idle_after"):
        say(f"  {key}: {out[key]['latency_ms']:.3f} ms, {out[key]['tps']:.0f} tps, CPU {out[key]['cpu']}")
    return out


# ================================================================ section 5: writing lines

# The row triggers the tenancy added to the write path: the members-only gate (a trusted writer passes
# it at once) and the tiling check, deferred to the commit.
TENANCY_TRIGGERS = (("job_lines", "authorize_write"), ("rotations", "authorize_write"), ("rotations", "check_tiling"))
WRITE_SIZES = ("metropolitan", "stress")
WRITE_REPEATS = 5


def writing_section(bench: Bench, seconds: float, say) -> dict:
    """Section 5: each size solved (synchronously, the pg_cron schedule off), then its lines written
    again and again, the modes alternating so both see the same machine."""
    bench.db.execute("update planner.settings set schedule_enabled = false")
    bench.db.execute("select planner.schedule_workers()")
    rows = []
    for size in WRITE_SIZES:
        doc = generate(size, 1)
        n = parse_instance(doc).default_lines()
        allocation_run = bench.import_doc(doc)
        for _ in range(2):  # the second solve leaves the first's lines in history
            run_id = bench.insert_run(allocation_run, n, max_seconds=seconds, seed=1)
            outcome = bench.value("select planner.solve_run(%s) ->> 'status'", [run_id])
            if outcome != "COMPLETED":
                raise RuntimeError(f"writing: the {size} solve ended {outcome}")
        instance = bench.value("select planner.export_instance(%s)", [allocation_run])
        history = bench.value("select id from job_lines_history where allocation_run_id = %s "
                              "order by created_at limit 1", [allocation_run])
        times: dict[str, list[float]] = {"on": [], "off": []}
        try:
            for i in range(2 * WRITE_REPEATS):
                mode = ("on", "off")[i % 2]
                for table_name, trigger in TENANCY_TRIGGERS:
                    bench.db.execute(f"alter table public.{table_name} "
                                     f"{'enable' if mode == 'on' else 'disable'} trigger {trigger}")
                started = time.perf_counter()
                bench.db.execute("select planner.restore_job_lines(%s)", [history])  # autocommit: with the commit
                times[mode].append(time.perf_counter() - started)
        finally:
            for table_name, trigger in TENANCY_TRIGGERS:
                bench.db.execute(f"alter table public.{table_name} enable trigger {trigger}")
        solution = bench.value("select planner.export_solution(%s)", [allocation_run])
        rotations = sum(len(line["rotations"]) for line in solution["lines"])
        rows.append({"size": size, "lines": len(solution["lines"]), "rotations": rotations,
                     "violations": len(check(instance, solution)), "times": times, "load": load_average()})
        say(f"  writing {size}: {len(solution['lines'])} lines, {rotations} rotations; median "
            f"{statistics.median(times['on']):.3f} s with the checks, {statistics.median(times['off']):.3f} s without")
    return {"rows": rows}


def writing_report(w: dict) -> str:
    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"

    rows = [[r["size"], r["lines"], r["rotations"], r["violations"], cell(r["times"]["on"]), cell(r["times"]["off"]),
             f"{statistics.median(r['times']['on']) - statistics.median(r['times']['off']):+.3f}", r["load"]]
            for r in w["rows"]]
    return "\n".join([
        "## 5. Writing lines: the tenancy checks on the write path",
        "",
        f"Each service (`generate(size, 1)`, VIC_PGY1) is solved twice (`planner.solve_run`); then the first solve's "
        f"lines are written back {WRITE_REPEATS} times in each mode, alternating, with "
        "`planner.restore_job_lines` (the write path `solve_run` uses: snapshot, delete, insert), timed from "
        "the statement to its commit, which runs the deferred tiling check. **With the checks**: as shipped. "
        "**Baseline, in the same run**: the same writes with the triggers "
        + ", ".join(f"`{t}` on `{table_name}`" for table_name, t in TENANCY_TRIGGERS) + " disabled. Violations: "
        "the independent checker on the lines written last.",
        "",
        table(["service", "lines", "rotations", "violations", "with the checks: median (min-max) s",
               "baseline, without: median (min-max) s", "difference (s)", "load average"], rows),
    ])


# ================================================================ the report

def report(facts: dict, when: dt.datetime, queue: dict | None, sharing: dict | None, solver: dict | None,
           again: dict | None, writing: dict | None, took: float) -> str:
    """The whole markdown report."""
    parts = [
        "# Receptor Planner benchmark",
        "",
        f"Written by `make bench` (`python -m receptor_planner_tools bench`) on {when:%Y-%m-%d %H:%M} UTC; "
        f"the run took {took / 60:.1f} min.",
        "",
        table(["machine", ""], [
            ["CPU", facts["cpu"]], ["cores", facts["cores"]], ["memory", f"{facts['memory_gib']} GiB"],
            ["OS", facts["os"]], ["PostgreSQL", facts.get("server_version") or facts["postgres"]],
            ["OR-Tools", facts["ortools"]], ["Python", facts["python"]], ["code measured", facts["source"]],
            ["load average at the start (1, 5, 15 min)", facts["load"]]]),
        "",
        "Every timing carries whatever else ran on the machine: the load average at the start and beside "
        "each measurement says how busy it was. Compare the columns of one table (measured in the same "
        "minutes) rather than absolute numbers.",
    ]
    if queue:
        parts += ["", queue_report(queue)]
    if sharing:
        parts += ["", sharing_report(sharing)]
    if solver:
        parts += ["", solver_report(solver)]
    if again:
        parts += ["", reproducibility_report(again)]
    if writing:
        parts += ["", writing_report(writing)]
    return "\n".join(parts) + "\n"


def queue_report(q: dict) -> str:
    workers = summarise(q["workers"]["rows"])
    minute = summarise(q["minute"]["rows"]) if q.get("minute") else None
    verdict = "meets" if workers["p95"] <= LATENCY_TARGET else "misses"
    lines = [
        "## 1. Queue latency: a new run starts within 2 s of its insert (p95 over 20 inserts)",
        "",
        f"{INSERTS} tiny runs (`generate{TINY}`, {q['n']} lines, VIC_PGY1), one per allocation run, inserted one "
        f"at a time at seeded random intervals of {INSERT_GAP[0]:g}-{INSERT_GAP[1]:g} s "
        f"({sum(q['gaps']):.1f} s in all). Latency is `started_at - created_at` from the rows (server clock).",
        "",
        "* **pg_cron workers as shipped**: the schedule on (a job per worker slot each minute; the worker loop "
        "loops 60 s, polling every `poll_seconds` = 0.25 s), after a first run had completed (a live worker). "
        "The inserts are centred on the moment one worker loop hands over to the next: " + _crossing(q),
        "* **baseline, measured in the same run**: the schedule switched off, and a dispatcher that at each "
        "minute boundary opens a new session (as a pg_cron job gets one) and runs the worker loop `planner.worker_statement(1, 1)` until "
        "no run is pending: what a `'* * * * *'` job that solves the pending runs gives. Its inserts start at "
        "the same second of the minute, with the same intervals. A run inserted while it drains the queue "
        "is picked up at once, which flatters it a little.",
        "",
        table(["", "pg_cron workers as shipped", "baseline: dispatch at each minute boundary"],
              _queue_rows(q, workers, minute)),
        "",
        f"Verdict: the shipped queue **{verdict}** the {LATENCY_TARGET:g} s p95 target "
        f"(p95 {workers['p95']:.2f} s)" + (f"; the once-a-minute baseline's p95 is {minute['p95']:.2f} s."
                                          if minute else "."),
        "",
        _hand_over_text(q["workers"]["hand_overs"]),
        "",
        "<details><summary>Per insert: UTC time of the insert, latency (s), the backend that claimed it</summary>",
        "",
        table(["#", "pg_cron: inserted", "latency", "backend", "baseline: inserted", "latency"], _queue_detail(q)),
        "",
        "</details>",
    ]
    if (q.get("minute") or {}).get("errors"):
        lines += ["", "Dispatcher errors: " + "; ".join(q["minute"]["errors"])]
    return "\n".join(lines)


def _queue_rows(q: dict, workers: dict, minute: dict | None) -> list[list]:
    def pair(key: str, shown) -> list:
        return [shown(workers[key] if key != "load" else q["load"]),
                None if minute is None else shown(minute[key] if key != "load" else q.get("minute_load"))]

    def seconds(v) -> str:
        return f"{v:.2f}"

    return [["p50 (s)", *pair("p50", seconds)], ["p95 (s)", *pair("p95", seconds)],
            ["max (s)", *pair("max", seconds)],
            [f"runs over {LATENCY_TARGET:g} s", *pair("over", lambda v: f"{v} of {INSERTS}")],
            ["runs COMPLETED", *pair("completed", lambda v: f"{v} of {INSERTS}")],
            ["load average (1, 5, 15 min)", *pair("load", str)]]


def _crossing(q: dict) -> str:
    rows = q["workers"]["rows"]
    pids = [r["pid"] for r in rows]
    changes = sum(a != b for a, b in zip(pids, pids[1:]))
    first, last = rows[0]["created_at"], rows[-1]["created_at"]
    crossed = first.replace(second=0, microsecond=0) != last.replace(second=0, microsecond=0)
    return (f"the inserts ran from {_wall(first)} to {_wall(last)} UTC, "
            f"{'across' if crossed else 'not across'} a minute boundary, and the claiming backend changed "
            f"{changes} time(s) (a new loop took over).")


def _hand_over_text(h: dict) -> str:
    if not h["pairs"]:
        return "No hand-over between worker loops happened during the inserts."
    extra = "unknown" if h["extra"] is None else f"{h['extra']:.2f} s"
    seen = "; ".join(f"loop ended {_wall(p['ended'])}, next began {_wall(p['started'])} "
                     f"(gap {p['gap'] * 1000:.0f} ms)" for p in h["pairs"])
    worst = None if h["extra"] is None else max(p["gap"] for p in h["pairs"]) + h["extra"] + 0.25
    return (f"Hand-over (from `cron.job_run_details`): {seen}. A fresh loop spends about {extra} beyond its "
            f"60 s (median of {h['loops']} finished loops: the backend's OR-Tools import before its first poll, "
            "plus at most one last poll), so a run inserted just as a loop ends waits at most about "
            + ("an unknown time." if worst is None else
               f"{worst:.2f} s (gap + import + one poll), {'within' if worst <= LATENCY_TARGET else 'over'} "
               f"the {LATENCY_TARGET:g} s target. Random inserts rarely land in that window, so the table "
               "above may not show it."))


def _queue_detail(q: dict) -> list[list]:
    minute_rows = (q.get("minute") or {}).get("rows") or [None] * INSERTS
    return [[i + 1, _wall(w["created_at"]), f"{w['latency']:.2f}", w["pid"],
             _wall(m["created_at"]) if m else None, f"{m['latency']:.2f}" if m else None]
            for i, (w, m) in enumerate(zip(q["workers"]["rows"], minute_rows))]


def _wall(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%H:%M:%S.%f")[:-4]


def sharing_report(s: dict) -> str:
    idle = s["idle"]
    names = [("idle", "server idle (workers polling)"), ("nice10", "stress solves at solve_nice 10"),
             ("nice0", "stress solves at solve_nice 0 (baseline)"), ("idle_after", "server idle again (noise check)")]
    rows = []
    for key, label in names:
        r, cpu = s[key], s[key]["cpu"]
        rows.append([label, f"{r['latency_ms']:.3f}", f"{r['latency_ms'] / idle['latency_ms']:.2f}",
                     f"{r['tps']:.0f}", f"{r['tps'] / idle['tps']:.2f}",
                     f"{cpu.get('worker_niced', 0):.1f} / {cpu.get('worker', 0):.1f}",
                     f"{cpu.get('backends', 0):.1f}", f"{cpu['pgbench_client']:.1f}",
                     f"{cpu['others']:.1f}", f"{cpu['machine']:.1f} of {cpu['capacity']:.0f}", r["load"],
                     _runs_note(r.get("runs"))])
    headers = ["", "latency (ms)", "× idle", "TPS", "× idle", "solver CPU s: niced / nice 0",
               "pgbench's backends CPU s", "pgbench client CPU s", "other users' CPU s", "machine busy CPU s",
               "load average", "stress runs in the window"]
    return "\n".join([
        "## 2. Sharing the machine: pgbench while a worker solves",
        "",
        f"`pgbench -i -s 10` into a database `pgbench` in the same cluster, then `pgbench -S -c 2 -j 2 "
        f"-T {PGBENCH_SECONDS} -n`: idle; while the pg_cron worker solves `generate('stress', 0)` ({s['n']} lines, "
        f"VIC_PGY1, max_seconds {s['max_seconds']:g}, one CP-SAT worker, the default) as planner runs with "
        "`planner.settings.solve_nice = 10`; the same with `solve_nice = 0` (the baseline: no priority "
        f"lowering); and idle again. {STRESS_QUEUE} stress runs (one per allocation run) are queued at once so "
        "the worker solves one after another through the whole window; pgbench starts when the first is "
        "claimed, and the runs still active after it are cancelled.",
        "",
        "Where the CPU went during each pgbench window, sampled every 0.2 s from /proc: the pg_cron worker's "
        "threads split by nice value (niced: the solve's threads, which build the model and search; nice 0: "
        "the backend's main thread, which reads the tables, polls for a cancel and writes the lines), the "
        "cluster's other backends (pgbench's), "
        "the pgbench client, and the rest of the machine's busy time (other engineers' test suites). "
        + _autogroup_note(),
        "",
        table(headers, rows),
        "",
        _sharing_summary(s),
    ])


def _sharing_summary(s: dict) -> str:
    """What the table says, in words, computed from it."""
    idle = s["idle"]["latency_ms"]
    noise = abs(s["idle_after"]["latency_ms"] - idle) / idle
    cpu = s["nice10"]["cpu"]
    solver = cpu.get("worker_niced", 0) + cpu.get("worker", 0)
    share = cpu.get("worker_niced", 0) / solver if solver else 0
    return (f"Latency against idle: {s['nice10']['latency_ms'] / idle:.2f}× while solving at nice 10, "
            f"{s['nice0']['latency_ms'] / idle:.2f}× at nice 0; the two idle runs differ by {noise:.0%}, "
            "which is the noise floor of this shared machine. In the nice-10 window the worker used "
            f"{solver:.1f} CPU-s, of which {cpu.get('worker_niced', 0):.1f} ({share:.0%}) ran in niced "
            "threads (the whole solve runs in them; the backend's main thread only polls for a cancel, reads "
            f"the tables and writes the lines). Other users of the machine took {cpu['others']:.1f} of "
            f"its {cpu['capacity']:.0f} CPU-s in that window.")


def _autogroup_note() -> str:
    """Whether nice values compete across the machine or only inside a session's group."""
    path = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if not path.exists() or path.read_text().strip() != "1":
        return ""
    return ("The kernel schedules by session group (`sched_autogroup_enabled` = 1): the cluster's processes "
            "share the postmaster's group, so nice orders the worker against pgbench's backends, while the "
            "pgbench client and other users' processes compete as groups of their own whatever their nice.")


def _runs_note(runs: list | None) -> str | None:
    if not runs:
        return None
    return ", ".join(status + (f" {took:.1f} s" if took is not None else "") for status, took in runs)


def solver_report(s: dict) -> str:
    rows = []
    for r in s["rows"]:
        if r.get("status") == "ERROR":
            rows.append([r["size"], r["seed"], r["method"], "ERROR"] + [None] * 10 + [r["note"]])
            continue
        violations = str(r["violations"]) + (" (" + ", ".join(f"{k} {v}" for k, v in
                                                                r["violation_rules"].items()) + ")"
                                             if r["violations"] else "")
        rows.append([r["size"], r["seed"], r["method"], f"{r['built']} / {r['n']} / "
                     f"{r['bound'] if r['bound'] is not None else '—'}", violations, r["duplicates"],
                     r["hamming_min"], r["hamming_mean"], r["unfilled_excludable"], r.get("leave_preferred_share"),
                     _seconds(r["first_seconds"]), _seconds(r["total_seconds"]), r["peak_mib"],
                     r["status"], r["note"]])
    headers = ["size", "seed", "method", "lines built / requested / proven bound", "checker violations",
               "duplicate lines", "Hamming min", "Hamming mean", "unfilled excludable places",
               "planned leave in preferred terms", "first complete solution (s)", "total (s)", "peak RSS (MiB)",
               "status", "notes"]
    return "\n".join([
        "## 3. The solver per size, offline",
        "",
        f"`generator.generate(size, seed)` (tight: every post filled exactly, a planted solution), seeds "
        f"{', '.join(map(str, SEEDS))}; VIC_PGY1, and for the services with local rules "
        f"({', '.join(f'`{size}`' for size in REAL_SIZES)}: core terms by line rules, a linked second-site post, "
        "a home site, a two-term community post, fixed year-end leave, blocked orientation weeks, leave preferred "
        f"in non-core terms) {' + '.join(planted_rules(REAL_SIZES[0]))}; n = `parse_instance(doc).default_lines()`, "
        "all n lines asked (no allow_partial). Each solve runs in a fresh process (multiprocessing, spawn), "
        f"solver seed {SOLVER_SEED}:",
        "",
        f"* **this solver**: `receptor_planner.solve.solve`, max_seconds {s['seconds']:g}, one CP-SAT worker (the "
        "default, reproducible). Notes list its stages' CP-SAT statuses.",
        "* **greedy first-fit**: a planner by hand (in `bench.py`): lines one at a time, terms in order, the first "
        "post with a free place that keeps the line valid (counting what the remaining terms can still "
        "give); a stuck line is restarted with the post list rotated by one, at most once per post; then for "
        "each line the first leave option that keeps every week within max_concurrent. It proves no bound.",
        f"* **straightforward CP-SAT**: the model of `shared/solver-notes.md` (in `bench.py`): a boolean per "
        "line, term and post and per line and leave option (`leave.leave_options`), every rule of the run, no "
        f"symmetry handling, no objective; {BASELINE_WORKERS} CP-SAT workers, time limit {2 * s['seconds']:g} s.",
        "",
        "Violations come from `receptor_planner.checker` on the solution document built with "
        "`solution.rotations` (a partial result misses MIN_FILL places by construction). Unfilled excludable "
        "places count places short of min_fill on excludable posts (`metrics.unfilled`). Planned leave in preferred "
        "terms is `metrics.leave_preferred_share` (— where the service prefers no terms). On a tight instance "
        "every complete set of lines fills each post exactly, so the mean Hamming distance is fixed by the "
        "capacities and cannot tell complete results apart; duplicates and the minimum distance can. First complete "
        "solution and total are wall seconds from before the model is built; peak RSS is the process's "
        f"maximum resident set (`ru_maxrss`), of which about {s['idle_mib']} MiB is the interpreter with the "
        "package and OR-Tools imported.",
        "",
        table(headers, rows),
        "",
        "Side by side, all n lines (time to the first complete solution, s; — when none was found):",
        "",
        table(["size", "seed", "this solver", "greedy first-fit", "straightforward CP-SAT",
               "straightforward ÷ this solver"], _speed_rows(s["rows"])),
        "",
        targets_verdict(s["rows"]),
    ])


def reproducibility_report(r: dict) -> str:
    rows = []
    for row in r["rows"]:
        runs = row["runs"]
        first = runs[0]
        same = len({run.get("fingerprint") for run in runs}) == 1 and "fingerprint" in first
        rows.append([row["size"], row["case"], row["workers"], first.get("status"),
                     f"{first.get('built')} / {first.get('n')} / {first.get('bound')}",
                     " / ".join(str(run.get("violations")) for run in runs), first.get("construct"),
                     ", ".join(first.get("searches") or []) or None, first.get("reproducible"),
                     "yes" if same else "**no**", first.get("hamming_min"),
                     " / ".join(_seconds(run.get("total_seconds")) or "—" for run in runs),
                     max((run.get("peak_mib") or 0) for run in runs) or None])
    return "\n".join([
        "## 4. The same lines again: loose services, as many lines as possible",
        "",
        f"`generator.generate(size, {LOOSE_SEED}, tight=False)` (spare places; \"short of category D\" also "
        "withdraws category D until too few places are left for every line), "
        f"{' + '.join(LOOSE_RULES)}, allow_partial, max_seconds {r['seconds']:g}, solver seed {SOLVER_SEED}. "
        f"Each configuration solves {LOOSE_RUNS} times, each in a fresh process (its own string hash seed), the "
        "first on a quiet machine and the others beside a process that keeps one core busy; the "
        "lines are compared by a hash of the solution document's lines. One worker is the solver as shipped; "
        "two racing workers (CP-SAT's parallel portfolio) are the baseline. \"reproducible\" is the solver's "
        "own `metrics.reproducible`; the searches are the CP-SAT stages that ran besides checking the "
        "constructed start.",
        "",
        table(["size", "service", "CP-SAT workers", "status", "lines built / requested / proven bound",
               "checker violations (each run)", "constructed start", "CP-SAT searches", "reproducible",
               "same lines in every run", "Hamming min", "total s (each run)", "peak RSS (MiB)"], rows),
    ])


TARGET_MOST_LINES = 150  # the speed targets hold on services of up to this many lines
TARGET_FIRST_SECONDS = 1.0
TARGET_TOTAL_SECONDS = 5.0
TARGET_PREFERRED_SHARE = 0.9


def targets_verdict(rows: list[dict]) -> str:
    """Whether this solver met the targets on every service of up to TARGET_MOST_LINES lines: all
    lines with the count proven and no violation, the first complete solution and the whole solve
    within their times, and planned leave in preferred terms where a service prefers some."""
    ours = [r for r in rows if r["method"] == "this solver" and r["n"] <= TARGET_MOST_LINES]
    checks = [
        ("all lines, count proven, 0 violations",
         lambda r: r["built"] == r["bound"] == r["n"] and r["violations"] == 0),
        (f"first complete solution within {TARGET_FIRST_SECONDS:g} s",
         lambda r: r["first_seconds"] is not None and r["first_seconds"] <= TARGET_FIRST_SECONDS),
        (f"whole solve within {TARGET_TOTAL_SECONDS:g} s", lambda r: r["total_seconds"] <= TARGET_TOTAL_SECONDS),
        (f"at least {TARGET_PREFERRED_SHARE:.0%} of planned leave in preferred terms",
         lambda r: r["leave_preferred_share"] is None or r["leave_preferred_share"] >= TARGET_PREFERRED_SHARE),
    ]
    parts = []
    for words, met in checks:
        missed = [f"{r['size']} seed {r['seed']}" for r in ours if not met(r)]
        parts.append(f"{words}: {'**met**' if not missed else '**missed** on ' + ', '.join(missed)}")
    return (f"Targets on the {len(ours)} services of up to {TARGET_MOST_LINES} lines (this solver): "
            + "; ".join(parts) + ".")


def _speed_rows(rows: list[dict]) -> list[list]:
    """Per instance, each method's time to its first complete solution, and the ratio of the two models."""
    by_instance: dict[tuple[str, int], dict[str, dict]] = {}
    for r in rows:
        by_instance.setdefault((r["size"], r["seed"]), {})[r["method"]] = r
    out = []
    for (size, seed), methods in by_instance.items():
        first = {m: methods.get(m, {}).get("first_seconds") for m in METHODS}
        ours, theirs = first["this solver"], first["straightforward CP-SAT"]
        ratio = f"{theirs / ours:.1f}×" if ours and theirs else None
        out.append([size, seed, *(_seconds(first[m]) for m in METHODS), ratio])
    return out


# ================================================================ main

def run_bench(sizes: list[str], seconds: float, out: Path, sections: set[int] | None = None) -> int:
    """Run the sections (default all), write the report to ``out``; 0 when every section ran."""
    sections = sections or set(SECTIONS)
    began, when = time.monotonic(), dt.datetime.now(dt.timezone.utc)

    def say(text: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {text}", flush=True)

    facts = machine()
    say(f"machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory_gib']} GiB, load {facts['load']}")
    queue = sharing = solver = again = writing = None
    failed = []
    if sections & {1, 2, 5}:
        bench = Bench(say)
        facts["server_version"] = f"{bench.server_version} (server), pg_cron " + str(
            bench.value("select extversion from pg_extension where extname = 'pg_cron'"))
        try:
            if 2 in sections:
                pgbench_init(bench)
            if 1 in sections:
                queue = _guarded(failed, "queue latency", lambda: queue_section(bench, say))
            if 2 in sections:
                sharing = _guarded(failed, "sharing", lambda: sharing_section(bench, seconds, say))
            if queue:
                _guarded(failed, "queue baseline", lambda: queue_baseline(bench, queue, say))
            if 5 in sections:
                writing = _guarded(failed, "writing lines", lambda: writing_section(bench, seconds, say))
        finally:
            bench.close()
            say("throwaway cluster stopped and removed")
    if 3 in sections:
        solver = solver_section(sizes, seconds, say)
    if 4 in sections:
        again = reproducibility_section(sizes, seconds, say)
    text = report(facts, when, queue, sharing, solver, again, writing, time.monotonic() - began)
    if failed:
        text += "\n## Problems\n\n" + "\n".join(f"* {name}: {error}" for name, error in failed) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    say(f"wrote {out}")
    return 1 if failed else 0


def _guarded(failed: list, name: str, step):
    """Run a section; a failure is reported in the results instead of losing the others."""
    try:
        return step()
    except Exception as e:
        failed.append((name, f"{type(e).__name__}: {e}"))
        print(f"bench: {name} failed: {e}", file=sys.stderr)
        return None


def parse_sizes(text: str) -> list[str]:
    sizes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise ValueError(f"unknown size(s) {', '.join(unknown)}; sizes: {', '.join(SIZES)}")
    return sizes


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(machine(), indent=2))
