"""``planner export ALLOCATION_RUN --xlsx FILE``: the PMCV-style workbook of an allocation run's
current job lines, and the same workbook of an offline solve (``write_solution_workbook``).

The documents come from the database's own exports (planner.export_instance and
planner.export_solution), so the workbook shows what the database holds, hand edits included;
the workbook itself is built here, by receptor_planner.lines_workbook, as planner.export_xlsx
builds it inside the database.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

from receptor_planner.checker import check_all
from receptor_planner.lines_workbook import build_workbook


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("allocation_run", metavar="ALLOCATION_RUN", type=_allocation_run_id,
                        help="the allocation run's id")
    parser.add_argument("--xlsx", type=Path, required=True, metavar="FILE",
                        help="write the workbook here (Job lines, Rotations, Posts, Compliance, Run)")
    parser.add_argument("--url", help="database URL (default: the local database, `planner db url`)")
    parser.add_argument("--json", action="store_true", help="print what was written as one JSON object")


def run_export(args) -> int:
    """Write the workbook of the allocation run's current lines. Exit 0 when written (whatever the
    checker finds: the Compliance sheet shows it), 2 when the run, the database or the file is not there."""
    import psycopg

    from .cluster import connect

    conn = connect(args.url)
    if conn is None:
        return 2
    with conn:
        try:
            instance_doc, solution_doc = conn.execute(
                "select planner.export_instance(%s), planner.export_solution(%s)",
                [args.allocation_run, args.allocation_run]).fetchone()
        except psycopg.errors.NoDataFound as e:  # P0002: no such run, or not one the caller may read
            print(f"planner: {e.diag.message_primary}", file=sys.stderr)
            return 2
    try:
        written = write_solution_workbook(instance_doc, solution_doc, args.xlsx)
    except OSError as e:
        print(f"planner: cannot write {args.xlsx}: {e.strerror or e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(written))
    else:
        print(f"wrote {written['path']}: {written['lines']} lines, {written['violations']} checker "
              f"finding{'s' * (written['violations'] != 1)}")
    return 0


def write_solution_workbook(instance_doc: dict, solution_doc: dict, path: Path | str) -> dict:
    """Write the workbook of a solution document (``planner solve ... -o FILE.xlsx`` and
    ``planner export``): {"path", "lines", "violations"}, the last the checker's findings.

    The file appears whole or not at all: it is written beside its place and then renamed.
    An invalid document is InvalidDocument, before anything is written.
    """
    path = Path(path)
    violations = check_all(instance_doc, solution_doc)
    workbook = build_workbook(instance_doc, solution_doc, violations)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            workbook.save(out)
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary write would leave it, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return {"path": str(path), "lines": len(solution_doc.get("lines") or []), "violations": len(violations)}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _allocation_run_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an allocation run id (a UUID): {text!r}")

