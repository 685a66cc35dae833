"""Solver tests per rule, on tiny instances where breaking the rule would be the
only way to build more lines. Each case solves twice: with the rule (fewer
lines, and the checker finds nothing) and without it (more lines), so a model
that forgot the rule fails the test."""
from __future__ import annotations

import pytest

from builders import built, instance, post, posts_of, solve_checked


def one_line(*overrides: dict, term_weeks=(13, 13, 13, 13)) -> list[dict]:
    """Posts offered one per term, so a single line is forced through all of them.

    The defaults meet every AMC PGY1 rule: categories A-D, four specialties,
    no service, nights, rural or non-clinical post."""
    defaults = [dict(categories=("A", "B"), specialty="Medicine"), dict(categories=("C", "D"), specialty="Surgery"),
                dict(categories=("A",), specialty="Emergency"), dict(categories=("B",), specialty="Psychiatry"),
                dict(categories=("A", "C"), specialty="Paediatrics")]
    posts = []
    for t in range(1, len(term_weeks) + 1):
        attributes = dict(defaults[t - 1])
        if t <= len(overrides):
            attributes.update(overrides[t - 1])
        posts.append(post(f"P{t}", terms=[t], **attributes))
    return posts


PGY2_FIVE_TERMS = (10, 10, 10, 10, 12)

# rule code -> (posts, term weeks, cohort, constraints with the rule, constraints without it)
CASES = {
    "SERVICE_CAP": (one_line({}, {}, {"service": True}), (13, 13, 13, 13), "PGY1", ["AMC_PGY1"], ["UNRESTRICTED"]),
    "SPECIALTY_CAP": (one_line({}, {}, {"specialty": "Medicine"}, {"specialty": "Medicine"}), (13, 13, 13, 13),
                      "PGY1", ["AMC_PGY1"], ["UNRESTRICTED"]),
    "SUBSPECIALTY_CAP": (one_line({}, {}, {"specialty": "Cardiac Sciences", "subspecialty": "Cardiology"},
                                  {"specialty": "Cardiac Sciences", "subspecialty": "Cardiology"}),
                         (13, 13, 13, 13), "PGY1", ["AMC_PGY1"], ["UNRESTRICTED"]),
    "NON_CLINICAL_MAX": (one_line({"non_clinical": True}, {"non_clinical": True}, {}, {}, {},
                                  term_weeks=PGY2_FIVE_TERMS), PGY2_FIVE_TERMS, "PGY2", ["AMC_PGY2"],
                         ["UNRESTRICTED"]),
    # 20 non-clinical weeks and a 12-week service term leave 20 team weeks, short of 26
    "TEAM_MIN": (one_line({"non_clinical": True}, {"service": True}, {}, {}, term_weeks=(20, 12, 10, 10)),
                 (20, 12, 10, 10), "PGY2", ["AMC_PGY2"], ["UNRESTRICTED"]),
    "MAX_1_RURAL": (one_line({"rural": True}, {"rural": True}), (13, 13, 13, 13), "PGY1",
                    ["UNRESTRICTED", "MAX_1_RURAL"], ["UNRESTRICTED"]),
    "MAX_1_SERVICE": (one_line({"service": True}, {"service": True}), (13, 13, 13, 13), "PGY1",
                      ["MAX_1_SERVICE"], ["UNRESTRICTED"]),
    "NO_NIGHTS": (one_line({"nights": True, "service": True}), (13, 13, 13, 13), "PGY1", ["NO_NIGHTS"],
                  ["UNRESTRICTED"]),
}


def pinned_d_instance() -> dict:
    """Two D places, both pinned to line 1: line 2 can only go without D (no arithmetic shows it)."""
    positions = [post("P1", terms=[1], capacity=2, categories=("A", "B"), specialty="Medicine"),
                 post("P2", terms=[2], categories=("C", "D"), specialty="Surgery"),
                 post("P2b", terms=[2], categories=("C",), specialty="Emergency"),
                 post("Q", terms=[3], categories=("D",), specialty="Anaesthetics"),
                 post("P3", terms=[3], categories=("A",), specialty="Geriatrics"),
                 post("P4", terms=[4], capacity=2, categories=("B",), specialty="Psychiatry")]
    return instance(positions, pins=[{"line": 1, "term": 2, "position": "P2"},
                                     {"line": 1, "term": 3, "position": "Q"}])


