"""The seeded instance generator and the shipped demo instance (no database)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "plpython"))

import json
import math
import os
import subprocess

import pytest

from receptor_planner_tools.generator import (
    SERVICES, category_places, generate, generate_with_plan, line_violations, max_concurrent_leave,
)
from receptor_planner.instance import parse_instance

SIZES = list(SERVICES)
SEEDS = (0, 1, 2)
DEMO = Path(__file__).parents[1] / "examples" / "metro-pgy1.json"

# size -> (lines, posts, campuses), inclusive ranges
SHAPES = {
    "rural": ((5, 10), (5, 6), (1, 1)),
    "regional": ((38, 42), (13, 13), (1, 1)),
    "metropolitan": ((115, 125), (40, 60), (3, 4)),
    "stress": ((290, 310), (100, 130), (5, 8)),
}


def per_term(value, n_terms=5):
    return [value] * n_terms if isinstance(value, int) else value


def planted_counts(plan, key):
    return [sum(line[t] == key for line in plan) for t in range(5)]


def campuses(doc):
    return {p["key"].split("-")[0] for p in doc["positions"]}


# ---------------------------------------------------------------- shape

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tight,impossible", [(True, False), (False, False), (True, True), (False, True)])
def test_every_size_and_mode_parses(size, seed, tight, impossible):
    instance = parse_instance(generate(size, seed, tight, impossible))
    assert instance.cohort == "PGY1"
    assert instance.term_weeks == (10, 10, 10, 10, 12)
    assert instance.start_date.year == 2027 and instance.start_date.month == 1
    assert instance.leave.weeks == 5 and instance.leave.min_gap_weeks == 13


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
def test_sizes_have_their_shape(size, seed):
    doc, plan = generate_with_plan(size, seed)
    (lo_lines, hi_lines), (lo_posts, hi_posts), (lo_campuses, hi_campuses) = SHAPES[size]
    assert lo_lines <= len(plan) <= hi_lines
    assert lo_posts <= len(doc["positions"]) <= hi_posts
    assert lo_campuses <= len(campuses(doc)) <= hi_campuses


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="unknown size"):
        generate("suburban")


# ---------------------------------------------------------------- determinism

@pytest.mark.parametrize("size", SIZES)
def test_same_seed_same_document(size):
    for flags in [(True, False), (False, False), (True, True)]:
        assert json.dumps(generate(size, 7, *flags)) == json.dumps(generate(size, 7, *flags))


def test_seeds_differ():
    assert generate("metropolitan", 0) != generate("metropolitan", 1)


def test_same_document_in_another_process():
    """No dependence on string hashing (PYTHONHASHSEED) or anything else per process."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
            "from receptor_planner_tools.generator import generate; print(json.dumps(generate('metropolitan', 3)))")
    outputs = {
        subprocess.run([sys.executable, "-c", code, str(Path(__file__).parents[1] / "plpython")],
                       env={**os.environ, "PYTHONHASHSEED": hash_seed}, capture_output=True, text=True,
                       check=True).stdout
        for hash_seed in ("1", "2")
    }
    assert outputs == {json.dumps(generate("metropolitan", 3)) + "\n"}


def test_flags_keep_the_posts_and_the_plan():
    doc, plan = generate_with_plan("regional", 4)
    for flags in [(False, False), (True, True)]:
        other, other_plan = generate_with_plan("regional", 4, *flags)
        assert other_plan == plan
        assert [p["key"] for p in other["positions"]] == [p["key"] for p in doc["positions"]]


# ---------------------------------------------------------------- the planted plan

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tight", [True, False])
def test_planted_lines_follow_the_rules(size, seed, tight):
    doc, plan = generate_with_plan(size, seed, tight)
    positions = {p["key"]: p for p in doc["positions"]}
    assert {tuple(line_violations(line, positions)) for line in plan} == {()}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
