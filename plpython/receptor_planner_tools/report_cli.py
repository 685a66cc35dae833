"""``planner report``: the picture of an allocation run's year as one static HTML page.

``planner report ALLOCATION_RUN --html FILE`` asks the database for the page
(``planner.report_html``, the one a frontend gets); ``write_report`` draws the same page from
two documents without a database, for ``planner solve ... --report FILE.html``.
"""
from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

from receptor_planner.checker import check
from receptor_planner.report import page_summary, render_report


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("allocation_run", metavar="ALLOCATION_RUN", type=_allocation_run_id,
                        help="the allocation run's id")
    parser.add_argument("--html", metavar="FILE", type=Path, required=True, help="write the page here")
    parser.add_argument("--url", help="database URL (default: the local database, `planner db url`)")
    parser.add_argument("--json", action="store_true", help="print what was written as one JSON object")


def run_report(args) -> int:
    """Exit 0 when the page is written (whatever its lines' compliance), 2 when it cannot be."""
    import psycopg

    from .cluster import connect

    conn = connect(args.url)
    if conn is None:
        return 2
    try:
        with conn:
            page = conn.execute("select planner.report_html(%s)", [args.allocation_run]).fetchone()[0]
    except psycopg.Error as e:  # P0002: no such allocation run, or not one the caller may read
        print(f"planner: {e.diag.message_primary or str(e).strip()}", file=sys.stderr)
        return 2
    _write(args.html, page)
    _say_written(args.html, page, as_json=args.json, allocation_run=args.allocation_run)
    return 0


def write_report(instance_doc: dict, solution_doc: dict, path: Path) -> dict[str, int]:
    """Draw the page of a solution document against its instance document, with the independent
    checker's findings on them, and write it to ``path``. Returns the page's summary: lines, weeks,
    compliant lines, findings."""
    findings = [{"rule": v.rule, "line": v.line, "term": v.term, "position": v.position, "message": v.message}
                for v in check(instance_doc, solution_doc)]
    page = render_report(instance_doc, solution_doc, findings)
    _write(Path(path), page)
    return page_summary(page)


def _write(path: Path, page: str) -> None:
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as e:
        raise SystemExit(f"planner: cannot write the report to {path}: {e.strerror}")


def _say_written(path: Path, page: str, *, as_json: bool, allocation_run: str) -> None:
    summary = page_summary(page)
    if as_json:
        print(json.dumps({"allocation_run": allocation_run, "html": str(path), **summary}, indent=2))
        return
    print(f"wrote {path}: {summary['lines']} lines over {summary['weeks']} weeks, "
          f"{summary['compliant']} keep every rule, {summary['findings']} findings")


def _allocation_run_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an allocation run id (a UUID): {text!r}")
