"""The rulebook against the independent checker, rule by rule.

For every rule code, fixed assignments in both directions: one that breaks the
rule is infeasible in the CP-SAT model with every variable fixed AND flagged by
the checker with that code; one that keeps it is feasible and clean. Codes the
model keeps by construction (AVAILABILITY, TILING, the leave rules) or before
any post is placed (the year rules) are held to the checker in the form their
home takes. And the model's codes, the checker's and docs/rules.md's are one set.
"""
from __future__ import annotations

import re

import pytest
from ortools.sat.python import cp_model

from builders import REPO
from receptor_planner import checker
from receptor_planner.checker import check
from receptor_planner.explain import conflicting_rules
from receptor_planner.instance import parse_instance
from receptor_planner.leave import leave_options
from receptor_planner.model import build_model, rulebook
from receptor_planner.model.symmetry import sort_key
from receptor_planner.rules import resolve_rules
from receptor_planner.solution import SOLUTION_FORMAT, rotations

YEAR = (10, 10, 10, 10, 12)
# key: specialty, subspecialty, categories, flags
POSTS = {
    "ED": ("Emergency Medicine", None, "AC", ()),
    "GMED": ("General Medicine", None, "AB", ()),
    "GMED2": ("General Medicine", None, "B", ()),
    "CARD": ("General Medicine", "Cardiology", "AC", ()),
    "CARD2": ("General Medicine", "Cardiology", "A", ()),
    "GSURG": ("General Surgery", None, "D", ()),
    "ORTHO": ("Surgery", None, "D", ()),
    "PSYCH": ("Psychiatry", None, "AB", ()),
    "PAEDS": ("Paediatrics", None, "B", ()),
    "RELIEF": ("Relief", None, "A", ("service",)),
    "RELIEF2": ("Relief", None, "C", ("service",)),
    "NIGHTS": ("Emergency Medicine", None, "C", ("nights",)),
    "RURAL1": ("Rural Psychiatry", None, "B", ("rural",)),
    "RURAL2": ("Rural Medicine", None, "C", ("rural",)),
    "RESEARCH": ("Research", None, "", ("non_clinical",)),
}


def document(term_weeks=YEAR, capacity=2, leave=None, only=None, pins=(), **changes) -> dict:
    """An instance of the posts above (every term, ``capacity`` places, no min_fill), no leave by default.
    ``changes``: per post key, fields to change; other names are the service's rules (groups, links...)."""
    positions = []
    for key, (specialty, subspecialty, categories, flags) in POSTS.items():
        if only is None or key in only:
            position = {"key": key, "name": key, "specialty": specialty, "subspecialty": subspecialty,
                        "categories": list(categories), "capacity": capacity, **{f: True for f in flags}}
            position.update(changes.get(key, {}))
            positions.append(position)
    return {"format": "receptor-planner/instance@1", "org": {"name": "Rulebook Health"}, "cohort": "PGY1",
            "start_date": "2027-01-04", "term_weeks": list(term_weeks), "leave": leave or {"weeks": 0},
            "positions": positions, "pins": list(pins),
            **{name: value for name, value in changes.items() if name not in POSTS}}


def solution(doc: dict, constraints: list[str], lines: list[list[str]], leave: list[set[int]] | None = None) -> dict:
    inst = parse_instance(doc)
    leave = leave or [set()] * len(lines)
    return {"format": SOLUTION_FORMAT, "status": "COMPLETED",
            "request": {"n_job_lines": len(lines), "constraints": constraints},
            "lines": [{"name": f"Line {i + 1}", "rotations": rotations(inst, tuple(line), weeks)}
                      for i, (line, weeks) in enumerate(zip(lines, leave))],
            "metrics": {}, "explanation": None}


def flagged(doc: dict, constraints: list[str], lines: list[list[str]], **kw) -> set[str]:
    return {v.rule for v in check(doc, solution(doc, constraints, lines, **kw))}


