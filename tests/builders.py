"""Helpers shared by the tests, in one place (fixtures live in conftest.py).

* Documents: small instance documents, and mutations of them.
* Solving: a solve that always goes through the checker, and what a solution holds.
* The database: importing, queueing, solving and exporting through SQL, on a connection
  the caller gives (these need a server; the rest do not).
* Acting as an API user, and docker/initdb.sh as the image's entrypoint runs it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plpython"))

from receptor_planner.checker import check  # noqa: E402
from receptor_planner.instance import parse_instance, parse_request  # noqa: E402
from receptor_planner.solution import to_document  # noqa: E402
from receptor_planner.solve import solve as solve_offline  # noqa: E402
from receptor_planner.service_workbook import template_bytes  # noqa: E402


# ---------------------------------------------------------------- documents

def post(key: str, terms=None, capacity=1, categories=("A",), specialty=None, **attributes) -> dict:
    """A position; ``terms`` limits where it is offered."""
    doc = {"key": key, "name": key, "specialty": specialty or key,
           "categories": list(categories), "capacity": capacity, "terms": terms}
    if attributes.get("non_clinical"):
        doc["categories"] = []
    doc.update(attributes)
    return doc


def instance(positions: list[dict], term_weeks=(13, 13, 13, 13), leave=None, cohort="PGY1", pins=None) -> dict:
    return {"format": "receptor-planner/instance@1", "org": {"name": "Test Health"}, "cohort": cohort,
            "start_date": "2027-01-04", "term_weeks": list(term_weeks),
            "leave": leave or {"weeks": 0}, "positions": positions, "pins": pins or []}


def small_doc() -> dict:
    """Five posts over five terms; keys deliberately not in alphabetical order."""
    def position(key, team, specialty, categories, capacity, **extra):
        return {"key": key, "name": key.title(), "team": team, "specialty": specialty,
                "subspecialty": None, "categories": categories, "capacity": capacity, **extra}
    return {
        "format": "receptor-planner/instance@1",
        "org": {"name": "Acacia Health"},
        "cohort": "PGY1",
        "start_date": "2027-01-04",
        "term_weeks": [10, 10, 10, 10, 12],
        "leave": {"weeks": 5, "patterns": [[5], [2, 3]], "min_gap_weeks": 13, "max_concurrent": 2},
        "positions": [
            position("MED1", "Medicine", "General Medicine", ["A", "B"], 2, min_fill=1),
            position("ED1", "Emergency", "Emergency Medicine", ["A", "C"], [2, 2, 1, 1, 2]),
            position("SURG1", None, "Surgery", ["D"], 2, terms=[1, 3, 5], subspecialty="Colorectal"),
            position("RELIEF", None, "Relief", ["A"], 1, service=True, excludable=True),
            position("PSY1", "Psychiatry", "Psychiatry", ["B"], 1),
        ],
        "pins": [{"line": 1, "term": 2, "position": "ED1"},
                 {"line": 2, "positions": ["SURG1", "PSY1", "ED1", "MED1", "RELIEF"]}],
        "affinity": {"version": "2027.1", "source": "test weights, invented for this test",
                     "weights": {"Surgery": {"General Medicine": 5}, "General Medicine": {"Surgery": 5}}},
    }


def local_rules_doc() -> dict:
    """small_doc with every local rule: sites and a home site, two posts of two terms (one starting
    only in terms 1 and 3, one wherever it fits), groups, line rules, a link, blocked and preferred
    leave. Lists are deliberately not in alphabetical order, so an export that sorts is caught."""
    doc = small_doc()
    for position in doc["positions"]:
        position["site"] = "Bendigo"
    doc["positions"] += [
        {"key": "COMM", "name": "Community", "specialty": "General Practice", "categories": ["A"], "capacity": 1,
         "span": 2, "terms": [3, 1], "site": "Echuca"},
        {"key": "RURAL", "name": "Rural", "specialty": "Rural Medicine", "categories": ["A", "C"],
         "capacity": [1, 2, 1, 2, 1], "min_fill": [0, 1, 0, 0, 0], "span": 2, "terms": None, "site": "Echuca"},
    ]
    doc["groups"] = {"non-core": ["PSY1", "RELIEF", "COMM"], "core": ["SURG1", "MED1", "ED1"]}
    doc["line_rules"] = [{"name": "core surgery", "group": "core", "min": 1},
                         {"name": "at most two non-core", "group": "non-core", "max": 2},
                         {"name": "a core term", "group": "core", "min": 1, "max": 3}]
    doc["links"] = [{"name": "Echuca with psychiatry", "if": "COMM", "then": ["PSY1", "MED1"]},
                    {"name": "rural with surgery", "if": "RURAL", "then": ["SURG1"]}]
    doc["home_site_min_terms"] = 3
    doc["leave"]["blocked_weeks"] = [2, 1]
    doc["leave"]["preferred_groups"] = ["non-core"]
    return doc


def set_at(path, value):
    """A mutation of a document: the value at ``path`` (keys and indexes) becomes ``value``."""
    def mutate(doc):
        *parents, last = path
        target = doc
        for key in parents:
            target = target[key]
        target[last] = value
    return mutate


def line_rotations(keys, leave=(), term_weeks=(13, 13, 13, 13), start="2027-01-04") -> list[dict]:
    """A line's rotations, written by hand: one post key per term and (start_week, weeks) leave blocks.
    A post of several terms is its key in each term it covers; leave splits a term's rotation."""
    first_day = dt.date.fromisoformat(start)
    on_leave = {w for first, weeks in leave for w in range(first, first + weeks)}
    term_of = [t for t, weeks in enumerate(term_weeks, start=1) for _ in range(weeks)]
    rows = []
    for week in range(1, sum(term_weeks) + 1):
        term = term_of[week - 1]
        kind = "leave" if week in on_leave else "clinical"
        if rows and rows[-1]["kind"] == kind and rows[-1]["term"] == term:
            rows[-1]["end_week"] = week
        else:
            rows.append({"kind": kind, "term": term, "start_week": week, "end_week": week})
            if kind == "clinical":
                rows[-1]["position"] = keys[term - 1]
    for row in rows:
        row["start_date"] = (first_day + dt.timedelta(weeks=row["start_week"] - 1)).isoformat()
        row["end_date"] = (first_day + dt.timedelta(weeks=row["end_week"], days=-1)).isoformat()
    return rows


