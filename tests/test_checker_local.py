"""The independent checker on the service's own rules and on placements.

For every new rule code, and for every rule that now counts placements instead of terms, a
tiny hand-written instance and solution that keep the rule (no finding) and one that breaks it
(that code alone, where one fault can break one rule only). No solver, no database.
"""
from __future__ import annotations

import pytest

from builders import instance, post, solution_doc
from receptor_planner.checker import Violation, check, check_metrics

YEAR = (10, 10, 10, 10, 12)  # terms: weeks 1-10, 11-20, 21-30, 31-40, 41-52


def posts(**changes) -> list[dict]:
    """The service's posts, one place each, all at Bendigo but the Echuca ones; ``changes`` per key.

    COMM is one placement of two terms that starts in term 1 or 3, so it may be held in terms 1-4."""
    base = [
        post("ED", categories=("A", "C"), specialty="Emergency", site="Bendigo"),
        post("GMED", categories=("A", "B"), specialty="Medicine", site="Bendigo"),
        post("GMED2", categories=("A", "B"), specialty="Medicine", site="Bendigo"),
        post("CARD", categories=("B", "C"), specialty="Medicine", subspecialty="Cardiology", site="Bendigo"),
        post("GSURG", categories=("D",), specialty="Surgery", site="Bendigo"),
        post("PSYCH", categories=("B",), specialty="Psychiatry", site="Bendigo"),
        post("PAEDS", categories=("B",), specialty="Paediatrics", site="Bendigo"),
        post("COMM", categories=("A", "B"), specialty="General Practice", span=2, terms=[1, 3], site="Bendigo"),
        post("ECH", categories=("C", "D"), specialty="Rural Emergency", site="Echuca"),
        post("ECHMED", categories=("A",), specialty="Rural Medicine", site="Echuca"),
        post("RESEARCH", specialty="Research", non_clinical=True, site="Bendigo"),
        post("ADMIN", specialty="Education", non_clinical=True, site="Bendigo"),
    ]
    for doc in base:
        doc.update(changes.get(doc["key"], {}))
    return base


def service(term_weeks=YEAR, leave=None, cohort="PGY1", post_changes=None, **local_rules) -> dict:
    doc = instance(posts(**(post_changes or {})), term_weeks=term_weeks, leave=leave, cohort=cohort)
    doc.update(local_rules)
    return doc


def one_line(keys, constraints=("UNRESTRICTED",), term_weeks=YEAR, leave=()) -> dict:
    return solution_doc([(keys, leave)], constraints, term_weeks)


def codes(doc, solution) -> set[str]:
    return {v.rule for v in check(doc, solution)}


# ---------------------------------------------------------------- every local rule at once

ALL_RULES = {
    "groups": {"core-ed": ["ED", "ECH"], "core-med": ["GMED", "GMED2"], "non-core": ["PSYCH", "PAEDS", "COMM"]},
    "line_rules": [{"name": "core emergency", "group": "core-ed", "min": 1, "max": 1},
                   {"name": "core medicine", "group": "core-med", "min": 1}],
    "links": [{"name": "Echuca ED with psychiatry", "if": "ECH", "then": ["PSYCH"]}],
    "home_site_min_terms": 4,
}
ALL_LEAVE = {"weeks": 5, "patterns": [[2]], "blocked_weeks": [1, 2], "preferred_groups": ["non-core"],
             "fixed_blocks": [{"start_week": 50, "weeks": 3}]}


def test_a_line_that_keeps_every_local_rule_has_no_finding():
    doc = service(leave=ALL_LEAVE, **ALL_RULES)
    solution = one_line(["COMM", "COMM", "GMED", "ECH", "PSYCH"], ["AMC_PGY1", "DISTINCT_SPECIALTIES"],
                        leave=[(3, 2), (50, 3)])
    assert check(doc, solution) == []


# ---------------------------------------------------------------- SPAN

def test_span_a_placement_from_an_allowed_start_for_its_whole_span():
    assert check(service(), one_line(["ED", "GMED", "COMM", "COMM", "PSYCH"])) == []


@pytest.mark.parametrize("keys, message", [
    (["ED", "COMM", "COMM", "GMED", "PSYCH"],
     "line 1 holds COMM from term 2; a placement of COMM starts only in terms 1, 3"),
    (["COMM", "ED", "GMED", "GSURG", "PSYCH"],
     "line 1 holds COMM in term 1 only; a placement of COMM lasts 2 consecutive terms"),
])
def test_span_broken(keys, message):
    assert check(service(), one_line(keys)) == [Violation("SPAN", 1, message)]