def model_accepts(doc: dict, constraints: list[str], lines: list[list[str]]) -> bool:
    """Whether the line model, every variable fixed to ``lines``, is feasible."""
    inst = parse_instance(doc)
    rules = resolve_rules(constraints, inst.cohort)
    index = {post.key: p for p, post in enumerate(inst.positions)}
    # the model orders interchangeable lines; a fixed assignment must come in that order
    grid = sorted(([index[key] for key in line] for line in lines), key=sort_key)
    lm = build_model(inst, rules, len(lines), allow_partial=False)
    for (l, t, p), var in lm.v.x.items():
        lm.model.add(var == int(grid[l][t - 1] == p))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20
    status = solver.solve(lm.model)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.INFEASIBLE), solver.status_name(status)
    return status != cp_model.INFEASIBLE


KEEPS_AMC_PGY1 = ["ED", "GMED", "CARD", "GSURG", "PSYCH"]

# code: (ruleset, the year, the posts' changes, a line that keeps every rule, one that breaks only ``code``)
LINE_CASES = {
    "MIN_TERMS": (["AMC_PGY2"], (10, 10, 6, 6, 20), {},
                  ["ED", "GMED", "RESEARCH", "CARD", "PSYCH"], ["ED", "GMED", "PSYCH", "CARD", "RESEARCH"]),
    "CATEGORIES": (["AMC_PGY1"], YEAR, {}, KEEPS_AMC_PGY1, ["ED", "GMED", "CARD", "PAEDS", "PSYCH"]),
    "SPECIALTY_CAP": (["AMC_PGY1"], YEAR, {}, KEEPS_AMC_PGY1, ["GMED", "CARD", "GMED2", "GSURG", "ED"]),
    "SUBSPECIALTY_CAP": (["AMC_PGY1"], YEAR, {},
                         ["ED", "CARD", "GMED", "GSURG", "PSYCH"], ["ED", "CARD", "CARD2", "GSURG", "PSYCH"]),
    "SERVICE_CAP": (["AMC_PGY1"], YEAR, {},
                    ["ED", "GMED", "RELIEF", "GSURG", "PSYCH"], ["ED", "GMED", "CARD", "GSURG", "RELIEF"]),
    # 14 weeks non-clinical and 13 in service (within PGY2's caps) leave 25 team weeks of 52
    "TEAM_MIN": (["AMC_PGY2"], (14, 12, 13, 13), {},
                 ["ED", "GMED", "RELIEF", "PSYCH"], ["RESEARCH", "GMED", "RELIEF", "ED"]),
    "NON_CLINICAL_MAX": (["AMC_PGY1"], YEAR, {}, KEEPS_AMC_PGY1, ["ED", "GMED", "GSURG", "RESEARCH", "PSYCH"]),
    "MAX_1_RURAL": (["UNRESTRICTED", "MAX_1_RURAL"], YEAR, {},
                    ["RURAL1", "GMED", "CARD", "GSURG", "PSYCH"], ["RURAL1", "GMED", "RURAL2", "GSURG", "PSYCH"]),
    "MAX_1_SERVICE": (["UNRESTRICTED", "MAX_1_SERVICE"], YEAR, {},
                      ["RELIEF", "GMED", "CARD", "GSURG", "PSYCH"], ["RELIEF", "GMED", "RELIEF2", "GSURG", "PSYCH"]),
    "NO_NIGHTS": (["UNRESTRICTED", "NO_NIGHTS"], YEAR, {}, KEEPS_AMC_PGY1, ["ED", "GMED", "NIGHTS", "GSURG", "PSYCH"]),
    # the service's own rule: one placement of its emergency posts
    "LINE_RULE": (["UNRESTRICTED"], YEAR, {"groups": {"core-ed": ["ED", "NIGHTS"]}, "line_rules": [
                      {"name": "core emergency", "group": "core-ed", "min": 1, "max": 1}]},
                  KEEPS_AMC_PGY1, ["PAEDS", "GMED", "CARD", "GSURG", "PSYCH"]),
    # General Medicine twice (20 weeks, within the specialty cap); Cardiology is a unit of its own
    "DISTINCT_SPECIALTIES": (["AMC_PGY1", "DISTINCT_SPECIALTIES"], YEAR, {},
                             KEEPS_AMC_PGY1, ["ED", "GMED", "GMED2", "GSURG", "PSYCH"]),
}
SERVICE_RULE_FIELDS = ("groups", "line_rules", "links", "home_site_min_terms")