def test_categories_beyond_arithmetic():
    doc = pinned_d_instance()
    assert built(solve_checked(doc, 2, ["UNRESTRICTED"])) == 2
    assert built(solve_checked(doc, 2, ["AMC_PGY1"])) == 1


def test_min_terms_beyond_arithmetic():
    # terms 1, 2 and 5 are the long ones; a second line would need the non-clinical post in term 2
    term_weeks = (10, 10, 9, 9, 14)
    positions = [post("P1", terms=[1], capacity=3, categories=("A", "B")),
                 post("P2", terms=[2], categories=("C", "D")), post("NC2", terms=[2], non_clinical=True),
                 post("P3", terms=[3], capacity=2), post("P4", terms=[4], capacity=2, categories=("B",)),
                 post("P5", terms=[5], capacity=3, categories=("A", "C"))]
    doc = instance(positions, term_weeks=term_weeks, cohort="PGY2")
    assert built(solve_checked(doc, 2, ["UNRESTRICTED"])) == 2
    assert built(solve_checked(doc, 2, ["AMC_PGY2"])) == 1


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_costs_the_line_that_would_break_it(rule):
    posts, term_weeks, cohort, with_rule, without_rule = CASES[rule]
    doc = instance(posts, term_weeks=term_weeks, cohort=cohort)
    assert built(solve_checked(doc, 1, without_rule)) == 1
    assert built(solve_checked(doc, 1, with_rule)) == 0


def test_the_one_line_defaults_meet_every_pgy1_rule():
    doc = instance(one_line())
    assert built(solve_checked(doc, 1, ["AMC_PGY1", "MAX_1_RURAL", "MAX_1_SERVICE", "NO_NIGHTS"])) == 1


def test_fraction_caps_are_inclusive():
    # a 13-week subspecialty term is exactly 25% of 52: allowed
    doc = instance(one_line({"specialty": "Medicine", "subspecialty": "Cardiology"}))
    assert built(solve_checked(doc, 1, ["AMC_PGY1"])) == 1
    # a 13-week service term is 25%: allowed for PGY2 (25%), not PGY1 (20%)
    doc2 = instance(one_line({}, {}, {"service": True}), cohort="PGY2")
    assert built(solve_checked(doc2, 1, ["AMC_PGY2"])) == 1


def test_pgy3_runs_unrestricted_whatever_is_named():
    doc = instance(one_line({}, {}, {"service": True}), cohort="PGY3+")
    assert built(solve_checked(doc, 1, ["AMC_PGY1"])) == 1


def test_capacity():
    doc = instance([post("A", terms=[1], capacity=1), post("B", terms=[2], capacity=2)], term_weeks=(26, 26))
    assert built(solve_checked(doc, 2)) == 1


def test_availability():
    # A is offered only in term 1; using it in term 2 would give a second line
    doc = instance([post("A", terms=[1]), post("B", terms=[1]), post("C", terms=[2])], term_weeks=(26, 26))
    assert built(solve_checked(doc, 2)) == 1


def test_no_repeat_position():
    # only A is offered in term 2 with room for two; line (A, A) is not allowed
    doc = instance([post("A", capacity=[1, 2]), post("B", terms=[1])], term_weeks=(26, 26))
    solution = solve_checked(doc, 2)
    assert built(solution) == 1
    assert posts_of(solution, 1) == ["B", "A"]


def test_min_fill_is_hard_for_ordinary_posts():
    doc = instance([post("A", terms=[1], capacity=2, min_fill=[2, 0]), post("B", terms=[2], capacity=2)],
                   term_weeks=(26, 26))
    solution = solve_checked(doc, 1, allow_partial=False)
    assert solution["status"] == "INFEASIBLE"
    assert [r["rule"] for r in solution["explanation"]["reasons"]] == ["MIN_FILL"]
    assert built(solve_checked(doc, 2, allow_partial=False)) == 2