def test_span_held_longer_than_its_span_is_a_second_placement():
    # terms 1-2 are one placement; term 3 starts another, which is too short and a repeat
    violations = check(service(), one_line(["COMM", "COMM", "COMM", "GMED", "PSYCH"]))
    assert [(v.rule, v.term) for v in violations] == [("NO_REPEAT_POSITION", 3), ("SPAN", 3)]
    assert violations[0].message == "line 1 holds COMM in terms 1-2, 3"


def test_span_a_post_of_one_term_is_not_spans_business():
    assert codes(service(), one_line(["ED", "ED", "GMED", "GSURG", "PSYCH"])) == {"NO_REPEAT_POSITION"}


# ---------------------------------------------------------------- placement-aware structural rules

def test_no_repeat_position_two_whole_placements_of_a_span_post():
    assert check(service(), one_line(["COMM", "COMM", "COMM", "COMM", "PSYCH"])) == [
        Violation("NO_REPEAT_POSITION", 1, "line 1 holds COMM in terms 1-2, 3-4")]


def test_availability_a_span_post_is_offered_in_every_term_it_covers():
    # the document's terms [1] are starts: the placement also covers term 2
    doc = service(post_changes={"COMM": {"terms": [1]}})
    assert check(doc, one_line(["COMM", "COMM", "ED", "GMED", "PSYCH"])) == []


def test_availability_a_span_post_outside_the_terms_it_covers_is_one_span_fault():
    doc = service(post_changes={"COMM": {"terms": [3]}})  # covers terms 3 and 4 only
    assert check(doc, one_line(["COMM", "COMM", "ED", "GMED", "PSYCH"])) == [
        Violation("SPAN", 1, "line 1 holds COMM from term 1; a placement of COMM starts only in term 3")]


def test_availability_a_span_post_in_a_split_term_it_is_not_offered_in():
    # term 1 names two posts, so it is no placement that SPAN could judge
    doc = service(post_changes={"COMM": {"terms": [3]}})
    solution = one_line(["ED", "GMED", "COMM", "COMM", "PSYCH"])
    solution["lines"][0]["rotations"][0].update(end_week=5, end_date="2027-02-07")
    solution["lines"][0]["rotations"].insert(1, {"kind": "clinical", "position": "COMM", "term": 1,
                                                 "start_week": 6, "end_week": 10,
                                                 "start_date": "2027-02-08", "end_date": "2027-03-14"})
    assert codes(doc, solution) == {"ONE_POSITION_PER_TERM", "AVAILABILITY"}


def test_capacity_a_span_placement_takes_a_place_in_every_term_it_covers():
    two_lines = solution_doc([(["COMM", "COMM", "ED", "GMED", "PSYCH"], ()),
                              (["COMM", "COMM", "GMED", "ED", "PAEDS"], ())], ["UNRESTRICTED"], YEAR)
    assert check(service(post_changes={"COMM": {"capacity": 2}}), two_lines) == []
    doc = service(post_changes={"COMM": {"capacity": [2, 1, 2, 2, 2]}})
    assert check(doc, two_lines) == [Violation("CAPACITY", None, "position COMM term 2 holds 2 lines, capacity 1")]


# ---------------------------------------------------------------- placement-aware accreditation rules

def test_min_terms_a_span_placement_counts_its_weeks_together():
    # COMM's two 6-week terms make one placement of 12 weeks: three counted placements, PGY2's minimum
    year = (6, 6, 20, 20)
    doc = service(term_weeks=year, cohort="PGY2")
    assert check(doc, one_line(["COMM", "COMM", "GSURG", "ED"], ["AMC_PGY2"], year)) == []
    two_short = one_line(["PSYCH", "PAEDS", "GSURG", "ED"], ["AMC_PGY2"], year)
    assert check(doc, two_short) == [
        Violation("MIN_TERMS", 1, "line 1 has 2 clinical placements of at least 10 weeks, fewer than 3")]


def test_min_terms_a_span_placement_counts_once():
    # four terms of at least 10 weeks, but COMM holds two of them: three placements, PGY1 needs 4
    year = (10, 10, 16, 16)
    doc = service(term_weeks=year)
    assert check(doc, one_line(["COMM", "COMM", "GSURG", "ED"], ["AMC_PGY1"], year)) == [
        Violation("MIN_TERMS", 1, "line 1 has 3 clinical placements of at least 10 weeks, fewer than 4")]
    assert check(doc, one_line(["PSYCH", "GMED", "GSURG", "ED"], ["AMC_PGY1"], year)) == []