def solution_doc(lines, constraints=("UNRESTRICTED",), term_weeks=(13, 13, 13, 13)) -> dict:
    """A COMPLETED solution document, written by hand, from (post keys per term, leave blocks) per line."""
    return {
        "format": "receptor-planner/solution@1",
        "status": "COMPLETED",
        "request": {"n_job_lines": len(lines), "constraints": list(constraints), "allow_partial": False,
                    "max_seconds": 30, "seed": 1},
        "lines": [{"name": f"Line {n}", "rotations": line_rotations(keys, leave, term_weeks)}
                  for n, (keys, leave) in enumerate(lines, start=1)],
        "metrics": {"lines_requested": len(lines), "lines_built": len(lines)},
        "explanation": None,
    }


def default_lines(doc: dict) -> int:
    """Lines the posts can hold; for a tight generated service, the lines planted in it."""
    return parse_instance(doc).default_lines()


# ---------------------------------------------------------------- solving, always checked

def solve_checked(doc: dict, n: int, constraints=("UNRESTRICTED",), allow_partial=True,
                  seconds=20, seed=0, workers=1, planted: int | None = None) -> dict:
    """Solve and return the solution document, asserting the checker finds nothing.

    ``planted``: how many lines are known to exist (planted in the instance). Then the request is
    complete (no partial answer) and the solve must give COMPLETED with every planted line; the
    checker alone would pass an INFEASIBLE answer, which holds no lines to check.
    """
    if planted is not None:
        assert n == planted, f"ask for the {planted} planted lines, not {n}"
        allow_partial = False
    inst = parse_instance(doc)
    request = parse_request({"n_job_lines": n, "constraints": list(constraints), "allow_partial": allow_partial,
                             "max_seconds": seconds, "seed": seed, "num_workers": workers},
                            inst.cohort, inst.n_terms)
    solution = to_document(inst, request, solve_offline(inst, request))
    violations = check(doc, solution)
    assert violations == [], "\n".join(map(str, violations))
    if planted is not None:
        assert (solution["status"], built(solution)) == ("COMPLETED", planted), \
            f"{planted} lines were planted; the solver gave {solution['status']} with {built(solution)}: " \
            f"{(solution.get('explanation') or {}).get('summary')}"
    return solution


def built(solution: dict) -> int:
    return len(solution["lines"])


def posts_of(solution: dict, line: int) -> list[str]:
    """The post of each term of a line (1-based line number)."""
    terms: dict[int, str] = {}
    for rotation in solution["lines"][line - 1]["rotations"]:
        if rotation["kind"] == "clinical":
            terms[rotation["term"]] = rotation["position"]
    return [terms[t] for t in sorted(terms)]


