"""The independent checker as the gate before any write, and as a question planners may ask.

The story: a small service is solved; before its lines reach the tables the checker, which
shares no code with the model, judges the very document the solver made, against the
instance document the solve read. Planners then edit rotations by hand, breaking one rule
family at a time, and `planner.check_allocation_run` and `public.job_line_compliance` say
which rule, line and term. An outsider learns nothing.

How the gate is shown to refuse, honestly: the product has no switch that makes its solver
lie, and a correct solver never trips the gate. So (1) the gate itself, a pure function, is
handed tampered documents; (2) a normal solve shows the gate ran (its timing, no finding);
(3) one test session replaces the solver inside its own database backend with one that
corrupts its result (a plpython3u DO block, which only a superuser may run; the patch dies
with the session) and shows solve_run then writes nothing and keeps the previous lines.
"""
from __future__ import annotations

import copy
import re
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from builders import acting_as, new_user
from receptor_planner.checker import check, check_metrics
from receptor_planner.instance import parse_instance, parse_request
from receptor_planner.pg import GATE_VIOLATIONS_KEPT, gate, gate_refusal
from receptor_planner.solution import to_document
from receptor_planner.solve import solve as solve_offline

# ---------------------------------------------------------------- the service

TERM_WEEKS = [10, 10, 10, 10, 12]  # 52 weeks; VIC_PGY1 wants 5 terms and 47 clinical weeks
# Three lines, one place per post and term, every rule of VIC_PGY1 kept: the pins make the
# solve give exactly these (the fixture then lifts the pins, so an edit breaks only its rule).
LINES = [["MED1", "SUR", "ED", "PSY", "MED2"],
         ["ED", "MED1", "PSY", "SUR", "MED3"],
         ["PSY", "ED", "MED1", "MED2", "SUR"]]


def _post(key, specialty, categories, **extra) -> dict:
    return {"key": key, "name": key.title(), "specialty": specialty, "categories": categories, "capacity": 1,
            **extra}


def service_doc(org_name="Gate Health", pins=True) -> dict:
    return {
        "format": "receptor-planner/instance@1", "org": {"name": org_name}, "cohort": "PGY1",
        "start_date": "2027-01-04", "term_weeks": TERM_WEEKS, "leave": {"weeks": 5, "patterns": [[5]]},
        "positions": [
            _post("MED1", "General Medicine", ["A"], team="Medicine", min_fill=[1, 1, 1, 0, 0]),
            _post("MED2", "General Medicine", ["A", "C"]),
            _post("MED3", "General Medicine", ["A"]),
            _post("SUR", "Surgery", ["D"]),
            _post("ED", "Emergency Medicine", ["C"]),
            _post("PSY", "Psychiatry", ["B"], terms=[1, 3, 4]),
            _post("REL", "Relief", ["A"], service=True),
            _post("CARD", "Cardiology", ["A"], terms=[1, 2]),
            _post("ADMIN1", "Administration", [], non_clinical=True),
            _post("ADMIN2", "Administration", [], non_clinical=True),
        ],
        "pins": [{"line": n, "positions": posts} for n, posts in enumerate(LINES, start=1)] if pins else [],
    }


def solved_offline(doc: dict) -> tuple[dict, dict]:
    inst = parse_instance(doc)
    request = parse_request({"n_job_lines": 3, "constraints": ["VIC_PGY1"], "max_seconds": 20},
                            inst.cohort, inst.n_terms)
    return doc, to_document(inst, request, solve_offline(inst, request))


# ---------------------------------------------------------------- the gate, a pure function

def test_the_gate_passes_what_the_solver_made():
    doc, solution = solved_offline(service_doc())
    assert solution["status"] == "COMPLETED" and len(solution["lines"]) == 3
    assert gate(doc, solution) == []