def test_excludable_shortfall_is_minimised_and_reported():
    # E needs 2 in term 1 but is excludable; two lines could fill it, one cannot
    positions = [post("E", terms=[1], capacity=2, min_fill=[2, 0], excludable=True),
                 post("F", terms=[1], capacity=2), post("G", terms=[2], capacity=2)]
    doc = instance(positions, term_weeks=(26, 26))
    full = solve_checked(doc, 2, allow_partial=False)
    assert full["metrics"]["unfilled_total"] == 0
    one = solve_checked(doc, 1, allow_partial=False)
    assert one["metrics"]["unfilled"] == [{"position": "E", "term": 1, "unfilled": 1}]


def test_pins_are_kept():
    positions = [post("A", capacity=2), post("B", capacity=2)]
    pins = [{"line": 2, "term": 1, "position": "B"}, {"line": 1, "positions": ["A", "B"]}]
    solution = solve_checked(instance(positions, term_weeks=(26, 26), pins=pins), 2, allow_partial=False)
    assert posts_of(solution, 1) == ["A", "B"]
    assert posts_of(solution, 2) == ["B", "A"]


def test_clinical_weeks_and_term_count_fail_before_search():
    doc = instance(one_line(), leave={"weeks": 6, "patterns": [[6]], "within_term": True})
    solution = solve_checked(doc, 1, ["VIC_PGY1"], allow_partial=False)
    assert solution["status"] == "INFEASIBLE"
    assert {r["rule"] for r in solution["explanation"]["reasons"]} == {"CLINICAL_WEEKS", "TERM_COUNT"}
    assert built(solve_checked(doc, 1, ["UNRESTRICTED"])) == 1


def test_leave_max_concurrent_limits_lines():
    # one line on leave per week, 5-week blocks inside 13-week terms: two blocks a term, 8 lines
    positions = [post(k, capacity=10) for k in "ABCD"]
    leave = {"weeks": 5, "patterns": [[5]], "within_term": True, "max_concurrent": 1}
    solution = solve_checked(instance(positions, leave=leave), 10)
    assert built(solution) == 8
    assert solution["metrics"]["lines_upper_bound"] == 8
    assert "LEAVE_MAX_CONCURRENT" in {r["rule"] for r in solution["explanation"]["reasons"]}


def test_leave_within_term_and_gap():
    positions = [post(k, capacity=2) for k in "ABCD"]
    short_terms = {"weeks": 5, "patterns": [[5]], "within_term": True}
    assert built(solve_checked(instance(positions, leave=short_terms), 2)) == 2
    four_week_terms = instance([post(k, capacity=1) for k in "ABCDEFGHIJKLMN"], term_weeks=(4,) * 13,
                               leave=short_terms)
    assert built(solve_checked(four_week_terms, 1)) == 0
    crossing = dict(short_terms, within_term=False)
    assert built(solve_checked(dict(four_week_terms, leave=crossing), 1)) == 1
    wide = {"weeks": 5, "patterns": [[2, 3]], "min_gap_weeks": 40, "within_term": False}
    assert built(solve_checked(instance(positions, leave=wide), 1)) == 1
    too_wide = dict(wide, min_gap_weeks=48)
    assert built(solve_checked(instance(positions, leave=too_wide), 1)) == 0


def test_all_or_nothing_without_allow_partial():
    doc = instance([post("A", capacity=1), post("B", capacity=1)], term_weeks=(26, 26))
    solution = solve_checked(doc, 3, allow_partial=False)
    assert solution["status"] == "INFEASIBLE" and built(solution) == 0
    assert solution["metrics"]["lines_upper_bound"] == 2
    partial = solve_checked(doc, 3)
    assert partial["status"] == "COMPLETED" and built(partial) == 2
    assert partial["metrics"]["lines_upper_bound"] == 2


def test_no_duplicate_lines_when_distinct_ones_exist():
    doc = instance([post(k, capacity=3) for k in "ABC"], term_weeks=(26, 26))
    solution = solve_checked(doc, 6)
    assert built(solution) == 6
    assert solution["metrics"]["duplicate_lines"] == 0
    assert len({tuple(posts_of(solution, i)) for i in range(1, 7)}) == 6


