"""The ``planner`` command: offline solve and check, service workbooks in, reports out, the local database,
following a run, the demo."""
from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

from receptor_planner.instance import InvalidDocument, load_json, parse_instance, parse_request
from tabulate import tabulate

from .paths import data_path
from .export_cli import add_export_arguments, run_export, write_solution_workbook
from .report_cli import add_report_arguments, run_report, write_report
from .workbook_cli import add_import_arguments, add_template_arguments, run_import, run_template
from .watch import WATCH_TIMED_OUT, summary, watch

DEMO_INSTANCE = data_path("examples", "metro-pgy1.json")


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

    solve = sub.add_parser("solve", help="solve an instance document, or a service workbook, without a database")
    solve.add_argument("instance", type=Path, help="INSTANCE.json, or a service workbook SERVICE.xlsx")
    solve.add_argument("--lines", type=int, help="lines to build (default: as many as the posts hold)")
    solve.add_argument("--constraints", default="UNRESTRICTED", help="comma-separated rulesets, e.g. VIC_PGY1")
    solve.add_argument("--allow-partial", action="store_true", help="build as many lines as possible")
    solve.add_argument("--seconds", type=float, default=60.0, help="time limit (default 60)")
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument("--workers", type=int, default=1,
                       help="CP-SAT workers (default 1; more race, and the same seed may give other lines)")
    solve.add_argument("-o", "--output", type=Path,
                       help="write the solution document here (a .xlsx name: a PMCV-style workbook instead)")
    solve.add_argument("--report", type=Path, metavar="FILE.html", help="also write the year as one HTML page")
    _json_flag(solve, "print the solution document alone (no summary)")
    solve.set_defaults(run=_solve)

    check = sub.add_parser("check", help="check a solution document against its instance")
    check.add_argument("solution", type=Path)
    check.add_argument("--instance", type=Path, required=True)
    _json_flag(check, "print the violations as one JSON object")
    check.set_defaults(run=_check)

    db = sub.add_parser("db", help="the local embedded database")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    _json_flag(db, "print the result as one JSON object")
    db.set_defaults(run=_db)

    watch = sub.add_parser("watch", help="follow a planner run until it is final; exit 0 COMPLETED, "
                                         "1 FAILED or INFEASIBLE, 3 CANCELLED")
    watch.add_argument("run_id", metavar="RUN_ID", type=_run_id, help="the planner run's id")
    watch.add_argument("--url", help="database URL (default: the local database, `planner db url`)")
    watch.add_argument("--timeout", type=float, help=f"stop watching after S seconds (exit {WATCH_TIMED_OUT})")
    _json_flag(watch, "one JSON object a line: each status change, then the result")
    watch.set_defaults(run=_watch)

    template = sub.add_parser("template", help="write a blank service workbook to fill in")
    add_template_arguments(template)
    template.set_defaults(run=run_template)

    import_ = sub.add_parser("import", help="a service workbook (xlsx) or its Posts sheet (csv) into the database, "
                                            "or with --json-out into an instance document")
    add_import_arguments(import_)
    import_.set_defaults(run=run_import)

    export = sub.add_parser("export", help="an allocation run's lines as a PMCV-style workbook")
    add_export_arguments(export)
    export.set_defaults(run=run_export)

    report = sub.add_parser("report", help="an allocation run's year as one static HTML page")
    add_report_arguments(report)
    report.set_defaults(run=run_report)

    demo = sub.add_parser("demo", help="load the demo service into the local database and let a worker solve it")
    demo.add_argument("--instance", type=Path, default=DEMO_INSTANCE)
    demo.add_argument("--constraints", default="VIC_PGY1")
    # with up to a minute's wait for pg_cron's first tick, the demo stays under two minutes
    demo.add_argument("--seconds", type=float, default=45.0, help="the solve's time limit (default 45)")
    demo.set_defaults(run=_demo)

    bench = sub.add_parser("bench", help="measure queue latency, pgbench beside a solve, and the solver against "
                                         "two baselines; write a markdown report (takes about 15 minutes)")
    bench.add_argument("--sizes", default="rural,regional,metropolitan,stress,real-regional,real-metropolitan",
                       help="instance sizes for the solver section (default: all six)")
    bench.add_argument("--seconds", type=float, default=60.0,
                       help="this solver's time limit (default 60); the straightforward model gets twice it")
    bench.add_argument("--out", type=Path, default=Path("bench/results.md"), help="default bench/results.md")
    bench.add_argument("--sections", default="1,2,3,4,5",
                       help="1 queue latency, 2 pgbench beside a solve, 3 solver per size, "
                            "4 reproducibility on loose services, 5 writing lines (default all)")
    bench.set_defaults(run=_bench)
    return parser