def test_the_gate_rejects_a_line_that_breaks_a_rule():
    doc, solution = solved_offline(service_doc())
    tampered = copy.deepcopy(solution)
    tampered["lines"][1] = copy.deepcopy(tampered["lines"][0])  # two lines in the same posts
    rules = {v.rule for v in gate(doc, tampered)}
    assert {"CAPACITY", "PIN", "METRICS"} <= rules  # the duplicate overfills posts; the report no longer holds


@pytest.mark.parametrize("metric, lie", [
    ("lines_built", 4), ("unfilled_total", 1), ("duplicate_lines", 1), ("hamming_min", 4), ("hamming_mean", 4.9),
    ("hamming_min", None)])
def test_the_gate_rejects_a_report_its_lines_contradict(metric, lie):
    doc, solution = solved_offline(service_doc())
    tampered = copy.deepcopy(solution)
    tampered["metrics"][metric] = lie
    found = gate(doc, tampered)
    assert [v.rule for v in found] == ["METRICS"]
    assert found[0].message.startswith(f"the solution reports {metric} {lie!r}, but its lines give ")


def test_the_metrics_are_recomputed_from_the_lines():
    doc, solution = solved_offline(service_doc())
    # in every term the three lines hold three different posts
    assert solution["metrics"]["hamming_min"] == 5 and solution["metrics"]["hamming_mean"] == 5.0
    assert solution["metrics"]["duplicate_lines"] == 0 and solution["metrics"]["unfilled_total"] == 0
    assert check_metrics(doc, solution) == []
    missing = copy.deepcopy(solution)
    del missing["metrics"]["hamming_mean"]
    assert [v.message for v in check_metrics(doc, missing)] == ["the solution does not report hamming_mean"]


def test_a_rejection_keeps_the_first_violations_and_their_total():
    doc, solution = solved_offline(service_doc())
    tampered = copy.deepcopy(solution)
    tampered["lines"] = [{"rotations": copy.deepcopy(solution["lines"][0]["rotations"])}  # no name: FORMAT
                         for _ in range(60)]
    violations = gate(doc, tampered)
    error, kept = gate_refusal(violations)
    assert len(violations) > GATE_VIOLATIONS_KEPT and kept["total"] == len(violations)
    assert len(kept["shown"]) == GATE_VIOLATIONS_KEPT
    assert kept["shown"][0] == {"rule": violations[0].rule, "line": violations[0].line, "term": violations[0].term,
                                "position": violations[0].position, "message": violations[0].message}
    assert error == (f"the independent checker rejected the solution: {len(violations)} violations, the first "
                     f"{violations[0]}; nothing written")


# ---------------------------------------------------------------- in the database

def queue_run(conn, allocation_run) -> str:
    return conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options) "
                        "values (%s, 3, '{VIC_PGY1}', '{\"max_seconds\": 20}') returning id",
                        [allocation_run]).fetchone()[0]


def run_row(conn, run_id) -> tuple[str, str, dict]:
    return conn.execute("select status, error, result_metadata from allocation_planner_runs where id = %s",
                        [run_id]).fetchone()


def current_lines(conn, allocation_run) -> dict:
    return conn.execute("select planner.export_solution(%s)", [allocation_run]).fetchone()[0]