def test_capacity_arithmetic_names_the_category():
    positions = [post("D1", categories=("D",), capacity=[1, 1, 1, 0], specialty="Surgery"),
                 post("A1", categories=("A", "B"), capacity=3, specialty="Medicine"),
                 post("C1", categories=("C",), capacity=3, specialty="Emergency"),
                 post("B1", categories=("B",), capacity=3, specialty="Psychiatry")]
    solution = solve_checked(instance(positions), 4, ["AMC_PGY1"], allow_partial=False)
    reasons = solution["explanation"]["reasons"]
    assert reasons[0]["rule"] == "CATEGORIES"
    assert reasons[0]["message"] == "category D posts offer 3 term places, but 4 lines each need one"
    assert solution["metrics"]["lines_upper_bound"] == 3


def leave_weeks(solution: dict, line: int) -> list[int]:
    return [w for r in solution["lines"][line - 1]["rotations"] if r["kind"] == "leave"
            for w in range(r["start_week"], r["end_week"] + 1)]


def test_fixed_leave_blocks_are_taken_by_every_line():
    # three weeks at year end for everybody, two more wherever they fit
    leave = {"weeks": 5, "patterns": [[2]], "fixed_blocks": [{"start_week": 50, "weeks": 3}], "min_gap_weeks": 4}
    solution = solve_checked(instance([post(k, capacity=3) for k in "ABCD"], leave=leave), 3)
    assert built(solution) == 3
    for line in range(1, 4):
        weeks = leave_weeks(solution, line)
        assert weeks[-3:] == [50, 51, 52] and len(weeks) == 5 and max(weeks[:2]) <= 45


@pytest.mark.parametrize("target", [0.0, 1.0])
def test_front_load_target_moves_leave_to_its_half(target):
    leave = {"weeks": 4, "patterns": [[4]], "front_load_target": target}
    solution = solve_checked(instance([post(k, capacity=4) for k in "ABCD"], leave=leave), 4)
    share = solution["metrics"]["leave_first_half_share"]
    assert share == target
    assert all((max(leave_weeks(solution, i)) <= 26) == (target == 1.0) for i in range(1, 5))


def test_explanation_names_the_conflicting_rules_posts_and_terms():
    solution = solve_checked(pinned_d_instance(), 2, ["AMC_PGY1"], allow_partial=False)
    assert solution["status"] == "INFEASIBLE"
    explanation = solution["explanation"]
    assert "each is needed for the conflict" in explanation["summary"]
    reasons = {(r["rule"], r["message"]) for r in explanation["reasons"]}
    assert reasons == {("CATEGORIES", "every line needs a term in a category D post"),
                       ("PIN", "line 1 is pinned to P2 in term 2"),
                       ("PIN", "line 1 is pinned to Q in term 3")}


def test_a_partial_result_explains_the_line_it_could_not_build():
    solution = solve_checked(pinned_d_instance(), 2, ["AMC_PGY1"])
    assert built(solution) == solution["metrics"]["lines_upper_bound"] == 1
    rules = sorted(r["rule"] for r in solution["explanation"]["reasons"])
    assert rules == ["CATEGORIES", "PIN", "PIN"]


def test_explanation_names_staffing_that_conflicts_with_a_rule():
    # the one line must take A in term 1 and staff B in term 2: two Cardiology terms, 26 weeks > 13
    positions = [post("A", terms=[1], categories=("A", "B"), specialty="Cardiac", subspecialty="Cardiology"),
                 post("B", terms=[2], categories=("C", "D"), specialty="Cardiac", subspecialty="Cardiology",
                      min_fill=[0, 1, 0, 0]),
                 post("B2", terms=[2], categories=("C", "D"), specialty="Surgery"),
                 post("C", terms=[3], categories=("A",), specialty="Emergency"),
                 post("D", terms=[4], categories=("B",), specialty="Psychiatry")]
    solution = solve_checked(instance(positions), 1, ["AMC_PGY1"], allow_partial=False)
    assert solution["status"] == "INFEASIBLE"
    reasons = {r["rule"]: r for r in solution["explanation"]["reasons"]}
    assert set(reasons) == {"SUBSPECIALTY_CAP", "MIN_FILL"}
    assert reasons["MIN_FILL"]["posts"] == ["B"] and reasons["MIN_FILL"]["terms"] == [2]
    assert reasons["SUBSPECIALTY_CAP"]["message"] == "at most 13 weeks (25% of 52) in one subspecialty"


def test_infeasible_without_partial_still_reports_how_many_lines_are_possible():
    solution = solve_checked(pinned_d_instance(), 2, ["AMC_PGY1"], allow_partial=False)
    assert solution["metrics"]["lines_possible"] == solution["metrics"]["lines_upper_bound"] == 1


