"""The ``planner`` command: offline solve and check, the local database, following a run, the demo."""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from .instance import InvalidDocument, load_json, parse_instance, parse_request

REPO = Path(__file__).resolve().parents[2]
DEMO_INSTANCE = REPO / "examples" / "metro-pgy1.json"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except InvalidDocument as e:
        print(f"planner: invalid input: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planner", description=__doc__)
    sub = parser.add_subparsers()

    solve = sub.add_parser("solve", help="solve an instance document without a database")
    solve.add_argument("instance", type=Path)
    solve.add_argument("--lines", type=int, help="lines to build (default: as many as the posts hold)")
    solve.add_argument("--constraints", default="UNRESTRICTED", help="comma-separated rulesets, e.g. VIC_PGY1")
    solve.add_argument("--allow-partial", action="store_true", help="build as many lines as possible")
    solve.add_argument("--seconds", type=float, default=60.0, help="time limit (default 60)")
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument("--workers", type=int, default=1,
                       help="CP-SAT workers (default 1; more race, and the same seed may give other lines)")
    solve.add_argument("-o", "--output", type=Path, help="write the solution document here")
    solve.set_defaults(run=_solve)

    check = sub.add_parser("check", help="check a solution document against its instance")
    check.add_argument("solution", type=Path)
    check.add_argument("--instance", type=Path, required=True)
    check.set_defaults(run=_check)

    db = sub.add_parser("db", help="the local embedded database")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(run=_db)

    watch = sub.add_parser("watch", help="follow a planner run until it is final; exit 0 COMPLETED, "
                                         "1 FAILED or INFEASIBLE, 3 CANCELLED")
    watch.add_argument("run_id", metavar="RUN_ID", type=_run_id, help="the planner run's id")
    watch.add_argument("--url", help="database URL (default: the local database, `planner db url`)")
    watch.add_argument("--timeout", type=float, help=f"stop watching after S seconds (exit {WATCH_TIMED_OUT})")
    watch.set_defaults(run=_watch)

    demo = sub.add_parser("demo", help="load the demo service into the local database and let a worker solve it")
    demo.add_argument("--instance", type=Path, default=DEMO_INSTANCE)
    demo.add_argument("--constraints", default="VIC_PGY1")
    # with up to a minute's wait for pg_cron's first tick, the demo stays under two minutes
    demo.add_argument("--seconds", type=float, default=45.0, help="the solve's time limit (default 45)")
    demo.set_defaults(run=_demo)

    bench = sub.add_parser("bench", help="measure queue latency, pgbench beside a solve, and the solver against "
                                         "two baselines; write a markdown report (takes about 15 minutes)")
    bench.add_argument("--sizes", default="rural,regional,metropolitan,stress",
                       help="instance sizes for the solver section (default: all four)")
    bench.add_argument("--seconds", type=float, default=60.0,
                       help="this solver's time limit (default 60); the straightforward model gets twice it")
    bench.add_argument("--out", type=Path, default=Path("bench/results.md"), help="default bench/results.md")
    bench.add_argument("--sections", default="1,2,3,4,5",
                       help="1 queue latency, 2 pgbench beside a solve, 3 solver per size, "
                            "4 reproducibility on loose services, 5 writing lines (default all)")
    bench.set_defaults(run=_bench)
    return parser


def _run_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a planner run id (a UUID): {text!r}")


def _load_json(path: Path) -> dict:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SystemExit(f"planner: no such file: {path}")
    try:  # the same guard as in the database: no document too large or too deep for Python
        return load_json(text)
    except InvalidDocument as e:
        raise SystemExit(f"planner: {path} is not a JSON document to read: {e}")


def _solve(args) -> int:
    from .solution import to_document
    from .solve import solve

    instance = parse_instance(_load_json(args.instance))
    request = parse_request({
        "n_job_lines": args.lines or instance.default_lines(),
        "constraints": [c.strip() for c in args.constraints.split(",") if c.strip()],
        "allow_partial": args.allow_partial, "max_seconds": args.seconds,
        "seed": args.seed, "num_workers": args.workers}, instance.cohort, instance.n_terms)
    result = solve(instance, request)
    document = to_document(instance, request, result)
    text = json.dumps(document, indent=2)
    if args.output:
        args.output.write_text(text + "\n")
    else:
        print(text)
    print(summary(document), file=sys.stderr)
    return 0 if result.status == "COMPLETED" else 1