@pytest.fixture(scope="module")
def service(pg_url):
    """The service solved by solve_run (pins kept), then its pins lifted; a viewer and a rival."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        org_name = f"Gate Health {uuid.uuid4().hex[:8]}"
        allocation_run = conn.execute("select planner.import_instance(%s)",
                                      [Jsonb(service_doc(org_name))]).fetchone()[0]
        org = conn.execute("select org_id from allocation_runs where id = %s", [allocation_run]).fetchone()[0]
        run_id = queue_run(conn, allocation_run)
        outcome = conn.execute("select planner.solve_run(%s)", [run_id]).fetchone()[0]
        assert outcome["status"] == "COMPLETED", outcome
        conn.execute("delete from allocation_run_pins where allocation_run_id = %s", [allocation_run])
        viewer, rival = new_user(conn, f"viewer-{org_name}@gate.test"), new_user(conn, f"rival-{org_name}@gate.test")
        rival_org = conn.execute("insert into orgs (name) values (%s) returning id",
                                 [f"Rival {org_name}"]).fetchone()[0]
        conn.execute("select planner.add_member(%s, %s, 'viewer')", [org, viewer])
        conn.execute("select planner.add_member(%s, %s, 'planner')", [rival_org, rival])
        yield {"allocation_run": allocation_run, "run": run_id, "org": org, "viewer": viewer, "rival": rival}


def test_a_solve_is_gated_and_says_what_the_gate_cost(conn, service):
    status, error, meta = run_row(conn, service["run"])
    assert status == "COMPLETED" and error is None and "violations" not in meta
    assert isinstance(meta["timings"]["check"], float) and meta["timings"]["check"] >= 0
    posts = [[r["position"] for r in line["rotations"] if r["kind"] == "clinical"]
             for line in current_lines(conn, service["allocation_run"])["lines"]]
    assert [list(dict.fromkeys(p)) for p in posts] == LINES  # the pins gave exactly these lines


# The solver replaced inside this one backend: it keeps solving, then corrupts what it returns.
LYING_SOLVER = """
do $patch$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
import dataclasses
from receptor_planner import solve
honest = solve.solve_polled
def lying(*args, **kwargs):
    result = honest(*args, **kwargs)
    if result.status == 'COMPLETED':
        %s
    return result
solve.solve_polled = lying
$patch$ language plpython3u
"""
LIES = {
    # line 2 in line 1's posts: capacities overflow, and the metrics no longer describe the lines
    "a line": "result.lines[1] = dataclasses.replace(result.lines[1], posts=result.lines[0].posts)",
    # the lines are right, the report about them is not
    "a metric": "result.metrics['hamming_min'] = 99",
}


@pytest.mark.parametrize("lie", LIES)
def test_solve_run_writes_nothing_the_gate_rejects(pg_url, conn, lie):
    allocation_run = conn.execute("select planner.import_instance(%s)",
                                  [Jsonb(service_doc(f"Lied-to Health {uuid.uuid4().hex[:8]}"))]).fetchone()[0]
    assert conn.execute("select planner.solve_run(%s) ->> 'status'",
                        [queue_run(conn, allocation_run)]).fetchone()[0] == "COMPLETED"
    before = current_lines(conn, allocation_run)
    history = conn.execute("select count(*) from job_lines_history where allocation_run_id = %s",
                           [allocation_run]).fetchone()[0]
    run_id = queue_run(conn, allocation_run)
    with psycopg.connect(pg_url, autocommit=True) as lying_session:  # the patch dies with this backend
        lying_session.execute(LYING_SOLVER % LIES[lie])
        outcome = lying_session.execute("select planner.solve_run(%s)", [run_id]).fetchone()[0]
    assert outcome["status"] == "FAILED" and outcome["written"] is False
    status, error, meta = run_row(conn, run_id)
    assert status == "FAILED"
    assert re.fullmatch(r"the independent checker rejected the solution: \d+ violations?, the first "
                        r"[A-Z_]+: .+; nothing written", error), error
    shown = meta["violations"]["shown"]
    assert meta["violations"]["total"] == len(shown) >= 1 and isinstance(meta["timings"]["check"], float)
    rules = {v["rule"] for v in shown}
    if lie == "a metric":
        assert rules == {"METRICS"}
    else:
        assert {"CAPACITY", "PIN", "METRICS"} <= rules
    assert current_lines(conn, allocation_run) == before  # the previous lines, untouched
    assert conn.execute("select count(*) from job_lines_history where allocation_run_id = %s",
                        [allocation_run]).fetchone()[0] == history


def test_solved_lines_keep_every_rule(conn, service):
    assert conn.execute("select * from planner.check_allocation_run(%s)", [service["allocation_run"]]).fetchall() == []
    rows = conn.execute("select line_no, compliant, violations from job_line_compliance "
                        "where allocation_run_id = %s order by line_no", [service["allocation_run"]]).fetchall()
    assert rows == [(1, True, []), (2, True, []), (3, True, [])]


# ---------------------------------------------------------------- hand edits, one rule family at a time

def move(conn, allocation_run, line: int, term: int, key: str) -> None:
    """Line ``line`` holds ``key`` in ``term`` (every clinical rotation of that term)."""
    moved = conn.execute(
        "update rotations r set position_id = p.id from job_lines jl, allocation_runs a, positions p "
        "where jl.id = r.job_line_id and jl.allocation_run_id = %(run)s and jl.line_no = %(line)s "
        "  and r.term = %(term)s and r.kind = 'clinical' and a.id = jl.allocation_run_id "
        "  and p.org_id = a.org_id and p.key = %(key)s",
        {"run": allocation_run, "line": line, "term": term, "key": key}).rowcount
    assert moved >= 1


def leave_weeks_more(conn, allocation_run, line: int, weeks: int) -> None:
    """The last ``weeks`` weeks of the line's first whole clinical term become leave."""
    row = conn.execute(
        "select r.id, r.term, r.end_week from rotations r join job_lines jl on jl.id = r.job_line_id "
        "where jl.allocation_run_id = %s and jl.line_no = %s and r.kind = 'clinical' "
        "  and not exists (select 1 from rotations o where o.job_line_id = r.job_line_id and o.term = r.term "
        "                  and o.kind = 'leave') order by r.start_week limit 1", [allocation_run, line]).fetchone()
    rotation, term, end = row
    conn.execute("update rotations set end_week = %s where id = %s", [end - weeks, rotation])
    conn.execute("insert into rotations (job_line_id, kind, term, start_week, end_week) "
                 "select job_line_id, 'leave', term, %s, %s from rotations where id = %s",
                 [end - weeks + 1, end, rotation])