SIX_TERMS = (10, 10, 10, 10, 10, 10)  # 60 weeks: TEAM_MIN needs 30 team weeks


def test_non_clinical_max_a_span_placement_is_one():
    doc = service(term_weeks=SIX_TERMS, cohort="PGY2", post_changes={"RESEARCH": {"span": 2}})
    keeps = one_line(["RESEARCH", "RESEARCH", "ED", "GMED", "GSURG", "PSYCH"], ["AMC_PGY2"], SIX_TERMS)
    assert check(doc, keeps) == []
    breaks = one_line(["ADMIN", "RESEARCH", "RESEARCH", "ED", "GMED", "GSURG"], ["AMC_PGY2"], SIX_TERMS)
    assert check(doc, breaks) == [
        Violation("NON_CLINICAL_MAX", 1, "line 1 holds non-clinical posts in terms 1, 2-3, more than 1")]


@pytest.mark.parametrize("year, ok", [((7, 7, 10, 12, 12, 12), True), ((8, 8, 10, 10, 12, 12), False)])
def test_subspecialty_cap_counts_every_covered_term_in_full(year, ok):
    # COMM is the line's Community placement over terms 1-2: 14 weeks pass 25% of 60 (15), 16 fail
    doc = service(term_weeks=year, post_changes={"COMM": {"subspecialty": "Community"}})
    violations = check(doc, one_line(["COMM", "COMM", "ED", "GMED", "GSURG", "PSYCH"], ["AMC_PGY1"], year))
    assert [v.rule for v in violations] == ([] if ok else ["SUBSPECIALTY_CAP"])
    if not ok:
        assert violations[0].message.startswith("line 1 spends 16 weeks in subspecialty Community")


@pytest.mark.parametrize("flag, modifier", [("rural", "MAX_1_RURAL"), ("service", "MAX_1_SERVICE")])
def test_at_most_one_counts_placements(flag, modifier):
    doc = service(post_changes={"COMM": {flag: True}, "ECH": {flag: True}})
    constraints = ["UNRESTRICTED", modifier]
    assert check(doc, one_line(["COMM", "COMM", "ED", "GMED", "PSYCH"], constraints)) == []
    violations = check(doc, one_line(["COMM", "COMM", "ECH", "GMED", "PSYCH"], constraints))
    assert violations == [Violation(modifier, 1, f"line 1 holds {flag} posts in terms 1-2, 3; "
                                                 "at most one placement is allowed")]


def test_no_nights_reports_a_span_placement_once():
    doc = service(post_changes={"COMM": {"nights": True}})
    constraints = ["UNRESTRICTED", "NO_NIGHTS"]
    assert check(doc, one_line(["ED", "GMED", "PSYCH", "GSURG", "PAEDS"], constraints)) == []
    assert check(doc, one_line(["COMM", "COMM", "ED", "GMED", "PSYCH"], constraints)) == [
        Violation("NO_NIGHTS", 1, "line 1 holds the nights post COMM in terms 1-2")]


# ---------------------------------------------------------------- LINE_RULE

CORE_ED = {"groups": {"core-ed": ["ED", "ECH"], "non-core": ["COMM", "PSYCH"]},
           "line_rules": [{"name": "core emergency", "group": "core-ed", "min": 1, "max": 1}]}


def test_line_rule_kept():
    assert check(service(**CORE_ED), one_line(["GMED", "ED", "GSURG", "PSYCH", "PAEDS"])) == []


@pytest.mark.parametrize("keys, message, term", [
    (["GMED", "GMED2", "GSURG", "PSYCH", "PAEDS"],
     "line 1 holds 0 placements of group core-ed; core emergency needs at least 1", None),
    (["ED", "GMED", "ECH", "PSYCH", "PAEDS"],
     "line 1 holds 2 placements of group core-ed (ED in term 1, ECH in term 3); core emergency allows at most 1", 3),
])
def test_line_rule_broken(keys, message, term):
    violations = check(service(**CORE_ED), one_line(keys))
    assert violations == [Violation("LINE_RULE", 1, message)]
    assert violations[0].term == term


def test_line_rule_counts_a_span_placement_once():
    rules = {**CORE_ED, "line_rules": [{"name": "one non-core", "group": "non-core", "max": 1}]}
    assert check(service(**rules), one_line(["COMM", "COMM", "ED", "GMED", "GSURG"])) == []
    assert codes(service(**rules), one_line(["COMM", "COMM", "ED", "PSYCH", "GSURG"])) == {"LINE_RULE"}


# ---------------------------------------------------------------- LINK