def _check(args) -> int:
    from .checker import check

    violations = check(_load_json(args.instance), _load_json(args.solution))
    for v in violations:
        print(v)
    lines = len(_load_json(args.solution).get("lines") or [])
    print(f"{len(violations)} violation(s) in {lines} line(s)", file=sys.stderr)
    return 1 if violations else 0


def _db(args) -> int:
    from .cluster import LocalCluster

    cluster = LocalCluster.default()
    if args.action == "start":
        cluster.start()
        print(cluster.url())
    elif args.action == "stop":
        cluster.stop()
    elif args.action == "status":
        print(json.dumps(cluster.status(), indent=2, default=str))
    else:
        print(cluster.url())
    return 0


# ---------------------------------------------------------------- watch

FINAL_EXIT_CODES = {"COMPLETED": 0, "INFEASIBLE": 1, "FAILED": 1, "CANCELLED": 3}
WATCH_TIMED_OUT = 4
WATCH_POLL_SECONDS = 0.25


def _watch(args) -> int:
    from .cluster import LocalCluster

    url = args.url or LocalCluster.default().url()
    try:
        return watch(url, args.run_id, timeout=args.timeout)
    except KeyboardInterrupt:
        print("\nstopped watching; the run goes on", file=sys.stderr)
        return 130


def watch(url: str, run_id: str, *, show_lines: int = 0, timeout: float | None = None,
          waiting_note: str | None = None, poll: float = WATCH_POLL_SECONDS, out=None) -> int:
    """Follow a planner run: a line per status change with the seconds since the watch began, then
    the result summary. Returns the exit code: FINAL_EXIT_CODES, 2 for an unknown run or an
    unreachable database, WATCH_TIMED_OUT when ``timeout`` passes first (the run goes on).

    ``waiting_note`` is printed once when the run has waited a second for a worker. On a terminal, a live
    counter of the seconds waited stands below the last status line.
    """
    import psycopg

    out = out or sys.stdout
    live = out.isatty()
    started = time.monotonic()
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as e:
        print(f"planner: cannot connect to {url}: {str(e).strip().splitlines()[-1]}\n"
              "(start the local database with `planner db start`, or give --url)", file=sys.stderr)
        return 2

    def say(text: str) -> None:
        print(("\r\033[K" if live else "") + text, file=out, flush=True)

    with conn:
        seen, noted = None, False
        while True:
            row = _run_state(conn, run_id)
            elapsed = time.monotonic() - started
            if row is None:
                print(f"planner: no planner run with id {run_id}", file=sys.stderr)
                return 2
            if (row["status"], row["attempt"]) != seen:  # a run queued again shows PENDING, then a new attempt
                seen = (row["status"], row["attempt"])
                say(f"{elapsed:5.1f}s {_describe(row)}")
            if row["status"] == "PENDING" and waiting_note and not noted and elapsed >= 1:
                say(waiting_note)  # once, and only when no worker took the run at once
                noted = True
            if row["status"] in FINAL_EXIT_CODES:
                break
            if timeout is not None and elapsed >= timeout:
                say(f"{elapsed:5.1f}s stopped watching: the run is still {row['status']} "
                    f"(it goes on; `planner watch {run_id}` follows it again)")
                return WATCH_TIMED_OUT
            if live:
                out.write(f"\r\033[K{elapsed:5.1f}s ...")
                out.flush()
            time.sleep(poll)
        document = _result_document(conn, row)
    say(summary(document, show_lines=show_lines))
    return FINAL_EXIT_CODES[row["status"]]


def _run_state(conn, run_id: str) -> dict | None:
    from psycopg.rows import dict_row

    cur = conn.cursor(row_factory=dict_row)
    return cur.execute("select id, status, attempt, worker_pid, error, result_metadata, allocation_run, "
                       "n_job_lines from allocation_planner_runs where id = %s", [run_id]).fetchone()


def _describe(row: dict) -> str:
    """One status, as a watch line."""
    status, error = row["status"], row["error"]
    metrics = (row["result_metadata"] or {}).get("metrics") or {}
    if status == "GENERATING":
        return f"GENERATING (attempt {row['attempt']}, pid {row['worker_pid']})"
    if status == "COMPLETED":
        return (f"COMPLETED: {metrics.get('lines_built', row['n_job_lines'])} of "
                f"{metrics.get('lines_requested', row['n_job_lines'])} lines")
    if status == "INFEASIBLE":
        explanation = (row["result_metadata"] or {}).get("explanation") or {}
        return f"INFEASIBLE: {explanation.get('summary') or error or 'no reason given'}"
    return status + (f": {error}" if error else "")  # PENDING (queued again: why), FAILED, CANCELLED