# ---------------------------------------------------------------- the database (a connection in, no fixtures)

LOCAL_RULE_TABLES = ("allocation_run_groups", "allocation_run_group_members", "allocation_run_line_rules",
                     "allocation_run_links", "allocation_run_link_targets")
TABLES_OF_AN_IMPORT = ("orgs", "teams", "positions", "affinity_profiles", "allocation_plans", "allocation_runs",
                       "allocation_run_posts", "allocation_run_pins", *LOCAL_RULE_TABLES)


def table_counts(conn, tables=TABLES_OF_AN_IMPORT) -> dict[str, int]:
    """Rows in each table an import writes (or each of ``tables``)."""
    return {t: conn.execute(f"select count(*) from public.{t}").fetchone()[0] for t in tables}


def import_doc(conn, doc, org=None) -> str:
    """planner.import_instance of ``doc`` (into ``org`` when given): the allocation run's id."""
    from psycopg.types.json import Jsonb

    return conn.execute("select planner.import_instance(%s, %s)", [Jsonb(doc), org]).fetchone()[0]


def export(conn, allocation_run) -> dict:
    """planner.export_instance: the instance document rebuilt from the tables."""
    return conn.execute("select planner.export_instance(%s)", [allocation_run]).fetchone()[0]


def new_run(conn, allocation_run, n, constraints=("VIC_PGY1",), **options) -> str:
    """A PENDING planner run (max_seconds 30 unless ``options`` say otherwise)."""
    from psycopg.types.json import Jsonb

    return conn.execute(
        "insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options) "
        "values (%s, %s, %s, %s) returning id",
        [allocation_run, n, list(constraints), Jsonb({"max_seconds": 30, **options})]).fetchone()[0]


def solve(conn, run_id) -> dict:
    """planner.solve_run on ``conn``: the outcome it returns."""
    return conn.execute("select planner.solve_run(%s)", [run_id]).fetchone()[0]


def exported(conn, allocation_run) -> tuple[dict, dict]:
    instance_doc = conn.execute("select planner.export_instance(%s)", [allocation_run]).fetchone()[0]
    solution = conn.execute("select planner.export_solution(%s)", [allocation_run]).fetchone()[0]
    return instance_doc, solution


def assert_checked(conn, allocation_run) -> dict:
    """The allocation run's current lines, asserting the checker finds nothing in them."""
    instance_doc, solution = exported(conn, allocation_run)
    violations = check(instance_doc, solution)
    assert violations == [], "\n".join(map(str, violations))
    return solution


def counts(conn, allocation_run) -> tuple[int, int, int]:
    """(job lines, rotations, history snapshots) of an allocation run."""
    return conn.execute(
        "select (select count(*) from job_lines where allocation_run_id = %(a)s),"
        "       (select count(*) from rotations r join job_lines l on l.id = r.job_line_id"
        "         where l.allocation_run_id = %(a)s),"
        "       (select count(*) from job_lines_history where allocation_run_id = %(a)s)",
        {"a": allocation_run}).fetchone()


@contextlib.contextmanager
def acting_as(conn, user_id, role: str = "authenticated"):
    """One transaction as an API user: SET LOCAL ROLE and the JWT claims, as PostgREST does."""
    claims = {"role": role, **({"sub": str(user_id)} if user_id else {})}
    with conn.transaction():
        conn.execute(f"set local role {role}")
        conn.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])
        yield conn


def import_service(conn, name: str) -> str:
    """A small PGY3+ service of four posts of two places, in an org of its own called ``name``."""
    from psycopg.types.json import Jsonb

    doc = instance([post("MED", capacity=2), post("SUR", capacity=2, categories=("D",)),
                    post("ED", capacity=2, categories=("C",)), post("PSY", capacity=2, categories=("B",))],
                   cohort="PGY3+")
    doc["org"]["name"] = name
    return conn.execute("select planner.import_instance(%s)", [Jsonb(doc)]).fetchone()[0]


def new_user(conn, email: str) -> str:
    return conn.execute("insert into auth.users (id, email) values (gen_random_uuid(), %s) returning id",
                        [email]).fetchone()[0]


# ---------------------------------------------------------------- the image's first start

INITDB_SH = REPO / "docker" / "initdb.sh"


