"""Properties over random small instances: every result passes the checker and keeps its pins;
where lines were planted, every planted line is built; and the same request and seed give the
same lines, also when CP-SAT searches."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from builders import default_lines, instance, post, posts_of, solve_checked
from receptor_planner.checker import check
from receptor_planner_tools.generator import generate, generate_with_plan, group_places, planted_rules

REPO = Path(__file__).resolve().parents[1]

TERM_SHAPES = [(26, 26), (13, 13, 13, 13), (10, 10, 10, 10, 12), (20, 12, 10, 10)]
CATEGORY_SETS = [("A",), ("B",), ("C",), ("D",), ("A", "B"), ("A", "C"), ("C", "D"), ("B", "D")]
SPECIALTIES = ["Medicine", "Surgery", "Emergency", "Psychiatry"]


@st.composite
def random_request(draw):
    term_weeks = draw(st.sampled_from(TERM_SHAPES))
    n_terms = len(term_weeks)
    positions = []
    for i in range(draw(st.integers(n_terms, n_terms + 3))):
        non_clinical = draw(st.booleans()) and i % 4 == 3
        positions.append({
            "key": f"P{i}", "name": f"Post {i}", "specialty": draw(st.sampled_from(SPECIALTIES)),
            "subspecialty": draw(st.sampled_from([None, None, "Cardiology"])),
            "categories": [] if non_clinical else list(draw(st.sampled_from(CATEGORY_SETS))),
            "capacity": draw(st.lists(st.integers(0, 3), min_size=n_terms, max_size=n_terms)),
            "service": draw(st.booleans()), "rural": draw(st.booleans()), "nights": False,
            "non_clinical": non_clinical, "excludable": draw(st.booleans())})
    cohort, base = draw(st.sampled_from([("PGY1", "UNRESTRICTED"), ("PGY1", "AMC_PGY1"),
                                          ("PGY2", "AMC_PGY2"), ("PGY3+", "AMC_PGY1")]))
    modifiers = draw(st.lists(st.sampled_from(["MAX_1_RURAL", "MAX_1_SERVICE"]), unique=True, max_size=2))
    pins = []
    if draw(st.booleans()):
        term = draw(st.integers(1, n_terms))
        offered = [p["key"] for p in positions if p["capacity"][term - 1] > 0]
        if offered:
            pins.append({"line": draw(st.integers(1, 2)), "term": term, "position": draw(st.sampled_from(offered))})
    leave = draw(st.sampled_from([{"weeks": 0}, {"weeks": 2, "patterns": [[2], [1, 1]], "min_gap_weeks": 3}]))
    doc = instance(positions, term_weeks=term_weeks, cohort=cohort, pins=pins, leave=leave)
    return doc, draw(st.integers(1, 5)), [base, *modifiers]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_request())
def test_every_result_passes_the_checker_and_keeps_its_pins(case):
    doc, n, constraints = case
    solution = solve_checked(doc, n, constraints, seconds=10)  # asserts no violation
    assert solution["status"] in ("COMPLETED", "INFEASIBLE")
    for pin in doc["pins"]:
        if solution["status"] == "COMPLETED":
            assert posts_of(solution, pin["line"])[pin["term"] - 1] == pin["position"]


def places_held(lines) -> Counter:
    return Counter((term, key) for line in lines for term, key in enumerate(line))


@st.composite
def planted_request(draw):
    """Random lines, then posts whose places are exactly what the lines hold (min_fill too): the
    planted lines are a solution, and the only one of that many lines up to the order of the lines."""
    term_weeks = draw(st.sampled_from(TERM_SHAPES))
    n_terms = len(term_weeks)
    keys = [f"P{i}" for i in range(draw(st.integers(n_terms, n_terms + 4)))]
    lines = [draw(st.permutations(keys))[:n_terms] for _ in range(draw(st.integers(1, 6)))]
    held = {key: [sum(line[t] == key for line in lines) for t in range(n_terms)] for key in keys}
    positions = [post(key, capacity=places, min_fill=places, categories=draw(st.sampled_from(CATEGORY_SETS)),
                      specialty=draw(st.sampled_from(SPECIALTIES)))
                 for key, places in held.items() if any(places)]
    return instance(positions, term_weeks=term_weeks), lines


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted_request())
def test_every_planted_line_of_a_random_service_is_built(case):
    doc, lines = case
    solution = solve_checked(doc, len(lines), ["UNRESTRICTED"], seconds=10, planted=len(lines))
    # the built lines hold every place the planted ones held, once
    assert places_held([posts_of(solution, line) for line in range(1, len(lines) + 1)]) == places_held(lines)


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["rural", "regional"]), st.integers(0, 10**6), st.booleans())
def test_every_planted_line_of_a_generated_service_is_built(size, seed, tight):
    """The generator plants VIC_PGY1 lines (leave fits them by construction); tight or loose, the
    solver builds at least as many."""
    doc, plan = generate_with_plan(size, seed, tight)
    solve_checked(doc, len(plan), ["VIC_PGY1"], seconds=8, planted=len(plan))


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.booleans())
def test_every_planted_line_of_a_service_with_local_rules_is_built(seed, tight):
    """A regional service with every local rule at once (core line rules, a link, a home site, a
    two-term community post, fixed year-end leave, blocked orientation weeks, preferred leave terms)
    under VIC_PGY1 and DISTINCT_SPECIALTIES: tight or loose, the solver builds every planted line."""
    doc, plan = generate_with_plan("real-regional", seed, tight)
    solve_checked(doc, len(plan), planted_rules("real-regional"), seconds=60, planted=len(plan))


@pytest.mark.slow
def test_every_planted_line_of_a_metropolitan_service_with_local_rules_is_built():
    doc, plan = generate_with_plan("real-metropolitan", 0)
    solve_checked(doc, len(plan), planted_rules("real-metropolitan"), seconds=120, planted=len(plan))


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.booleans())
def test_a_core_group_short_of_places_bounds_the_lines(seed, tight):
    """A core group offers fewer placements than there are planted lines, and its line rule asks one
    of every line: as many lines as possible are at most that many, and the solver's proven bound
    says so (arithmetic, no search needed)."""
    doc, plan = generate_with_plan("real-regional", seed, tight, impossible=True)
    places = min(group_places(doc, rule["group"]) for rule in doc["line_rules"])
    assert places < len(plan)
    solution = solve_checked(doc, len(plan), planted_rules("real-regional"), seconds=60)
    assert len(solution["lines"]) <= places
    assert solution["metrics"]["lines_upper_bound"] <= places


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_request())
def test_a_random_request_solved_twice_gives_the_same_lines(case):
    doc, n, constraints = case
    first, second = (solve_checked(doc, n, constraints, seconds=10, seed=3) for _ in range(2))
    assert first["metrics"]["reproducible"] is True
    assert json.dumps(first["lines"]) == json.dumps(second["lines"])


def test_the_same_request_and_seed_give_the_same_lines():
    for size in ("rural", "regional", "metropolitan"):
        doc = generate(size, seed=4)
        n = default_lines(doc)  # a tight service holds exactly its planted lines
        first, second = (solve_checked(doc, n, ["VIC_PGY1"], seed=7, seconds=120, planted=n) for _ in range(2))
        assert json.dumps(first["lines"]) == json.dumps(second["lines"]), size


# A loose rural service whose constructed start the model refuses (one line too many for
# MAX_1_RURAL): the lines come from CP-SAT searches, not from the construction.
SEARCHED = dict(size="rural", seed=1, tight=False)
SEARCHED_RULES = "VIC_PGY1,MAX_1_RURAL"


def test_a_search_gives_the_same_lines_in_other_processes_and_under_load(tmp_path):
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(generate(**SEARCHED)))

    def solve_in_a_process(hash_seed: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "receptor_planner_tools", "solve", str(path), "--allow-partial",
                               "--constraints", SEARCHED_RULES, "--seed", "7"], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO / "plpython"), "PYTHONHASHSEED": hash_seed},
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    first = solve_in_a_process("1")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # the second runs beside a busy core
    try:
        second = solve_in_a_process("2")
    finally:
        busy.kill()
        busy.wait()
    for solution in (first, second):
        assert check(json.loads(path.read_text()), solution) == []
        assert solution["metrics"]["reproducible"] is True
    statuses = first["metrics"]["solver_status"]
    assert statuses["construct"] == "INFEASIBLE" and "lines" in statuses  # CP-SAT searched
    assert first["lines"] == second["lines"]


def test_racing_workers_are_reported_as_not_reproducible():
    doc = generate(**SEARCHED)
    solution = solve_checked(doc, _lines(doc), SEARCHED_RULES.split(","), seed=7, workers=2)
    assert solution["metrics"]["reproducible"] is False
    assert solve_checked(doc, _lines(doc), SEARCHED_RULES.split(","), seed=7)["metrics"]["reproducible"] is True


def _lines(doc) -> int:
    from receptor_planner.instance import parse_instance

    return parse_instance(doc).default_lines()
