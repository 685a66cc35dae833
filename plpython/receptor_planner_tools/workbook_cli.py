"""``planner template`` and ``planner import``: a service workbook (or a CSV file of posts) in.

    planner template FILE.xlsx [--force]
    planner import FILE.xlsx|FILE.csv [--json-out INSTANCE.json] [--org ORG] [--url URL]
                   [--name ... --term-weeks ...: a CSV file's service settings]

``import`` reads the file with receptor_planner.service_workbook; with ``--json-out`` it writes the
instance document and touches no database, otherwise it imports it with planner.import_instance (the
local database unless ``--url``) and prints the allocation run id. A file with problems prints every
one (sheet, row, column, what was expected) and exits 2; nothing is written then.
"""
from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

from receptor_planner.service_workbook import SETTINGS, SETTINGS_OPTIONS, Problem, WorkbookError, read_csv, \
    read_workbook, write_template

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
INVALID_INPUT = 2


# ---------------------------------------------------------------- planner template

def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE.xlsx", help="where to write the blank service workbook")
    parser.add_argument("--force", action="store_true", help="replace FILE.xlsx if it exists")
    parser.add_argument("--json", action="store_true", help="print {\"template\": FILE} instead of a sentence")


def run_template(args) -> int:
    path: Path = args.file
    if path.suffix.lower() != ".xlsx":
        print(f"planner: template: {path} must end in .xlsx (Excel opens a workbook by its suffix)", file=sys.stderr)
        return INVALID_INPUT
    if path.exists() and not args.force:
        print(f"planner: template: {path} exists; give --force to replace it", file=sys.stderr)
        return INVALID_INPUT
    write_template(path)
    if args.json:
        print(json.dumps({"template": str(path)}))
    else:
        print(f"wrote {path}: fill in the Service and Posts sheets (and Groups, Line rules, Links if the "
              f"service has rules of its own), then `planner import {path}`")
    return 0


# ---------------------------------------------------------------- planner import

def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE.xlsx|FILE.csv",
                        help="a service workbook, or a CSV file of posts (the Posts sheet alone)")
    parser.add_argument("--json-out", type=Path, metavar="INSTANCE.json",
                        help="write the instance document here instead of importing it")
    parser.add_argument("--org", type=_org_id, help="import into this org (its id); default: a new org named "
                                                    "after the service")
    parser.add_argument("--url", help="database URL (default: the local database, `planner db url`)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object: the allocation run (or instance file), or the problems")
    settings = parser.add_argument_group("a CSV file's service settings (a workbook has its Service sheet)")
    for setting in SETTINGS:
        settings.add_argument(_option(setting.name), dest=f"setting_{setting.name}", metavar="VALUE",
                              help=setting.prompt + (" Required." if setting.required else ""))


def run_import(args) -> int:
    path: Path = args.file
    given = {s.name: getattr(args, f"setting_{s.name}") for s in SETTINGS
             if getattr(args, f"setting_{s.name}") is not None}
    try:
        data = path.read_bytes()
    except OSError as e:
        print(f"planner: import: cannot read {path}: {e.strerror}", file=sys.stderr)
        return INVALID_INPUT
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            doc = read_csv(data, given)
        elif suffix in WORKBOOK_SUFFIXES:
            if given:
                print(f"planner: import: {', '.join(_option(n) for n in given)}: settings options are for a CSV "
                      f"file; a workbook has its settings in its Service sheet", file=sys.stderr)
                return INVALID_INPUT
            doc = read_workbook(data)
        else:
            print(f"planner: import: {path}: expected a .xlsx workbook or a .csv file", file=sys.stderr)
            return INVALID_INPUT
    except WorkbookError as e:
        _report_problems(path, e.problems, args.json)
        return INVALID_INPUT

    if args.json_out:
        args.json_out.write_text(json.dumps(doc, indent=2) + "\n")
        _say(args.json, {"instance": str(args.json_out), "positions": len(doc["positions"])},
             f"wrote {args.json_out}: {len(doc['positions'])} posts of {doc['org']['name']}")
        return 0
    return _import(doc, args)


def _import(doc: dict, args) -> int:
    import psycopg
    from psycopg.types.json import Jsonb

    from .cluster import connect

    conn = connect(args.url)
    if conn is None:
        return INVALID_INPUT
    with conn:
        try:
            allocation_run = conn.execute("select planner.import_instance(%s, %s)",
                                          [Jsonb(doc), args.org]).fetchone()[0]
        except psycopg.errors.InvalidParameterValue as e:  # 22023: what the org holds clashes with the file
            print(f"planner: import: the database refused {args.file}: {e.diag.message_primary}", file=sys.stderr)
            return INVALID_INPUT
    _say(args.json, {"allocation_run": str(allocation_run)}, str(allocation_run))
    if not args.json:
        print(f"imported {doc['org']['name']}: {len(doc['positions'])} posts, terms {doc['term_weeks']}",
              file=sys.stderr)
    return 0


def _report_problems(path: Path, problems: tuple[Problem, ...], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"errors": [p.as_dict() for p in problems]}, indent=2))
        return
    for problem in problems:
        print(f"{path}: {_shown(problem)}", file=sys.stderr)
    print(f"planner: import: {len(problems)} problem{'s' * (len(problems) != 1)} in {path}; nothing was imported",
          file=sys.stderr)


def _shown(problem: Problem) -> str:
    """A problem as the user wrote the value: a CSV file's settings are this command's options."""
    if problem.sheet == SETTINGS_OPTIONS and problem.column:
        return f"option {_option(problem.column)}: {problem.message}"
    return str(problem)


def _say(as_json: bool, value: dict, text: str) -> None:
    print(json.dumps(value) if as_json else text)


def _option(setting: str) -> str:
    return "--" + setting.replace("_", "-")


def _org_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an org id (a UUID): {text!r}")
