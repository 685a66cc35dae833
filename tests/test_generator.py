"""The seeded instance generator and the shipped demo instance (no database)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "plpython"))

import json
import math
import os
import subprocess
from collections import Counter

import pytest

from receptor_planner_tools.generator import (
    REAL_SIZES, SERVICES, category_places, generate, generate_with_plan, group_places, line_violations,
    max_concurrent_leave, planted_rules, planted_solution,
)
from receptor_planner.checker import check
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


@pytest.mark.parametrize("size", ["metropolitan", "real-metropolitan"])
def test_same_document_in_another_process(size):
    """No dependence on string hashing (PYTHONHASHSEED) or anything else per process."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
            f"from receptor_planner_tools.generator import generate; print(json.dumps(generate({size!r}, 3)))")
    outputs = {
        subprocess.run([sys.executable, "-c", code, str(Path(__file__).parents[1] / "plpython")],
                       env={**os.environ, "PYTHONHASHSEED": hash_seed}, capture_output=True, text=True,
                       check=True).stdout
        for hash_seed in ("1", "2")
    }
    assert outputs == {json.dumps(generate(size, 3)) + "\n"}


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


# ---------------------------------------------------------------- services with local rules

REAL = list(REAL_SIZES)
MODES = [(True, False), (False, False), (True, True), (False, True)]  # (tight, impossible)
CORE = ("core-ed", "core-gmed", "core-gsurg")
# size -> (lines, posts), inclusive ranges
REAL_SHAPES = {"real-regional": ((41, 45), (12, 18)), "real-metropolitan": ((120, 150), (30, 45))}


def positions_by_key(doc):
    return {p["key"]: p for p in doc["positions"]}


def posts_by_term(solution_line) -> list[str]:
    """The post of each term of a solution line (leave splits a term; the post is the same)."""
    held = {}
    for rotation in solution_line["rotations"]:
        if rotation["kind"] == "clinical":
            held[rotation["term"]] = rotation["position"]
    return [held[t] for t in sorted(held)]


def planned_leave_weeks(doc, solution_line) -> list[int]:
    fixed = {b["start_week"] + i for b in doc["leave"]["fixed_blocks"] for i in range(b["weeks"])}
    weeks = [w for r in solution_line["rotations"] if r["kind"] == "leave"
             for w in range(r["start_week"], r["end_week"] + 1)]
    return [w for w in weeks if w not in fixed]


def term_of_week(week: int, term_weeks=(10, 10, 10, 10, 12)) -> int:
    end = 0
    for term, weeks in enumerate(term_weeks, start=1):
        end += weeks
        if week <= end:
            return term
    raise ValueError(week)


@pytest.mark.parametrize("size", REAL)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tight,impossible", MODES)
def test_services_with_local_rules_parse_with_every_local_rule(size, seed, tight, impossible):
    instance = parse_instance(generate(size, seed, tight, impossible))
    assert instance.term_weeks == (10, 10, 10, 10, 12)
    assert [(r.group, r.min, r.max) for r in instance.line_rules] == [(group, 1, 1) for group in CORE]
    assert len(instance.links) == 1 and instance.home_site_min_terms == 4
    assert len({p.site for p in instance.positions}) == 2
    assert [p.span for p in instance.positions].count(2) == 1
    leave = instance.leave
    assert leave.fixed_blocks == ((50, 3),) and leave.blocked_weeks == (1, 2)
    assert leave.preferred_groups == ("non-core",) and leave.weeks == 5


@pytest.mark.parametrize("size", REAL)
@pytest.mark.parametrize("seed", SEEDS)
def test_services_with_local_rules_have_their_shape(size, seed):
    doc, plan = generate_with_plan(size, seed)
    (lo_lines, hi_lines), (lo_posts, hi_posts) = REAL_SHAPES[size]
    assert lo_lines <= len(plan) <= hi_lines
    assert lo_posts <= len(doc["positions"]) <= hi_posts
    posts = positions_by_key(doc)
    core = [key for group in CORE for key in doc["groups"][group]]
    non_core = doc["groups"]["non-core"]
    assert sorted(core + non_core) == sorted(posts)  # every post is core or non-core, not both
    main_site = posts[doc["groups"]["core-gsurg"][0]].get("site")
    second_site = [key for key in posts if posts[key]["site"] != main_site]
    assert 2 <= len(second_site) <= 3  # the second site has few posts, its emergency post among them
    assert doc["links"][0]["if"] in second_site and doc["links"][0]["if"] in doc["groups"]["core-ed"]
    assert all(key not in second_site for key in doc["links"][0]["then"])
    # few large core posts at the main site, many small non-core ones of 1 to 3 places
    large = [per_term(posts[key]["capacity"]) for key in core if key not in second_site]
    small = [per_term(posts[key]["capacity"]) for key in non_core if posts[key].get("span", 1) == 1]
    assert len(small) > len(large)
    for t in range(5):
        assert min(c[t] for c in large) > max(c[t] for c in small)
    assert all(1 <= places <= 3 for c in small for places in c if places)