def test_affinity_pairs_the_specialties_the_profile_favours():
    positions = [post("ED", terms=[1], specialty="Emergency"), post("GM", terms=[1], specialty="Medicine"),
                 post("ANA", terms=[2], specialty="Anaesthetics"), post("PSY", terms=[2], specialty="Psychiatry")]
    doc = instance(positions, term_weeks=(26, 26))
    doc["affinity"] = {"version": "t1", "source": "test weights",
                       "weights": {"Emergency": {"Anaesthetics": 50, "Psychiatry": -30},
                                   "Medicine": {"Psychiatry": 20}}}
    solution = solve_checked(doc, 2, seconds=5)
    assert solution["metrics"]["affinity_total"] == 70
    assert sorted(tuple(posts_of(solution, i)) for i in (1, 2)) == [("ED", "ANA"), ("GM", "PSY")]
    doc["affinity"]["weights"] = {"Emergency": {"Psychiatry": 40}, "Medicine": {"Anaesthetics": 10}}
    assert solve_checked(doc, 2, seconds=5)["metrics"]["affinity_total"] == 50


def test_diversity_raises_the_smallest_distance_and_keeps_the_counts():
    from collections import Counter

    from receptor_planner.instance import parse_instance
    from receptor_planner.model.diversify import diversify
    from receptor_planner.rules import resolve_rules

    inst = parse_instance(instance([post(k, capacity=2) for k in "ABCDEF"], term_weeks=(13, 13, 13, 13)))
    # lines 0 and 1 differ in one term only; the posts are indexes into A..F
    lines = {0: [0, 1, 2, 3], 1: [0, 1, 2, 4], 2: [1, 2, 3, 4], 3: [2, 3, 4, 5], 4: [3, 4, 5, 0], 5: [4, 5, 0, 1]}

    def smallest(assignment):
        rows = list(assignment.values())
        return min(sum(a != b for a, b in zip(x, y)) for i, x in enumerate(rows) for y in rows[i + 1:])

    better, finished = diversify(inst, resolve_rules(["UNRESTRICTED"], "PGY1"), lines, frozen={(0, 1)},
                                 seconds=10, seed=1)
    assert finished and better is not None and smallest(better) > smallest(lines) == 1
    assert Counter((t, p) for row in better.values() for t, p in enumerate(row)) == \
        Counter((t, p) for row in lines.values() for t, p in enumerate(row))
    assert all(len(set(row)) == 4 for row in better.values())  # no repeats
    assert better[0][0] == 0  # the frozen cell (line 0, term 1) stayed
    # and every line still passes the independent checker
    from receptor_planner.checker import check
    from receptor_planner.solution import rotations

    doc = instance([post(k, capacity=2) for k in "ABCDEF"], term_weeks=(13, 13, 13, 13))
    lines_doc = [{"name": f"Line {i + 1}", "rotations": rotations(inst, tuple("ABCDEF"[p] for p in row), set())}
                 for i, row in enumerate(better.values())]
    solution = {"format": "receptor-planner/solution@1", "status": "COMPLETED",
                "request": {"n_job_lines": 6, "constraints": ["UNRESTRICTED"]}, "lines": lines_doc,
                "metrics": {}, "explanation": None}
    assert check(doc, solution) == []


def test_an_impossible_service_is_explained_by_its_planted_bottleneck():
    from receptor_planner_tools.generator import category_places, generate

    doc = generate("regional", seed=2, impossible=True)
    n = _planted_lines("regional", 2)
    solution = solve_checked(doc, n, ["VIC_PGY1"], allow_partial=False, seconds=4)
    assert solution["status"] == "INFEASIBLE"
    first = solution["explanation"]["reasons"][0]
    places = category_places(doc["positions"], "D")
    assert first["rule"] == "CATEGORIES"
    assert first["message"] == f"category D posts offer {places} term places, but {n} lines each need one"
    assert solution["metrics"]["lines_upper_bound"] <= places < n


def _planted_lines(size: str, seed: int) -> int:
    from receptor_planner_tools.generator import generate_with_plan

    return len(generate_with_plan(size, seed)[1])