def case(code: str, pins=(), without=False) -> tuple[dict, list[str], list[str], list[str]]:
    """(the instance, the ruleset, a line that keeps every rule, one that breaks only ``code``);
    ``without`` the rule: the base ruleset and none of the service's rules."""
    constraints, year, changes, keeps, breaks = LINE_CASES[code]
    if without:
        changes = {name: value for name, value in changes.items() if name not in SERVICE_RULE_FIELDS}
        constraints = ["UNRESTRICTED"]
    doc = document(year, pins=pins, **changes)
    doc["cohort"] = "PGY2" if any(name.endswith("PGY2") for name in constraints) else "PGY1"
    return doc, constraints, keeps, breaks


def test_every_line_rule_has_a_case():
    assert set(LINE_CASES) == set(rulebook.LINE_RULES)


@pytest.mark.parametrize("code", LINE_CASES)
def test_a_line_that_keeps_the_rule_is_feasible_and_clean(code):
    doc, constraints, keeps, _ = case(code)
    assert flagged(doc, constraints, [keeps]) == set()
    assert model_accepts(doc, constraints, [keeps])


@pytest.mark.parametrize("code", LINE_CASES)
def test_a_line_that_breaks_the_rule_is_infeasible_and_flagged(code):
    doc, constraints, _, breaks = case(code)
    assert flagged(doc, constraints, [breaks]) == {code}
    assert not model_accepts(doc, constraints, [breaks])


@pytest.mark.parametrize("code", LINE_CASES)
def test_without_the_rule_the_breaking_line_is_accepted(code):
    """The rule, not some other part of the model, is what refuses the line."""
    doc, constraints, _, breaks = case(code, without=True)
    assert flagged(doc, constraints, [breaks]) == set()
    assert model_accepts(doc, constraints, [breaks])


@pytest.mark.parametrize("code", LINE_CASES)
def test_an_explanation_names_the_rule_that_a_pin_breaks(code):
    """Pin the breaking line: the conflict the explanation finds is this rule (and the pins)."""
    breaks = LINE_CASES[code][-1]
    doc, constraints, _, _ = case(code, pins=[{"line": 1, "term": t, "position": key}
                                               for t, key in enumerate(breaks, start=1)])
    inst = parse_instance(doc)

    class Search:
        work_left = None

        def run(self, name, solver, model, callback):
            return solver.solve(model)

        def cut_short(self, phase):
            raise AssertionError("out of time")

    reasons = conflicting_rules(inst, resolve_rules(constraints, inst.cohort), 1, 30, Search())
    assert reasons is not None
    assert {r.rule for r in reasons} - {"PIN"} == {code}


# ---------------------------------------------------------------- structural rules

def test_one_position_per_term():
    doc = document()
    assert not model_accepts_partial(doc, [["ED", "GMED", "CARD", "GSURG", None]])
    sol = solution(doc, ["UNRESTRICTED"], [["ED", "GMED", "CARD", "GSURG", "PSYCH"]])
    sol["lines"][0]["rotations"] = [r for r in sol["lines"][0]["rotations"] if r["term"] != 5]
    assert "ONE_POSITION_PER_TERM" in {v.rule for v in check(doc, sol)}


def model_accepts_partial(doc: dict, lines: list[list[str | None]]) -> bool:
    """Like model_accepts, but a None term holds no post: every variable of that term is false."""
    inst = parse_instance(doc)
    index = {post.key: p for p, post in enumerate(inst.positions)}
    lm = build_model(inst, resolve_rules(["UNRESTRICTED"], inst.cohort), len(lines), allow_partial=False)
    for (l, t, p), var in lm.v.x.items():
        key = lines[l][t - 1]
        lm.model.add(var == int(key is not None and index[key] == p))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    return solver.solve(lm.model) != cp_model.INFEASIBLE


def test_no_repeat_position():
    doc = document()
    assert model_accepts(doc, ["UNRESTRICTED"], [KEEPS_AMC_PGY1])
    repeat = ["ED", "GMED", "ED", "GSURG", "PSYCH"]
    assert not model_accepts(doc, ["UNRESTRICTED"], [repeat])
    assert flagged(doc, ["UNRESTRICTED"], [repeat]) == {"NO_REPEAT_POSITION"}