# edit -> the findings (rule, line_no, term, position), exactly; and the lines the view marks
BREAKS = {
    "NO_REPEAT_POSITION": (lambda c, a: move(c, a, 1, 5, "MED1"),
                           {("NO_REPEAT_POSITION", 1, 5, "MED1")}, {1}),
    "CAPACITY": (lambda c, a: move(c, a, 1, 5, "MED3"),  # line 2 holds MED3 in term 5 already
                 {("CAPACITY", None, 5, "MED3")}, {1, 2}),
    "MIN_FILL": (lambda c, a: move(c, a, 1, 1, "MED3"),  # nobody left in MED1 in term 1
                 {("MIN_FILL", None, 1, "MED1")}, set()),
    "CATEGORIES": (lambda c, a: move(c, a, 1, 4, "REL"),  # PSY was line 1's only category B
                   {("CATEGORIES", 1, None, None)}, {1}),
    "SPECIALTY_CAP": (lambda c, a: move(c, a, 2, 1, "MED2"),  # 32 weeks of General Medicine
                      {("SPECIALTY_CAP", 2, None, None)}, {2}),
    "SERVICE_CAP": (lambda c, a: move(c, a, 1, 5, "REL"),  # 12 weeks of service, more than 10.4
                    {("SERVICE_CAP", 1, None, None)}, {1}),
    "MIN_TERMS": (lambda c, a: (move(c, a, 1, 4, "ADMIN1"), move(c, a, 1, 5, "ADMIN2")),
                  {("MIN_TERMS", 1, None, None), ("NON_CLINICAL_MAX", 1, 4, None), ("CATEGORIES", 1, None, None)},
                  {1}),
    "CLINICAL_WEEKS": (lambda c, a: leave_weeks_more(c, a, 3, 3),  # 8 weeks of leave: 44 clinical
                       {("CLINICAL_WEEKS", 3, None, None), ("LEAVE_WEEKS", 3, None, None),
                        ("LEAVE_PATTERN", 3, None, None)}, {3}),
    # CARD is offered in terms 1 and 2: no places in term 5 either
    "AVAILABILITY": (lambda c, a: move(c, a, 1, 5, "CARD"),
                     {("AVAILABILITY", 1, 5, "CARD"), ("CAPACITY", None, 5, "CARD")}, {1}),
}