def test_tight_posts_are_filled_exactly_by_the_plan(size, seed):
    doc, plan = generate_with_plan(size, seed)
    for p in doc["positions"]:
        capacity = per_term(p["capacity"])
        assert capacity == planted_counts(plan, p["key"]), p["key"]
        if not p["excludable"]:
            assert per_term(p["min_fill"]) == capacity, p["key"]
        offered = list(range(1, 6)) if p["terms"] is None else p["terms"]
        assert offered == [t for t in range(1, 6) if capacity[t - 1] > 0], p["key"]
    for t in range(5):
        assert sum(per_term(p["capacity"])[t] for p in doc["positions"]) == len(plan)


@pytest.mark.parametrize("size", SIZES)
def test_loose_capacities_hold_the_plan_with_slack(size):
    doc, plan = generate_with_plan(size, 0, tight=False)
    for p in doc["positions"]:
        counts = planted_counts(plan, p["key"])
        for need, held, cap in zip(per_term(p["min_fill"]), counts, per_term(p["capacity"])):
            assert need <= held <= cap <= held + 2, p["key"]
    assert sum(sum(per_term(p["capacity"])) for p in doc["positions"]) > 5 * len(plan)


@pytest.mark.parametrize("size", SIZES)
def test_leave_cover_admits_the_plan(size):
    """One 5-week block per line, dealt round-robin over the ten disjoint 5-week
    slots inside the terms, puts at most ceil(N / 10) lines on leave at once."""
    doc, plan = generate_with_plan(size, 0)
    assert doc["leave"]["max_concurrent"] == max_concurrent_leave(len(plan))
    assert doc["leave"]["max_concurrent"] == math.ceil(1.5 * 5 * len(plan) / 52) + 1
    assert math.ceil(len(plan) / 10) <= doc["leave"]["max_concurrent"]


# ---------------------------------------------------------------- the rule check

POSTS = {key: {"key": key, "specialty": spec, "subspecialty": sub, "categories": list(cats),
               "terms": terms, "service": service, "rural": rural}
         for key, spec, sub, cats, terms, service, rural in [
             ("ED", "Emergency Medicine", None, "AC", None, False, False),
             ("GMED", "General Medicine", None, "AB", None, False, False),
             ("CARD1", "General Medicine", "Cardiology", "AC", None, False, False),
             ("CARD2", "General Medicine", "Cardiology", "AC", None, False, False),
             ("GSURG", "General Surgery", None, "D", None, False, False),
             ("PSYCH", "Psychiatry", None, "AB", None, False, False),
             ("RELIEF", "General Medicine", None, "A", [1, 2, 3, 4], True, False),
             ("NIGHTS", "Emergency Medicine", None, "AC", None, True, False),
             ("RURAL1", "Psychiatry", None, "B", None, False, True),
             ("RURAL2", "Emergency Medicine", None, "C", None, False, True),
         ]}
POSTS["RESEARCH"] = {"key": "RESEARCH", "specialty": "Research", "subspecialty": None, "categories": [],
                     "terms": None, "non_clinical": True}


@pytest.mark.parametrize("line,codes", [
    (["ED", "GMED", "CARD1", "GSURG", "PSYCH"], []),
    (["ED", "GMED", "RELIEF", "PSYCH", "GSURG"], []),
    (["ED", "GMED", "CARD1", "PSYCH", "PSYCH"], ["NO_REPEAT_POSITION", "CATEGORIES"]),
    (["ED", "GMED", "CARD1", "CARD2", "GSURG"], ["SPECIALTY_CAP", "SUBSPECIALTY_CAP"]),
    (["ED", "PSYCH", "NIGHTS", "RELIEF", "GSURG"], ["SERVICE_CAP"]),
    (["ED", "GMED", "PSYCH", "GSURG", "RELIEF"], ["AVAILABILITY", "SERVICE_CAP"]),
    (["RURAL1", "GMED", "RURAL2", "GSURG", "ED"], ["MAX_1_RURAL"]),
    (["ED", "GMED", "RESEARCH", "GSURG", "PSYCH"], ["NON_CLINICAL_MAX"]),
    (["ED", "GMED", "PSYCH", "GSURG"], ["ONE_POSITION_PER_TERM"]),
])
def test_line_violations_names_each_broken_rule(line, codes):
    assert line_violations(line, POSTS) == codes