def test_availability_is_kept_by_having_no_variable():
    doc = document(ED={"terms": [1, 2]})
    inst = parse_instance(doc)
    lm = build_model(inst, resolve_rules(["UNRESTRICTED"], "PGY1"), 1, allow_partial=False)
    ed = next(p for p, post in enumerate(inst.positions) if post.key == "ED")
    assert {t for (_, t, p) in lm.v.x if p == ed} == {1, 2}
    assert flagged(doc, ["UNRESTRICTED"], [["GMED", "CARD", "ED", "GSURG", "PSYCH"]]) == {"AVAILABILITY"}
    assert flagged(doc, ["UNRESTRICTED"], [["ED", "CARD", "GMED", "GSURG", "PSYCH"]]) == set()


def test_capacity():
    doc = document(capacity=1)
    two = [KEEPS_AMC_PGY1, ["GMED", "CARD", "GSURG", "PSYCH", "ED"]]
    assert model_accepts(doc, ["UNRESTRICTED"], two) and flagged(doc, ["UNRESTRICTED"], two) == set()
    clash = [KEEPS_AMC_PGY1, ["ED", "CARD", "GSURG", "PSYCH", "GMED"]]
    assert not model_accepts(doc, ["UNRESTRICTED"], clash)
    assert flagged(doc, ["UNRESTRICTED"], clash) == {"CAPACITY"}


def test_min_fill():
    doc = document(PAEDS={"min_fill": [1, 0, 0, 0, 0]})
    assert model_accepts(doc, ["UNRESTRICTED"], [["PAEDS", "GMED", "CARD", "GSURG", "PSYCH"]])
    assert not model_accepts(doc, ["UNRESTRICTED"], [KEEPS_AMC_PGY1])
    assert flagged(doc, ["UNRESTRICTED"], [KEEPS_AMC_PGY1]) == {"MIN_FILL"}


def test_pin():
    doc = document(pins=[{"line": 1, "term": 2, "position": "GMED"}])
    assert model_accepts(doc, ["UNRESTRICTED"], [KEEPS_AMC_PGY1])
    moved = ["GMED", "ED", "CARD", "GSURG", "PSYCH"]
    assert not model_accepts(doc, ["UNRESTRICTED"], [moved])
    assert flagged(doc, ["UNRESTRICTED"], [moved]) == {"PIN"}


def test_tiling_holds_by_construction_of_the_rotations():
    leave = {"weeks": 5, "patterns": [[2, 3]], "min_gap_weeks": 4}
    doc = document(leave=leave)
    option = leave_options(parse_instance(doc))[7]
    sol = solution(doc, ["UNRESTRICTED"], [KEEPS_AMC_PGY1], leave=[option.weeks()])
    assert check(doc, sol) == []
    sol["lines"][0]["rotations"][1]["end_week"] += 1
    assert "TILING" in {v.rule for v in check(doc, sol)}


# ---------------------------------------------------------------- leave rules

LEAVE = {"weeks": 5, "patterns": [[5], [2, 3]], "min_gap_weeks": 6, "within_term": True}


@pytest.mark.parametrize("code,weeks", [
    ("LEAVE_WEEKS", set(range(3, 7))),  # 4 weeks
    ("LEAVE_PATTERN", {3, 4, 5, 6} | {30}),  # 4 + 1: no such pattern
    ("LEAVE_GAP", {2, 3} | {8, 9, 10}),  # 4 weeks apart, 6 needed
    ("LEAVE_WITHIN_TERM", set(range(9, 14))),  # weeks 9-13 cross from term 1 into term 2
])
def test_a_leave_the_rules_refuse_is_not_an_option_and_is_flagged(code, weeks):
    doc = document(leave=LEAVE)
    options = leave_options(parse_instance(doc))
    assert options and all(check(doc, solution(doc, ["UNRESTRICTED"], [KEEPS_AMC_PGY1], leave=[o.weeks()])) == []
                           for o in options[::7])
    assert weeks not in [o.weeks() for o in options]
    found = {v.rule for v in check(doc, solution(doc, ["UNRESTRICTED"], [KEEPS_AMC_PGY1], leave=[weeks]))}
    assert code in found and found <= {code, "LEAVE_PATTERN"}  # a wrong total matches no pattern either