def run_initdb(url: str) -> subprocess.CompletedProcess:
    """docker/initdb.sh as the entrypoint runs it, pointed at the server of ``url`` and the checkout."""
    parts = urlsplit(url)
    env = {**os.environ, "PGHOST": parts.hostname, "PGPORT": str(parts.port), "POSTGRES_USER": parts.username,
           "RECEPTOR_PLANNER_SUPABASE": str(REPO / "supabase"),
           "RECEPTOR_PLANNER_DATABASE": parts.path.lstrip("/")}
    return subprocess.run(["bash", INITDB_SH], env=env, capture_output=True, text=True, timeout=300)


# ---------------------------------------------------------------- a service workbook, filled with openpyxl

def template_book():
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(template_bytes()))


def saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def numbers(values) -> str:
    return ",".join(str(v) for v in values)


def service_values(doc: dict) -> dict:
    """The Service sheet's values for an instance document, written as a planner types them."""
    leave = doc.get("leave") or {}
    values = {"name": doc["org"]["name"], "cohort": doc["cohort"],
              "start_date": dt.date.fromisoformat(doc["start_date"]),  # a real date cell
              "term_weeks": numbers(doc["term_weeks"]),
              "home_site_min_terms": doc.get("home_site_min_terms")}
    if "weeks" in leave:
        values["leave_weeks"] = leave["weeks"]
    if "patterns" in leave:
        values["leave_patterns"] = "; ".join(numbers(p) for p in leave["patterns"])
    if "min_gap_weeks" in leave:
        values["leave_min_gap_weeks"] = leave["min_gap_weeks"]
    if "within_term" in leave:
        values["leave_within_term"] = "yes" if leave["within_term"] else "no"
    if leave.get("max_concurrent") is not None:
        values["leave_max_concurrent"] = leave["max_concurrent"]
    if leave.get("fixed_blocks"):
        values["leave_fixed_blocks"] = "; ".join(f"{b['start_week']}-{b['start_week'] + b['weeks'] - 1}"
                                                 for b in leave["fixed_blocks"])
    if leave.get("blocked_weeks"):
        values["leave_blocked_weeks"] = numbers(leave["blocked_weeks"])
    if leave.get("preferred_groups"):
        values["leave_preferred_groups"] = ", ".join(leave["preferred_groups"])
    if leave.get("front_load_target") is not None:
        values["leave_front_load_target"] = leave["front_load_target"]
    return values


def post_row(post: dict, columns: list[str]) -> list:
    """A Posts row: a per-term capacity or min_fill in its per-term columns, flags as yes/no."""
    cells = {"key": post["key"], "name": post.get("name"), "team": post.get("team"), "site": post.get("site"),
             "specialty": post["specialty"], "subspecialty": post.get("subspecialty"),
             "categories": ",".join(post.get("categories") or []) or None,
             "terms": numbers(post["terms"]) if post.get("terms") else None, "span": post.get("span")}
    for flag in ("service", "nights", "rural", "non_clinical", "excludable"):
        cells[flag] = "yes" if post.get(flag) else ("no" if flag in post else None)
    for name in ("capacity", "min_fill"):
        value = post.get(name)
        if isinstance(value, list):
            cells.update({f"{name}_t{t}": v for t, v in enumerate(value, start=1)})
        else:
            cells[name] = value
    return [cells.get(column) for column in columns]


def filled_workbook(doc: dict) -> bytes:
    """The template, its example rows replaced by an instance document's service, posts and rules."""
    book = template_book()
    values = service_values(doc)
    for setting, value in book["Service"].iter_rows(min_row=2):
        value.value = values.get(setting.value)
    posts = book["Posts"]
    posts.delete_rows(2, posts.max_row)
    columns = [c.value for c in posts[1]]
    n_terms = len(doc["term_weeks"])
    for name in ("capacity", "min_fill"):
        if any(isinstance(p.get(name), list) for p in doc["positions"]):
            for t in range(1, n_terms + 1):
                posts.cell(1, len(columns) + 1, f"{name}_t{t}")
                columns.append(f"{name}_t{t}")
    for post in doc["positions"]:
        posts.append(post_row(post, columns))
    rules = {"Groups": [(group, key) for group, keys in (doc.get("groups") or {}).items() for key in keys],
             "Line rules": [(r["name"], r["group"], r.get("min"), r.get("max")) for r in doc.get("line_rules") or []],
             "Links": [(l["name"], l["if"], ", ".join(l["then"])) for l in doc.get("links") or []]}
    for sheet, rows in rules.items():
        book[sheet].delete_rows(2, book[sheet].max_row)
        for row in rows:
            book[sheet].append(list(row))
    return saved(book)