@pytest.mark.parametrize("family", BREAKS)
def test_a_hand_edit_that_breaks_a_rule_is_named(conn, service, family):
    edit, expected, blamed = BREAKS[family]
    allocation_run = service["allocation_run"]
    with conn.transaction(force_rollback=True):
        edit(conn, allocation_run)
        conn.execute("set constraints all immediate")  # the edit is one a commit takes: the lines still tile
        found = conn.execute("select rule, line, term, position, message from planner.check_allocation_run(%s)",
                             [allocation_run]).fetchall()
        assert {row[:4] for row in found} == expected, found
        assert all(row[4] for row in found)
        view = dict(conn.execute("select line_no, violations from job_line_compliance "
                                 "where allocation_run_id = %s and not compliant", [allocation_run]).fetchall())
        assert set(view) == blamed
        for line, violations in view.items():
            assert {v["rule"] for v in violations} == {rule for rule, at, _, position in expected
                                                       if at == line or (at is None and rule == "CAPACITY")}
    assert conn.execute("select count(*) from planner.check_allocation_run(%s)", [allocation_run]).fetchone()[0] == 0


def test_lines_are_named_by_their_line_no_after_a_line_is_renumbered(conn, service):
    allocation_run = service["allocation_run"]
    with conn.transaction(force_rollback=True):
        conn.execute("update job_lines set line_no = line_no + 10 where allocation_run_id = %s", [allocation_run])
        move(conn, allocation_run, 12, 1, "MED2")
        found = conn.execute("select rule, line from planner.check_allocation_run(%s)", [allocation_run]).fetchall()
        assert found == [("SPECIALTY_CAP", 12)]


# ---------------------------------------------------------------- who may ask

def test_a_member_asks_and_an_outsider_learns_nothing(conn, service):
    allocation_run = service["allocation_run"]
    with conn.transaction(force_rollback=True):
        move(conn, allocation_run, 1, 5, "MED1")
        with acting_as(conn, service["viewer"]):
            assert [r[0] for r in conn.execute("select rule from planner.check_allocation_run(%s)",
                                               [allocation_run])] == ["NO_REPEAT_POSITION"]
            assert conn.execute("select line_no from job_line_compliance where not compliant").fetchall() == [(1,)]
        answers = []
        for target in (allocation_run, uuid.uuid4()):
            with pytest.raises(psycopg.errors.NoDataFound) as err:
                with acting_as(conn, service["rival"]):
                    conn.execute("select * from planner.check_allocation_run(%s)", [target])
            answers.append(err.value.diag.message_primary.replace(str(target), "<id>"))
        assert answers == ["allocation_run: no allocation run with id <id>"] * 2
        with acting_as(conn, service["rival"]):
            assert conn.execute("select count(*) from job_line_compliance").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with acting_as(conn, None, "anon"):
                conn.execute("select count(*) from job_line_compliance")


def test_the_document_checker_reads_documents_only(conn):
    doc, solution = solved_offline(service_doc())
    rows = conn.execute("select * from planner._check_documents(%s, %s)", [Jsonb(doc), Jsonb(solution)]).fetchall()
    assert rows == []
    broken = copy.deepcopy(solution)
    broken["format"] = "something else"
    rows = conn.execute("select rule, line from planner._check_documents(%s, %s)",
                        [Jsonb(doc), Jsonb(broken)]).fetchall()
    assert rows == [("FORMAT", None)]
    bad_instance = {**doc, "term_weeks": "many"}
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        conn.execute("select * from planner._check_documents(%s, %s)", [Jsonb(bad_instance), Jsonb(solution)])
    assert err.value.diag.message_primary.startswith("term_weeks: ")
    too_many = {**solution, "lines": solution["lines"] * 700}
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="solution.lines: holds 2100 lines; at most 2000"):
        conn.execute("select * from planner._check_documents(%s, %s)", [Jsonb(doc), Jsonb(too_many)])
    assert check(doc, solution) == []