def test_mean_distance_spreads_lines_over_the_posts():
    # four lines, two terms; A and B offer room for all four, but 2 + 2 gives the most distinct pairs
    positions = [post("A", capacity=4), post("B", capacity=4)]
    solution = solve_checked(instance(positions, term_weeks=(26, 26)), 4, seconds=10)
    per_term = [sorted(posts_of(solution, i)[t] for i in range(1, 5)) for t in range(2)]
    assert per_term == [["A", "A", "B", "B"], ["A", "A", "B", "B"]]
    # 6 pairs; in each term 2 of them share a post: mean = 2 - 4/6
    assert solution["metrics"]["hamming_mean"] == round(2 - 4 / 6, 3)


def test_nsw_allows_one_service_term_where_the_service_cap_would_allow_two():
    # two 4-week service terms are 8 weeks, within AMC PGY2's 13-week service cap, but NSW allows one term
    term_weeks = (4, 4, 14, 15, 15)
    positions = [post("S1", terms=[1], categories=("A",), service=True, specialty="Relief"),
                 post("S2", terms=[2], categories=("B",), service=True, specialty="Nights"),
                 post("P3", terms=[3], categories=("C",), specialty="Emergency"),
                 post("P4", terms=[4], categories=("A", "B"), specialty="Medicine"),
                 post("P5", terms=[5], categories=("C",), specialty="Surgery")]
    doc = instance(positions, term_weeks=term_weeks, cohort="PGY2")
    assert built(solve_checked(doc, 1, ["AMC_PGY2"])) == 1
    solution = solve_checked(doc, 1, ["NSW_PGY2"])
    assert built(solution) == 0


@pytest.mark.parametrize("term_weeks, possible", [((13, 13, 13, 13), 1), ((26, 26), 0), ((9, 9, 9, 9, 8, 8), 0)])
def test_wa_pgy2_takes_three_to_five_terms(term_weeks, possible):
    # one post a term, categories A, B, C in turn
    positions = [post(f"P{t}", terms=[t], categories=("ABC"[t % 3],)) for t in range(1, len(term_weeks) + 1)]
    doc = instance(positions, term_weeks=term_weeks, cohort="PGY2")
    solution = solve_checked(doc, 1, ["WA_PGY2"], allow_partial=False)
    assert built(solution) == possible
    if not possible:
        assert "TERM_COUNT" in {r["rule"] for r in solution["explanation"]["reasons"]}


def test_repair_mends_a_broken_line_and_keeps_every_post_staffed():
    from collections import Counter

    from receptor_planner.checker import check
    from receptor_planner.instance import parse_instance
    from receptor_planner.model.construct import LineLimits
    from receptor_planner.model.repair import repair
    from receptor_planner.rules import resolve_rules
    from receptor_planner.solution import rotations

    keys = "STPQRU"  # S and T are service posts; T must be staffed in term 2
    positions = [post("S", service=True), post("T", service=True, min_fill=[0, 1, 0, 0]),
                 *(post(k) for k in "PQRU")]
    doc = instance(positions)
    inst, rules = parse_instance(doc), resolve_rules(["UNRESTRICTED", "MAX_1_SERVICE"], "PGY1")
    broken = [[0, 1, 2, 3], [2, 3, 4, 5]]  # line 1 holds S and T: two service terms
    limits = LineLimits(inst, rules)
    assert [limits.breaks(line) for line in broken] == [1, 0]

    mended = repair(inst, rules, broken, frozen={(0, 1)}, seed=3)
    assert mended[0][0] == 0  # the pinned cell (line 1, term 1) stayed
    held = Counter((t, p) for line in mended for t, p in enumerate(line))
    assert held[1, 1] == 1  # T is still staffed in term 2
    assert max(held.values()) == 1  # every post has one place a term
    solution = {"format": "receptor-planner/solution@1", "status": "COMPLETED",
                "request": {"n_job_lines": 2, "constraints": ["UNRESTRICTED", "MAX_1_SERVICE"]},
                "lines": [{"name": f"Line {i + 1}", "rotations": rotations(inst, tuple(keys[p] for p in line), set())}
                          for i, line in enumerate(mended)],
                "metrics": {}, "explanation": None}
    assert check(doc, solution) == []