ECHUCA_LINK = {"links": [{"name": "Echuca ED with psychiatry", "if": "ECH", "then": ["PSYCH", "PAEDS"]}]}


@pytest.mark.parametrize("keys", [["ECH", "GMED", "GSURG", "PAEDS", "ED"],   # the then post comes after
                                  ["PSYCH", "GMED", "ECH", "GSURG", "ED"],   # or before
                                  ["GMED", "ED", "GSURG", "CARD", "GMED2"]])  # no ECH, nothing needed
def test_link_kept(keys):
    assert check(service(**ECHUCA_LINK), one_line(keys)) == []


def test_link_broken():
    violations = check(service(**ECHUCA_LINK), one_line(["GMED", "ECH", "GSURG", "CARD", "ED"]))
    assert violations == [Violation("LINK", 1, "line 1 holds ECH in term 2 but none of PSYCH, PAEDS; "
                                               "Echuca ED with psychiatry needs one of them")]
    assert (violations[0].term, violations[0].position) == (2, "ECH")


# ---------------------------------------------------------------- HOME_SITE

def test_home_site_kept():
    # four Bendigo terms and one at Echuca
    doc = service(home_site_min_terms=4)
    assert check(doc, one_line(["ECH", "GMED", "GSURG", "PSYCH", "ED"])) == []


def test_home_site_broken():
    doc = service(home_site_min_terms=4)
    assert check(doc, one_line(["ECH", "GMED", "ECHMED", "PSYCH", "ED"])) == [
        Violation("HOME_SITE", 1, "line 1 spends at most 3 terms at one site (Bendigo: terms 2, 4, 5); "
                                  "home_site_min_terms needs 4 terms at one site")]


@pytest.mark.parametrize("needed, ok", [(3, True), (4, False)])
def test_home_site_counts_the_terms_of_a_span_placement(needed, ok):
    # COMM at Echuca for terms 1-2 and ECH in term 3: one site for three terms, the others split
    doc = service(home_site_min_terms=needed, post_changes={"COMM": {"site": "Echuca"}})
    assert codes(doc, one_line(["COMM", "COMM", "ECH", "GMED", "PSYCH"])) == (set() if ok else {"HOME_SITE"})


# ---------------------------------------------------------------- LEAVE_BLOCKED

ORIENTATION = {"weeks": 2, "patterns": [[2]], "blocked_weeks": [1, 2]}
KEYS = ["ED", "GMED", "GSURG", "PSYCH", "PAEDS"]


def test_leave_blocked_kept():
    assert check(service(leave=ORIENTATION), one_line(KEYS, leave=[(3, 2)])) == []


def test_leave_blocked_broken():
    violations = check(service(leave=ORIENTATION), one_line(KEYS, leave=[(2, 2)]))
    assert violations == [Violation("LEAVE_BLOCKED", 1, "line 1 plans leave in weeks 2-3, which holds blocked week 2")]
    assert violations[0].term == 1


def test_leave_blocked_does_not_apply_to_a_fixed_block():
    # a year-end closure in a week planned leave may not take
    leave = {"weeks": 5, "patterns": [[2]], "blocked_weeks": [1, 2, 52],
             "fixed_blocks": [{"start_week": 50, "weeks": 3}]}
    assert check(service(leave=leave), one_line(KEYS, leave=[(3, 2), (50, 3)])) == []
    assert codes(service(leave=leave), one_line(KEYS, leave=[(1, 2), (50, 3)])) == {"LEAVE_BLOCKED"}


# ---------------------------------------------------------------- DISTINCT_SPECIALTIES

DISTINCT = ["AMC_PGY1", "DISTINCT_SPECIALTIES"]


def test_distinct_specialties_a_subspecialty_is_a_unit_of_its_own():
    # GMED and CARD share the specialty Medicine, but CARD's unit is Cardiology
    assert check(service(), one_line(["ED", "GMED", "CARD", "GSURG", "PSYCH"], DISTINCT)) == []


def test_distinct_specialties_broken():
    keys = ["ED", "GMED", "GMED2", "GSURG", "PSYCH"]  # 20 weeks of Medicine keep the specialty cap
    assert check(service(), one_line(keys, ["AMC_PGY1"])) == []
    violations = check(service(), one_line(keys, DISTINCT))
    assert violations == [Violation("DISTINCT_SPECIALTIES", 1, "line 1 holds 2 placements in Medicine "
                                    "(GMED in term 2, GMED2 in term 3); DISTINCT_SPECIALTIES allows one")]
    assert (violations[0].term, violations[0].position) == (3, "GMED2")