@pytest.mark.parametrize("size", REAL)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tight", [True, False])
def test_the_planted_solution_passes_the_checker(size, seed, tight):
    doc, plan = generate_with_plan(size, seed, tight)
    solution = planted_solution(size, seed, tight)
    assert solution["request"]["constraints"] == planted_rules(size) == ["VIC_PGY1", "DISTINCT_SPECIALTIES"]
    assert check(doc, solution) == []
    assert [posts_by_term(line) for line in solution["lines"]] == plan


@pytest.mark.parametrize("size", REAL)
def test_the_planted_lines_use_every_local_rule(size):
    doc, plan = generate_with_plan(size, 0)
    posts = positions_by_key(doc)
    community = next(key for key, p in posts.items() if p.get("span", 1) == 2)
    starts = [line.index(community) + 1 for line in plan if community in line]
    assert starts and set(starts) <= set(posts[community]["terms"])
    assert all(line[start] == community for line, start in zip((l for l in plan if community in l), starts))
    link = doc["links"][0]
    linked = [line for line in plan if link["if"] in line]
    assert linked and all(set(line) & set(link["then"]) for line in linked)
    for group in CORE:
        assert all(sum(key in doc["groups"][group] for key in line) == 1 for line in plan), group
    main_site = posts[doc["groups"]["core-gsurg"][0]]["site"]
    away = [sum(posts[key]["site"] != main_site for key in line) for line in plan]
    assert max(away) == 1 and 0 in away  # some lines spend a term at the second site, none two


# Each mutation makes one local rule stricter than the planted lines allow and returns its code:
# the checker, which passed the planted solution, must then find that rule, and nothing else but
# what the same change also breaks (ALSO_BROKEN).
def _no_home_site_away(doc, plan):
    doc["home_site_min_terms"] = 5
    return "HOME_SITE"


def _orientation_all_year(doc, plan):
    doc["leave"]["blocked_weeks"] = list(range(1, 50))
    return "LEAVE_BLOCKED"


def _no_core_emergency(doc, plan):
    doc["line_rules"][0].update(min=0, max=0)
    return "LINE_RULE"


def _link_to_a_post_not_held(doc, plan):
    link = doc["links"][0]
    linked = [set(line) for line in plan if link["if"] in line]
    link["then"] = [next(key for key in doc["groups"]["non-core"] if not all(key in line for line in linked))]
    return "LINK"


def _community_only_from_term_1(doc, plan):
    community = next(p for p in doc["positions"] if p.get("span", 1) == 2)
    community["terms"] = [1]  # the lines whose placement starts in term 3 now hold it where it is not offered
    return "SPAN"


def _link_target_in_general_medicine(doc, plan):
    target = next(p for p in doc["positions"] if p["key"] == doc["links"][0]["then"][0])
    target["subspecialty"] = None  # its unit becomes General Medicine, a core group's unit
    return "DISTINCT_SPECIALTIES"


ALSO_BROKEN = {"SPAN": {"AVAILABILITY"}}


@pytest.mark.parametrize("size", REAL)
@pytest.mark.parametrize("mutate", [_no_home_site_away, _orientation_all_year, _no_core_emergency,
                                    _link_to_a_post_not_held, _community_only_from_term_1,
                                    _link_target_in_general_medicine])
def test_every_local_rule_binds_the_planted_lines(size, mutate):
    doc, plan = generate_with_plan(size, 1)
    solution = planted_solution(size, 1)
    code = mutate(doc, plan)
    found = {v.rule for v in check(doc, solution)}
    assert code in found and found <= {code} | ALSO_BROKEN.get(code, set()), found


