"""The service's own rules, solved end to end: every result held to the independent checker."""
from __future__ import annotations

import copy

import pytest

from builders import instance, post, posts_of, solve_checked
from receptor_planner.checker import check_all
from receptor_planner.instance import parse_instance, parse_request
from receptor_planner.solution import to_document
from receptor_planner.solve import solve

YEAR = (10, 10, 10, 10, 12)
CORE = {"core-ed": ["ED"], "core-med": ["GMED"], "core-surg": ["GSURG"]}


def service(lines_per_core: int = 2, **changes) -> dict:
    """Three core posts every line holds once, non-core posts (a community post of two terms, an
    external post at a second site that comes with psychiatry), year-end leave and orientation."""
    doc = instance([
        post("ED", capacity=lines_per_core, categories=("A", "C"), specialty="Emergency", site="Bendigo"),
        post("GMED", capacity=lines_per_core, categories=("A", "B"), specialty="Medicine", site="Bendigo"),
        post("GSURG", capacity=lines_per_core, categories=("D",), specialty="Surgery", site="Bendigo"),
        post("PSYCH", capacity=2, categories=("B",), specialty="Psychiatry", site="Bendigo"),
        post("PAEDS", capacity=2, categories=("B",), specialty="Paediatrics", site="Bendigo"),
        post("COMM", capacity=2, categories=("A",), specialty="General Practice", site="Bendigo", span=2,
             terms=[1, 3]),
        post("ECH-ED", capacity=1, categories=("C",), specialty="Rural Emergency", site="Echuca"),
    ], term_weeks=YEAR, leave={"weeks": 5, "patterns": [[2]], "min_gap_weeks": 4, "blocked_weeks": [1, 2],
                               "fixed_blocks": [{"start_week": 50, "weeks": 3}], "preferred_groups": ["non-core"]})
    doc.update({
        "groups": {**CORE, "non-core": ["PSYCH", "PAEDS", "COMM", "ECH-ED"]},
        "line_rules": [{"name": f"core {name[5:]}", "group": name, "min": 1, "max": 1} for name in CORE],
        "links": [{"name": "Echuca ED with psychiatry", "if": "ECH-ED", "then": ["PSYCH"]}],
        "home_site_min_terms": 4,
    })
    doc.update(changes)
    return doc


def test_every_local_rule_at_once_solves_and_the_checker_agrees():
    doc = service()
    solution = solve_checked(doc, 6, constraints=("UNRESTRICTED", "DISTINCT_SPECIALTIES"), planted=6)
    lines = [posts_of(solution, n) for n in range(1, 7)]
    for line in lines:
        assert [line.count(core) for core in ("ED", "GMED", "GSURG")] == [1, 1, 1]
        if "ECH-ED" in line:
            assert "PSYCH" in line
        if "COMM" in line:
            first = line.index("COMM") + 1
            assert first in (1, 3) and line[first] == "COMM" and line.count("COMM") == 2
    # every line has a non-core term before the last week a planned block may end, so its leave goes there
    assert solution["metrics"]["leave_preferred_share"] >= 0.9


def test_leave_preference_moves_planned_leave_into_non_core_terms():
    with_preference = solve_checked(service(), 6, planted=6)["metrics"]["leave_preferred_share"]
    plain = service()
    plain["leave"] = {**plain["leave"], "preferred_groups": []}
    without = solve_checked(plain, 6, planted=6)["metrics"]
    assert without["leave_preferred_share"] is None  # nothing preferred, nothing to report
    assert with_preference == 1.0


def test_a_core_group_too_small_for_every_line_is_explained_by_its_rule_name():
    doc = service(lines_per_core=1)  # five places of each core post in the year, six lines
    inst = parse_instance(doc)
    request = parse_request({"n_job_lines": 6, "constraints": ["UNRESTRICTED"], "max_seconds": 20},
                            inst.cohort, inst.n_terms)
    result = solve(inst, request)
    solution = to_document(inst, request, result)
    assert check_all(doc, solution) == []
    assert result.status == "INFEASIBLE"
    reasons = result.explanation["reasons"]
    assert reasons[0]["rule"] == "LINE_RULE" and reasons[0]["lines_possible"] == 5
    assert reasons[0]["message"].startswith("core ed: ")


def test_a_span_post_takes_its_places_in_every_term_it_covers():
    doc = instance([post("COMM", capacity=1, span=2, terms=[1]), post("A", capacity=2), post("B", capacity=2),
                    post("C", capacity=2), post("D", capacity=2)], term_weeks=(13, 13, 13, 13))
    solution = solve_checked(doc, 2, planted=2)
    holders = [n for n in (1, 2) if "COMM" in posts_of(solution, n)]
    assert len(holders) <= 1
    for n in holders:
        assert posts_of(solution, n)[:2] == ["COMM", "COMM"]


@pytest.mark.parametrize("field,value", [("links", [{"name": "x", "if": "ECH-ED", "then": ["PAEDS"]}]),
                                         ("home_site_min_terms", 5)])
def test_a_rule_that_changes_the_answer_is_kept(field, value):
    """The solver keeps the rule it is given, not a neighbour of it (the checker would say)."""
    doc = copy.deepcopy(service(**{field: value}))
    solve_checked(doc, 6, planted=6)


@pytest.mark.parametrize("size", ["real-regional", "real-metropolitan"])
def test_the_constructed_start_keeps_every_local_rule(size):
    """On the real-shaped services the start built term by term, then repaired, is already a
    solution: the model accepts it with every variable fixed, and no search is needed."""
    from receptor_planner_tools.generator import generate, planted_rules

    doc = generate(size, 5)
    n = parse_instance(doc).default_lines()
    metrics = solve_checked(doc, n, constraints=planted_rules(size), planted=n)["metrics"]
    assert metrics["solver_status"]["construct"] == "OPTIMAL"
    assert metrics["time_to_first_solution"] is not None