def test_term_structure_rules():
    assert line_violations(["ED", "GMED"], POSTS, term_weeks=(26, 26)) == \
        ["MIN_TERMS", "CATEGORIES", "TERM_COUNT"]
    assert line_violations(["RELIEF", "GSURG", "ED", "PSYCH", "RURAL2"], POSTS, term_weeks=(27, 6, 6, 6, 7)) == \
        ["MIN_TERMS", "SPECIALTY_CAP", "SERVICE_CAP", "TEAM_MIN"]


def test_caps_are_inclusive():
    """13 weeks pass the 25% subspecialty cap and 26 weeks the 50% specialty cap of 52."""
    assert line_violations(["CARD1", "GMED", "ED", "GSURG"], POSTS, term_weeks=(13, 13, 13, 13)) == ["TERM_COUNT"]


# ---------------------------------------------------------------- the impossible mode

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tight", [True, False])
def test_impossible_has_too_few_category_d_places(size, tight):
    feasible, plan = generate_with_plan(size, 0, tight)
    broken, _ = generate_with_plan(size, 0, tight, impossible=True)
    # every planted line holds a D post, so the feasible instance has enough D places
    assert category_places(feasible["positions"], "D") >= len(plan)
    assert category_places(broken["positions"], "D") < len(plan)
    # only categories changed: places per term, min_fill and all else are the same
    for before, after in zip(feasible["positions"], broken["positions"]):
        assert {**before, "categories": None} == {**after, "categories": None}
        assert set(after["categories"]) <= set(before["categories"]) or after["categories"] == ["C"]
        assert 1 <= len(after["categories"]) <= 2


# ---------------------------------------------------------------- work

@pytest.mark.parametrize("seed", SEEDS)
def test_planting_the_stress_service_barely_backtracks(seed, monkeypatch):
    """Work, counted rather than timed: each (line, term) the depth-first planting visits ranks the
    posts once, so a plan with no backtracking ranks lines x terms times. Allow one revisit in ten."""
    from receptor_planner_tools import generator

    visits = []
    rank = generator._ranked
    monkeypatch.setattr(generator, "_ranked", lambda *args: visits.append(args[1]) or rank(*args))
    _, plan = generate_with_plan("stress", seed)
    terms = len(plan[0])
    assert len(plan) * terms <= len(visits) <= 1.1 * len(plan) * terms
    assert set(visits) == set(range(terms))  # every term was planted


# ---------------------------------------------------------------- the demo instance

def test_demo_is_the_generated_metropolitan_instance():
    """Regenerate with: cd plpython && python -m receptor_planner_tools.generator metropolitan
    --seed 0 > ../examples/metro-pgy1.json"""
    assert json.loads(DEMO.read_text()) == generate("metropolitan", 0)


def test_demo_is_a_realistic_metropolitan_service():
    doc = json.loads(DEMO.read_text())
    instance = parse_instance(doc)
    lines = instance.default_lines()
    assert doc["org"]["name"] == "Banksia Health"
    assert 100 <= lines <= 125
    assert 40 <= len(instance.positions) <= 60
    assert 3 <= len(campuses(doc)) <= 4
    positions = instance.positions
    assert all(1 <= len(p.categories) <= 2 and not p.non_clinical for p in positions)
    for flag in ("service", "nights", "rural", "excludable"):
        assert any(getattr(p, flag) for p in positions), flag
    specialties = {p.specialty for p in positions}
    assert {"Emergency Medicine", "General Medicine", "General Surgery", "Psychiatry", "Paediatrics",
            "Obstetrics and Gynaecology", "Anaesthetics"} <= specialties
    assert len({p.subspecialty for p in positions if p.specialty == "General Medicine"} - {None}) >= 4
    assert len({p.subspecialty for p in positions if p.specialty == "General Surgery"} - {None}) >= 3
    for category in "ABCD":
        assert category_places(doc["positions"], category) >= lines