@pytest.mark.parametrize("size", REAL)
@pytest.mark.parametrize("seed", SEEDS)
def test_tight_local_services_are_filled_exactly_by_the_plan(size, seed):
    doc, plan = generate_with_plan(size, seed)
    for p in doc["positions"]:
        capacity = per_term(p["capacity"])
        assert capacity == planted_counts(plan, p["key"]), p["key"]
        if not p["excludable"]:
            assert per_term(p["min_fill"]) == capacity, p["key"]
        if p["span"] == 1:
            assert (p["terms"] or [1, 2, 3, 4, 5]) == [t for t in range(1, 6) if capacity[t - 1] > 0], p["key"]
        else:
            assert p["terms"] == sorted({line.index(p["key"]) + 1 for line in plan if p["key"] in line})
    for t in range(5):
        assert sum(per_term(p["capacity"])[t] for p in doc["positions"]) == len(plan)
    assert parse_instance(doc).default_lines() == len(plan)


@pytest.mark.parametrize("size", REAL)
def test_loose_local_services_hold_the_plan_with_slack(size):
    doc, plan = generate_with_plan(size, 0, tight=False)
    for p in doc["positions"]:
        for need, held, cap in zip(per_term(p["min_fill"]), planted_counts(plan, p["key"]), per_term(p["capacity"])):
            assert need <= held <= cap <= held + 2, p["key"]
    assert sum(sum(per_term(p["capacity"])) for p in doc["positions"]) > 5 * len(plan)


@pytest.mark.parametrize("size", REAL)
@pytest.mark.parametrize("tight", [True, False])
def test_planted_leave_is_all_in_preferred_terms(size, tight):
    """Every line has a non-core term in terms 1-4, before the gap rule's last week for a planned
    block (week 36: 13 weeks before the fixed block at week 50), so all planned leave can be preferred;
    the planted leave is, and it sets max_concurrent: its peak (loose: one more)."""
    doc, plan = generate_with_plan(size, 2, tight)
    solution = planted_solution(size, 2, tight)
    preferred = set(doc["groups"]["non-core"])
    on_leave = Counter()
    for line, planted in zip(solution["lines"], plan):
        weeks = planned_leave_weeks(doc, line)
        assert len(weeks) == 2 and not set(weeks) & {1, 2} and max(weeks) <= 36
        assert all(planted[term_of_week(w) - 1] in preferred for w in weeks)
        on_leave.update(weeks)
    assert doc["leave"]["max_concurrent"] == max(on_leave.values()) + (0 if tight else 1)


@pytest.mark.parametrize("size", REAL)
@pytest.mark.parametrize("tight", [True, False])
def test_impossible_local_services_have_a_core_group_short_of_places(size, tight):
    """Provably impossible by arithmetic: a core group's line rule asks every line for a placement of
    the group (min 1), and a placement takes one of the places its posts offer, so at most
    group_places lines exist, fewer than were planted. Every term still offers a place per line:
    only the line rule stands in the way."""
    feasible, plan = generate_with_plan(size, 0, tight)
    broken, same_plan = generate_with_plan(size, 0, tight, impossible=True)
    assert same_plan == plan
    assert all(group_places(feasible, group) >= len(plan) for group in CORE)
    short = [rule for rule in broken["line_rules"] if group_places(broken, rule["group"]) < len(plan)]
    assert len(short) == 1 and short[0]["min"] == 1
    for t in range(5):
        assert sum(per_term(p["capacity"])[t] for p in broken["positions"]) == \
            sum(per_term(p["capacity"])[t] for p in feasible["positions"])
    for before, after in zip(feasible["positions"], broken["positions"]):
        assert {**before, "capacity": None, "min_fill": None} == {**after, "capacity": None, "min_fill": None}
        assert all(need <= cap for need, cap in zip(per_term(after["min_fill"]), per_term(after["capacity"])))
    assert {k: v for k, v in broken.items() if k != "positions"} == \
        {k: v for k, v in feasible.items() if k != "positions"}


@pytest.mark.parametrize("size", REAL)
def test_local_services_are_the_same_per_seed_and_differ_between_seeds(size):
    for flags in MODES:
        assert json.dumps(generate(size, 7, *flags)) == json.dumps(generate(size, 7, *flags))
    assert generate(size, 0) != generate(size, 1)
    doc, plan = generate_with_plan(size, 4)
    for flags in MODES[1:]:
        other, other_plan = generate_with_plan(size, 4, *flags)
        assert other_plan == plan
        assert [p["key"] for p in other["positions"]] == [p["key"] for p in doc["positions"]]


def test_only_services_with_local_rules_have_a_planted_solution():
    with pytest.raises(ValueError, match="plants no leave"):
        planted_solution("regional", 0)
    with pytest.raises(ValueError, match="unknown size"):
        planted_rules("suburban")
    assert planted_rules("regional") == ["VIC_PGY1", "MAX_1_RURAL"]