def _result_document(conn, row: dict) -> dict:
    """What summary() reads, from a final run: its status, error, metrics, explanation and lines."""
    meta = row["result_metadata"] or {}
    lines = []
    if row["status"] == "COMPLETED":
        # the allocation run's current lines, when this run wrote them (a later run may have replaced them)
        own = conn.execute("select exists (select 1 from job_lines where allocation_run_id = %s "
                           "and planner_run_id = %s)", [row["allocation_run"], row["id"]]).fetchone()[0]
        if own:
            lines = conn.execute("select planner.export_solution(%s) -> 'lines'",
                                 [row["allocation_run"]]).fetchone()[0]
    return {"status": row["status"], "error": row["error"],
            "metrics": meta.get("metrics") or {"lines_requested": row["n_job_lines"], "lines_built": 0},
            "explanation": meta.get("explanation"), "lines": lines}


def _bench(args) -> int:
    from .bench import parse_sizes, run_bench

    try:
        sizes = parse_sizes(args.sizes)
        sections = {int(s) for s in args.sections.split(",") if s.strip()}
    except ValueError as e:
        print(f"planner: {e}", file=sys.stderr)
        return 2
    if not sections <= {1, 2, 3, 4, 5}:
        print("planner: --sections lists 1, 2, 3, 4 and 5", file=sys.stderr)
        return 2
    return run_bench(sizes, args.seconds, args.out, sections)


def _demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.instance, [c.strip() for c in args.constraints.split(",")], args.seconds)


def summary(document: dict, show_lines: int = 0) -> str:
    """A readable account of a solution document."""
    m = document.get("metrics") or {}
    out = [f"status: {document['status']}",
           f"lines: {m.get('lines_built', 0)} built of {m.get('lines_requested')} requested"
           + (f"; proven upper bound {m['lines_upper_bound']}" if m.get("lines_upper_bound") is not None else "")]
    if m.get("solver_status"):
        out.append("solver: " + ", ".join(f"{k} {v}" for k, v in m["solver_status"].items()))
    if "reproducible" in m:
        out.append("reproducible: " + ("yes, the same request and seed give these lines again"
                                       if m["reproducible"] else
                                       "no (" + ", ".join(m.get("stopped_by_clock") or ["racing CP-SAT workers"])
                                       + (" cut short by the clock)" if m.get("stopped_by_clock") else ")")))
    if "duplicate_lines" in m:
        out.append(f"quality: {m['duplicate_lines']} duplicate lines, Hamming distance min "
                   f"{m.get('hamming_min')} mean {m.get('hamming_mean')}, "
                   f"{m.get('unfilled_total', 0)} unfilled places on excludable posts, "
                   f"leave peak {m.get('leave_peak_weekly')} lines a week")
    if m.get("seconds"):
        out.append("seconds: " + ", ".join(f"{k} {v}" for k, v in m["seconds"].items())
                   + f"; first solution at {m.get('time_to_first_solution')}; total {m.get('total_seconds')}")
    if document.get("error"):
        out.append(f"error: {document['error']}")
    explanation = document.get("explanation")
    if explanation:
        out.append(f"why: {explanation['summary']}")
        out.extend(f"  - {r['rule']}: {r['message']}" for r in explanation.get("reasons", []))
    for line in document.get("lines", [])[:show_lines]:
        out.append(f"{line['name']:>9}: " + " | ".join(_term_cells(line["rotations"])))
    return "\n".join(out)


def _term_cells(rotations: list[dict]) -> list[str]:
    """One cell per term: its post, and its leave weeks if any."""
    cells: dict[int, list[str]] = {}
    for r in rotations:
        cell = cells.setdefault(r["term"], ["?", ""])
        if r["kind"] == "clinical":
            cell[0] = r["position"]
        else:
            cell[1] += f" (leave w{r['start_week']}-{r['end_week']})"
    return [f"T{t} {post}{leave}" for t, (post, leave) in sorted(cells.items())]