def test_leave_max_concurrent():
    from receptor_planner.leave import plan_leave

    doc = document(leave={**LEAVE, "max_concurrent": 1})
    inst = parse_instance(doc)
    plan = plan_leave(inst, 12, 10, 0)
    weekly = [sum(1 for o in plan.options if any(s <= w < s + n for s, n in o.free)) for w in range(1, 53)]
    assert plan.options and max(weekly) <= 1
    same = plan.options[0]
    lines = [KEEPS_AMC_PGY1, ["GMED", "CARD", "GSURG", "PSYCH", "ED"]]
    assert {v.rule for v in check(doc, solution(doc, ["UNRESTRICTED"], lines, leave=[same.weeks()] * 2))} == \
        {"LEAVE_MAX_CONCURRENT"}


# ---------------------------------------------------------------- year rules

@pytest.mark.parametrize("code,year,leave", [
    ("TERM_COUNT", (13, 13, 13, 13), None),
    ("CLINICAL_WEEKS", YEAR, {"weeks": 6, "patterns": [[6]]}),
])
def test_a_year_rule_breaks_before_any_post_is_placed(code, year, leave):
    broken = document(year, leave=leave)
    constraints = ["VIC_PGY1"]
    rules = resolve_rules(constraints, "PGY1")
    assert [c for c, _ in rulebook.year_breaks(rules, parse_instance(broken))] == [code]
    line = ["ED", "GMED", "PAEDS", "ORTHO"] if len(year) == 4 else KEEPS_AMC_PGY1
    inst = parse_instance(broken)
    weeks = leave_options(inst)[0].weeks() if leave else set()
    assert code in {v.rule for v in check(broken, solution(broken, constraints, [line], leave=[weeks]))}
    assert rulebook.year_breaks(rules, parse_instance(document())) == []


# ---------------------------------------------------------------- one set of codes

def _docs_codes() -> set[str]:
    text = (REPO / "docs" / "rules.md").read_text()
    codes = set()
    for table in re.findall(r"(\| code \|.*?\n|\| modifier \| code \|.*?\n)((?:\|.*\n)+)", text):
        header, rows = table
        column = 1 if header.startswith("| modifier") else 0
        for row in rows.splitlines()[1:]:
            cell = row.strip("|").split("|")[column].strip()
            codes.update(re.findall(r"`([A-Z0-9_]+)`", cell))
    return codes


def test_the_model_the_checker_and_the_docs_name_the_same_codes():
    model = set(rulebook.CODES)
    assert len(model) == len(rulebook.CODES)
    assert model == set(checker.RULE_CODES) - {"FORMAT"}
    assert model == _docs_codes()


def test_the_model_tags_each_constraint_with_a_rulebook_code():
    """Built to explain, every rule group of the model carries a code of the rulebook."""
    doc = document(pins=[{"line": 1, "term": 1, "position": "ED"}],
                   **{**SERVICE_RULES, "PAEDS": {**SITES["PAEDS"], "min_fill": 1}})
    inst = parse_instance(doc)
    rules = resolve_rules(["NSW_PGY1", "MAX_1_RURAL", "NO_NIGHTS", "DISTINCT_SPECIALTIES"], "PGY1")
    lm = build_model(inst, rules, 2, allow_partial=False, explain=True)
    codes = {code for code, _ in lm.guards.literals}
    assert codes == set(rulebook.LINE_RULES) | set(rulebook.SERVICE_CODES) | {"MIN_FILL", "PIN"}
    assert codes <= set(rulebook.CODES)


# ---------------------------------------------------------------- the service's other rules

SITES = {key: {"site": "Echuca" if key.startswith("RURAL") else "Bendigo"} for key in POSTS}
SERVICE_RULES = {**SITES, "groups": {"core-ed": ["ED", "NIGHTS"]},
                 "line_rules": [{"name": "core emergency", "group": "core-ed", "min": 1}],
                 "links": [{"name": "emergency with psychiatry", "if": "ED", "then": ["PSYCH"]}],
                 "home_site_min_terms": 4}