@pytest.mark.parametrize("subspecialty, expected", [("Endocrinology", set()), ("Cardiology", {"DISTINCT_SPECIALTIES"})])
def test_distinct_specialties_by_subspecialty(subspecialty, expected):
    # two Cardiology terms break the subspecialty cap too: without MIN_TERMS every clinical placement counts
    doc = service(post_changes={"GMED2": {"subspecialty": subspecialty}})
    keys = ["ED", "CARD", "GMED2", "GSURG", "PSYCH"]
    assert codes(doc, one_line(keys, ["UNRESTRICTED", "DISTINCT_SPECIALTIES"])) == expected


SHORT_LAST = (10, 10, 10, 16, 6)


@pytest.mark.parametrize("constraints, expected", [
    (DISTINCT, set()),  # GMED2's 6 weeks are too short for MIN_TERMS to count it
    (["UNRESTRICTED", "DISTINCT_SPECIALTIES"], {"DISTINCT_SPECIALTIES"}),  # without MIN_TERMS every one counts
])
def test_distinct_specialties_counts_what_min_terms_counts(constraints, expected):
    keys = ["ED", "GMED", "GSURG", "PSYCH", "GMED2"]
    assert codes(service(term_weeks=SHORT_LAST), one_line(keys, constraints, SHORT_LAST)) == expected


def test_distinct_specialties_leaves_non_clinical_placements_out():
    doc = service(post_changes={"ADMIN": {"specialty": "Research"}})
    keys = ["ED", "GMED", "ADMIN", "RESEARCH", "PSYCH"]  # two non-clinical placements of one specialty
    assert check(doc, one_line(keys, ["UNRESTRICTED", "DISTINCT_SPECIALTIES"])) == []


# ---------------------------------------------------------------- leave_preferred_share

PREFERRING = {"weeks": 5, "patterns": [[2]], "preferred_groups": ["non-core"],
              "fixed_blocks": [{"start_week": 50, "weeks": 3}]}
NON_CORE = {"non-core": ["PSYCH", "PAEDS"]}
# Planned leave: line 1 in term 2 (PSYCH, preferred), line 2 in term 1 (GMED), line 3 in term 4 (ED).
# Every line holds a preferred post in term 5, where the fixed block lies: fixed weeks must not count.
SHARE_LINES = [(["ED", "PSYCH", "GMED", "GSURG", "PAEDS"], [(13, 2), (50, 3)]),
               (["GMED", "ED", "GSURG", "CARD", "PSYCH"], [(3, 2), (50, 3)]),
               (["GSURG", "GMED", "CARD", "ED", "PAEDS"], [(33, 2), (50, 3)])]


def share_findings(leave=PREFERRING, groups=NON_CORE, lines=SHARE_LINES, **metrics) -> list[str]:
    """The METRICS findings about leave_preferred_share, the solution reporting ``metrics``."""
    solution = solution_doc(lines, ["UNRESTRICTED"], YEAR)
    solution["metrics"] = metrics
    doc = service(leave=leave, groups=groups)
    return [v.message for v in check_metrics(doc, solution) if "leave_preferred_share" in v.message]


def test_leave_preferred_share_counts_planned_weeks_only():
    assert share_findings(leave_preferred_share=0.333) == []  # 2 of 6 planned weeks


@pytest.mark.parametrize("reported", [0.334, 0.5, 0.733, None])
def test_leave_preferred_share_misreported(reported):
    # 0.733 is 11 of 15 leave weeks: what counting the fixed weeks too would give
    assert share_findings(leave_preferred_share=reported) == [
        f"the solution reports leave_preferred_share {reported!r}, but its lines give 0.333"]


def test_leave_preferred_share_missing():
    assert share_findings() == ["the solution does not report leave_preferred_share"]


def test_leave_preferred_share_null_without_planned_leave():
    fixed_only = {**PREFERRING, "weeks": 3, "patterns": [[]]}
    lines = [(keys, [(50, 3)]) for keys, _ in SHARE_LINES]
    assert share_findings(fixed_only, lines=lines, leave_preferred_share=None) == []
    assert share_findings(fixed_only, lines=lines, leave_preferred_share=0.0) == [
        "the solution reports leave_preferred_share 0.0, but its lines give None"]


@pytest.mark.parametrize("reported", [{}, {"leave_preferred_share": None}, {"leave_preferred_share": 0.25}])
def test_leave_preferred_share_not_compared_without_preferred_groups(reported):
    plain = {key: value for key, value in PREFERRING.items() if key != "preferred_groups"}
    assert share_findings(plain, **reported) == []
