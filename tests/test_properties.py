"""Properties over random small instances: every result passes the checker and keeps its pins,
and the same request and seed give the same lines."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from builders import instance, posts_of, solve_checked
from receptor_planner.generator import generate

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


def test_the_same_request_and_seed_give_the_same_lines():
    for size in ("rural", "regional", "metropolitan"):
        doc = generate(size, seed=4)
        first, second = (solve_checked(doc, _lines(doc), ["VIC_PGY1"], seed=7, seconds=120) for _ in range(2))
        assert json.dumps(first["lines"]) == json.dumps(second["lines"]), size


def _lines(doc) -> int:
    from receptor_planner.instance import parse_instance

    return parse_instance(doc).default_lines()
