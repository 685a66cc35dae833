"""The ``planner`` command: offline solve and check, the local database, the demo."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .instance import InvalidDocument, parse_instance, parse_request

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
    solve.add_argument("--workers", type=int, default=2, help="CP-SAT threads (default 2)")
    solve.add_argument("-o", "--output", type=Path, help="write the solution document here")
    solve.set_defaults(run=_solve)

    check = sub.add_parser("check", help="check a solution document against its instance")
    check.add_argument("solution", type=Path)
    check.add_argument("--instance", type=Path, required=True)
    check.set_defaults(run=_check)

    db = sub.add_parser("db", help="the local embedded database")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(run=_db)

    demo = sub.add_parser("demo", help="load the demo service into the local database and solve it")
    demo.add_argument("--instance", type=Path, default=DEMO_INSTANCE)
    demo.add_argument("--constraints", default="VIC_PGY1")
    demo.add_argument("--seconds", type=float, default=90.0)
    demo.set_defaults(run=_demo)
    return parser


def _load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"planner: no such file: {path}")
    except json.JSONDecodeError as e:
        raise SystemExit(f"planner: {path} is not valid JSON: {e}")


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


def _demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.instance, [c.strip() for c in args.constraints.split(",")], args.seconds)


def summary(document: dict, show_lines: int = 0) -> str:
    """A readable account of a solution document."""
    m = document.get("metrics") or {}
    out = [f"status: {document['status']}",
           f"lines: {m.get('lines_built', 0)} built of {m.get('lines_requested')} requested; "
           f"proven upper bound {m.get('lines_upper_bound')}"]
    if m.get("solver_status"):
        out.append("solver: " + ", ".join(f"{k} {v}" for k, v in m["solver_status"].items()))
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