@pytest.mark.slow
def test_a_loose_service_short_of_category_d_builds_every_line_the_arithmetic_allows():
    # fewer category D places than lines: the count is set by arithmetic; the constructed lines,
    # once repaired, reach it without a search
    from receptor_planner_tools.generator import category_places, generate

    doc = generate("metropolitan", seed=1, tight=False, impossible=True)
    places = category_places(doc["positions"], "D")
    solution = solve_checked(doc, _planted_lines("metropolitan", 1), ["VIC_PGY1"], seconds=60)
    assert solution["status"] == "COMPLETED"
    assert built(solution) == solution["metrics"]["lines_upper_bound"] == places
    assert solution["metrics"]["solver_status"]["construct"] == "OPTIMAL"


def test_too_few_lines_to_staff_the_posts_is_infeasible_with_the_reason():
    from receptor_planner_tools.generator import category_places, generate

    doc = generate("regional", seed=1, impossible=True)
    places = category_places(doc["positions"], "D")
    solution = solve_checked(doc, _planted_lines("regional", 1), ["VIC_PGY1"], seconds=60)
    assert solution["status"] == "INFEASIBLE"
    assert solution["metrics"]["lines_upper_bound"] == 0
    reasons = solution["explanation"]["reasons"]
    assert reasons[0]["rule"] == "CATEGORIES" and reasons[0]["lines_possible"] == places
    assert any(r["rule"] == "MIN_FILL" and f"only {places} lines are possible" in r["message"] for r in reasons)


def test_the_smallest_distance_is_reported_with_its_upper_bound():
    from receptor_planner_tools.generator import generate

    # a metropolitan service has more lines than posts in every term: two lines share a post somewhere
    metro = solve_checked(generate("metropolitan", seed=0), _planted_lines("metropolitan", 0), ["VIC_PGY1"])
    assert metro["metrics"]["hamming_min_upper_bound"] == 4
    assert metro["metrics"]["hamming_min"] == 4  # reached: proven the largest possible
    # a loose rural service where optimising the mean first left two lines sharing three of five
    # terms: the smallest distance now comes first, and reaches its bound
    loose = generate("rural", seed=1, tight=False)
    from receptor_planner.instance import parse_instance

    rural = solve_checked(loose, parse_instance(loose).default_lines(), ["VIC_PGY1", "MAX_1_RURAL"], seed=7)
    assert rural["metrics"]["hamming_min"] == rural["metrics"]["hamming_min_upper_bound"] == 4
    # two lines, four posts a term: they can differ everywhere, and do
    spread = solve_checked(instance([post(k, capacity=2) for k in "ABCD"], term_weeks=(26, 26)), 2)
    assert spread["metrics"]["hamming_min_upper_bound"] == spread["metrics"]["hamming_min"] == 2


def test_a_cancel_stops_the_model_build_and_the_construction_part_way():
    from receptor_planner_tools.generator import generate
    from receptor_planner.instance import parse_instance
    from receptor_planner.model import build_model
    from receptor_planner.model.construct import construct
    from receptor_planner.rules import resolve_rules
    from receptor_planner.solve import Stopped

    inst = parse_instance(generate("regional", seed=0))
    rules, n = resolve_rules(["VIC_PGY1"], "PGY1"), inst.default_lines()
    calls = []

    def cancelled_at(k: int):
        calls.clear()

        def checkpoint():
            calls.append(1)
            if len(calls) == k:
                raise Stopped("cancelled")
        return checkpoint

    with pytest.raises(Stopped):
        build_model(inst, rules, n, allow_partial=False, checkpoint=cancelled_at(3))
    assert len(calls) == 3  # it stopped at the third rule family, not at the end
    with pytest.raises(Stopped):
        construct(inst, rules, n, seed=0, checkpoint=cancelled_at(2))
    assert len(calls) == 2
    # and without a cancel both run to the end, asking at every step
    build_model(inst, rules, n, allow_partial=False, checkpoint=cancelled_at(0))
    assert len(calls) > 3


def test_a_phase_the_clock_cut_short_is_named_once():
    from receptor_planner.solve import _Search

    search = _Search(None)
    assert search.report() == {"reproducible": True}
    for phase in ("explain", "explain", "leave"):  # explain asks CP-SAT again after its deadline
        search.cut_short(phase)
    assert search.report() == {"reproducible": False, "stopped_by_clock": ["explain", "leave"]}