def _json_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=what)


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, default=str))


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


def _load_instance(path: Path) -> dict:
    """An instance document, from JSON or from a service workbook (every problem names its cell)."""
    if path.suffix.lower() != ".xlsx":
        return _load_json(path)
    from receptor_planner.service_workbook import read_workbook

    try:
        return read_workbook(path.read_bytes())
    except FileNotFoundError:
        raise SystemExit(f"planner: no such file: {path}")


def _solve(args) -> int:
    from receptor_planner.solution import to_document
    from receptor_planner.solve import solve

    instance_doc = _load_instance(args.instance)
    instance = parse_instance(instance_doc)
    request = parse_request({
        "n_job_lines": args.lines or instance.default_lines(),
        "constraints": [c.strip() for c in args.constraints.split(",") if c.strip()],
        "allow_partial": args.allow_partial, "max_seconds": args.seconds,
        "seed": args.seed, "num_workers": args.workers}, instance.cohort, instance.n_terms)
    result = solve(instance, request)
    document = to_document(instance, request, result)
    text = json.dumps(document, indent=2)
    if args.output and args.output.suffix.lower() == ".xlsx":
        write_solution_workbook(instance_doc, document, args.output)
    elif args.output:
        args.output.write_text(text + "\n")
    if args.report:
        write_report(instance_doc, document, args.report)
    if args.json or not args.output:
        print(text)
    if not args.json:
        print(summary(document), file=sys.stderr)
    return 0 if result.status == "COMPLETED" else 1


def _check(args) -> int:
    from receptor_planner.checker import check_all

    violations = check_all(_load_json(args.instance), _load_json(args.solution))
    lines = len(_load_json(args.solution).get("lines") or [])
    if args.json:
        _print_json({"lines": lines, "violations": [
            {"rule": v.rule, "line": v.line, "term": v.term, "position": v.position, "message": v.message}
            for v in violations]})
    else:
        if violations:
            print(tabulate([[v.rule, v.line, v.term, v.position, v.message] for v in violations],
                           headers=["rule", "line", "term", "position", "message"]))
        print(f"{len(violations)} violation(s) in {lines} line(s)", file=sys.stderr)
    return 1 if violations else 0


def _db(args) -> int:
    from .cluster import LocalCluster

    cluster = LocalCluster.default()
    if args.action == "start":
        cluster.start()
    elif args.action == "stop":
        cluster.stop()
    if args.action == "status":
        _print_json(cluster.status())  # JSON either way: a status has fields
    elif args.action == "stop":
        if args.json:
            _print_json({"stopped": True})
    elif args.json:
        _print_json({"url": cluster.url()})
    else:
        print(cluster.url())
    return 0


# ---------------------------------------------------------------- watch

def _watch(args) -> int:
    from .cluster import LocalCluster

    url = args.url or LocalCluster.default().url()
    try:
        return watch(url, args.run_id, timeout=args.timeout, as_json=args.json)
    except KeyboardInterrupt:
        print("\nstopped watching; the run goes on", file=sys.stderr)
        return 130


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