@pytest.mark.parametrize("code,changes,keeps,breaks", [
    ("SPAN", {"PAEDS": {"span": 2}},
     ["PAEDS", "PAEDS", "ED", "GSURG", "PSYCH"], ["PAEDS", "ED", "GMED", "GSURG", "PSYCH"]),
    ("SPAN", {"PAEDS": {"span": 2, "terms": [1]}},  # may start in term 1 only
     ["PAEDS", "PAEDS", "ED", "GSURG", "PSYCH"], ["ED", "PAEDS", "PAEDS", "GSURG", "PSYCH"]),
    ("LINK", {"links": SERVICE_RULES["links"]}, KEEPS_AMC_PGY1, ["ED", "GMED", "CARD", "GSURG", "PAEDS"]),
    ("HOME_SITE", {**SITES, "home_site_min_terms": 5},
     KEEPS_AMC_PGY1, ["RURAL1", "GMED", "CARD", "GSURG", "PSYCH"]),
    ("LINE_RULE", {"groups": {"core-ed": ["ED", "NIGHTS"]},  # at most one of the group
                   "line_rules": [{"name": "one emergency term", "group": "core-ed", "max": 1}]},
     KEEPS_AMC_PGY1, ["ED", "GMED", "NIGHTS", "GSURG", "PSYCH"]),
])
def test_a_service_rule_in_both_directions(code, changes, keeps, breaks):
    doc = document(**changes)
    assert flagged(doc, ["UNRESTRICTED"], [keeps]) == set() and model_accepts(doc, ["UNRESTRICTED"], [keeps])
    assert flagged(doc, ["UNRESTRICTED"], [breaks]) == {code}
    assert not model_accepts(doc, ["UNRESTRICTED"], [breaks])
    if code != "SPAN":  # without the rule the line is accepted (a span post is its own rule)
        plain = document(**{key: value for key, value in changes.items() if key in POSTS})
        assert flagged(plain, ["UNRESTRICTED"], [breaks]) == set()
        assert model_accepts(plain, ["UNRESTRICTED"], [breaks])


def test_a_span_placement_counts_once_for_no_repeat_and_min_terms():
    """Two 6-week terms make one placement of 12 weeks: it counts toward MIN_TERMS, once."""
    doc = document((10, 10, 6, 6, 20), PAEDS={"span": 2, "terms": [3]})
    plain = document((10, 10, 6, 6, 20))
    for d in (doc, plain):
        d["cohort"] = "PGY2"
    line = ["ED", "RESEARCH", "PAEDS", "PAEDS", "GMED"]  # three placements of 10 weeks or more
    assert flagged(doc, ["AMC_PGY2"], [line]) == set() and model_accepts(doc, ["AMC_PGY2"], [line])
    # without the span the two 6-week terms count for nothing, and repeat the post
    assert flagged(plain, ["AMC_PGY2"], [line]) == {"NO_REPEAT_POSITION", "MIN_TERMS"}
    assert not model_accepts(plain, ["AMC_PGY2"], [line])


def test_leave_blocked():
    leave = {"weeks": 5, "patterns": [[5]], "blocked_weeks": [1, 2]}
    doc = document(leave=leave)
    options = leave_options(parse_instance(doc))
    assert options and all(not {1, 2} & o.weeks() for o in options)
    assert len(options) < len(leave_options(parse_instance(document(leave={"weeks": 5, "patterns": [[5]]}))))
    assert flagged(doc, ["UNRESTRICTED"], [KEEPS_AMC_PGY1], leave=[{2, 3, 4, 5, 6}]) == {"LEAVE_BLOCKED"}
    assert flagged(doc, ["UNRESTRICTED"], [KEEPS_AMC_PGY1], leave=[{3, 4, 5, 6, 7}]) == set()
    # a fixed block may fall in a blocked week: the closure is the service's own
    fixed = document(leave={"weeks": 5, "patterns": [[3]], "blocked_weeks": [1, 2],
                            "fixed_blocks": [{"start_week": 1, "weeks": 2}]})
    weeks = leave_options(parse_instance(fixed))[0].weeks()
    assert {1, 2} <= weeks and flagged(fixed, ["UNRESTRICTED"], [KEEPS_AMC_PGY1], leave=[weeks]) == set()
