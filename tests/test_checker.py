"""The independent checker: a valid hand-built solution, then one broken rule at a time.

No database: instances and solutions are plain dicts, built here and by tests/builders.py.
"""
import ast
import copy
import datetime as dt
import sys
from pathlib import Path

# tests/conftest.py belongs to the database fixtures; put the package on the path here.
_PLPYTHON = str(Path(__file__).resolve().parents[1] / "plpython")
if _PLPYTHON not in sys.path:
    sys.path.insert(0, _PLPYTHON)

import pytest  # noqa: E402

from builders import line_rotations, solution_doc  # noqa: E402
from receptor_planner import checker  # noqa: E402
from receptor_planner.checker import RULE_CODES, Violation, check, summarize  # noqa: E402

START = "2027-01-04"
TERM_WEEKS = [10, 10, 10, 10, 12]  # terms: 1-10, 11-20, 21-30, 31-40, 41-52


# ---------------------------------------------------------------- builders

def make_instance(term_weeks=TERM_WEEKS, cohort="PGY1", leave=None, pins=None):
    """An instance with a fixed set of posts; capacity 1 everywhere."""
    n = len(term_weeks)

    def post(key, specialty, categories, **extra):
        return {"key": key, "name": key, "team": None, "specialty": specialty, "subspecialty": None,
                "categories": categories, "capacity": 1, "terms": None, **extra}

    return {
        "format": "receptor-planner/instance@1",
        "org": {"name": "Acacia Health"},
        "cohort": cohort,
        "start_date": START,
        "term_weeks": list(term_weeks),
        "leave": leave or {"weeks": 5, "patterns": [[5], [2, 3]], "min_gap_weeks": 4,
                           "within_term": True, "max_concurrent": 1},
        "positions": [
            post("MED1", "Medicine", ["A", "B"]),
            post("CARD", "Medicine", ["B", "C"], subspecialty="Cardiology"),
            post("ENDO", "Medicine", ["B", "D"], subspecialty="Endocrinology"),
            post("GERI", "Geriatric Medicine", ["B"]),
            post("SURG1", "Surgery", ["D"]),
            # An excludable post nobody fills in term 1: its shortfall is no violation.
            post("ED1", "Emergency Medicine", ["A", "C"], excludable=True, min_fill=[1] + [0] * (n - 1)),
            post("RURAL", "General Practice", ["A", "B"], rural=True, terms=list(range(max(1, n - 2), n + 1))),
            post("RURAL2", "Rural Medicine", ["A", "C"], rural=True),
            post("RELIEF", "Relief", ["A"], service=True),
            post("NIGHT", "Night Relief", ["A", "C"], service=True, nights=True),
            post("ADMIN", "Education", [], non_clinical=True),
        ],
        "pins": pins or [],
    }


def rotations(keys, leave, term_weeks=TERM_WEEKS):
    """A line's rotations from one post key per term and (start_week, weeks) leave blocks."""
    return line_rotations(keys, leave, term_weeks, START)


def make_solution(lines, constraints=("VIC_PGY1",), term_weeks=TERM_WEEKS):
    """A solution document from (keys, leave blocks) per line."""
    return solution_doc(lines, constraints, term_weeks)


# Three lines that pass VIC_PGY1: every line covers A-D, at most 22 weeks of Medicine,
# 12 of Cardiology, no service post; leave [5], [2,3] and [5] never overlap.
LINES = [
    (["MED1", "CARD", "SURG1", "ED1", "RURAL"], [(13, 5)]),
    (["CARD", "SURG1", "ED1", "RURAL", "MED1"], [(3, 2), (25, 3)]),
    (["SURG1", "ED1", "RURAL", "MED1", "CARD"], [(33, 5)]),
]
PINS = [{"line": 1, "term": 1, "position": "MED1"},
        {"line": 3, "positions": ["SURG1", "ED1", "RURAL", "MED1", "CARD"]}]


def valid_instance():
    instance = make_instance(pins=PINS)
    position(instance, "MED1")["min_fill"] = [1, 0, 0, 0, 0]
    return instance


def position(instance, key):
    return next(p for p in instance["positions"] if p["key"] == key)


def with_line(n, keys=None, leave=None):
    """LINES with line n (1-based) given other keys and/or leave."""
    lines = list(LINES)
    old_keys, old_leave = lines[n - 1]
    lines[n - 1] = (keys or old_keys, old_leave if leave is None else leave)
    return lines


def replace(keys, term, key):
    return [key if t == term else k for t, k in enumerate(keys, start=1)]


def codes(instance, solution):
    return {v.rule for v in check(instance, solution)}


@pytest.fixture
def instance():
    return valid_instance()


@pytest.fixture
def solution():
    return make_solution(LINES)


# ---------------------------------------------------------------- the valid baseline

def test_valid_solution_has_no_violations(instance, solution):
    assert check(instance, solution) == []


def test_builder_dates_match_the_domain_example():
    # Anchors the test helper (and so the checker's date rule) to domain.md.
    first = rotations(LINES[0][0], [])[0]
    assert (first["start_week"], first["end_week"]) == (1, 10)
    assert (first["start_date"], first["end_date"]) == ("2027-01-04", "2027-03-14")


def test_leave_splits_the_term_rotation(solution):
    term2 = [r for r in solution["lines"][0]["rotations"] if r["term"] == 2]
    assert [(r["kind"], r["start_week"], r["end_week"]) for r in term2] == [
        ("clinical", 11, 12), ("leave", 13, 17), ("clinical", 18, 20)]


def test_every_rule_code_has_a_check():
    assert ["FORMAT", *checker._CHECKS] == list(RULE_CODES)


def test_checker_imports_nothing_from_the_model():
    tree = ast.parse(Path(checker.__file__).read_text())
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {m for m in imported if m.split(".")[-1] in ("model", "rules", "solve", "instance")}
    assert all(node.level == 0 for node in ast.walk(tree) if isinstance(node, ast.ImportFrom))


# ---------------------------------------------------------------- FORMAT

def test_format_wrong_format_string(instance, solution):
    solution["format"] = "receptor-planner/solution@2"
    assert codes(instance, solution) == {"FORMAT"}


def test_format_unknown_position_key(instance, solution):
    solution["lines"][1]["rotations"][-1]["position"] = "NOPE"
    violations = check(instance, solution)
    assert {v.rule for v in violations} == {"FORMAT"}
    assert violations[0].line == 2 and "NOPE" in violations[0].message


def test_format_missing_rotation_field(instance, solution):
    del solution["lines"][1]["rotations"][0]["end_week"]
    found = check(instance, solution)
    assert Violation("FORMAT", 2, "line 2 rotation 1 has no end_week; it is ignored") in found
    assert "TILING" in {v.rule for v in found}  # the ignored rotation leaves a gap


def test_format_missing_top_level_field(instance, solution):
    del solution["metrics"]
    assert codes(instance, solution) == {"FORMAT"}


@pytest.mark.parametrize("document", [None, [], "text", {"format": "receptor-planner/solution@1"},
                                      {"format": "receptor-planner/solution@1", "lines": {"a": 1}}])
def test_format_never_raises(instance, document):
    assert codes(instance, document) == {"FORMAT"}


def test_format_unreadable_line_is_reported_once(instance, solution):
    solution["lines"][1] = "Line 2"
    violations = check(instance, solution)
    assert [(v.rule, v.line) for v in violations] == [("FORMAT", 2)]


def test_format_bad_rotation_kind(instance, solution):
    solution["lines"][0]["rotations"][0]["kind"] = "holiday"
    assert "FORMAT" in codes(instance, solution)


@pytest.mark.parametrize("constraints", [["VIC_PGY9"], ["vic_pgy1"], ["AMC_PGY2"], ["VIC_PGY1", "AMC_PGY1"],
                                         "VIC_PGY1"])
def test_format_bad_constraints(instance, solution, constraints):
    solution["request"]["constraints"] = constraints
    assert "FORMAT" in codes(instance, solution)


def test_constraints_default_to_unrestricted(instance, solution):
    del solution["request"]["constraints"]
    solution["lines"][0]["rotations"] = rotations(replace(LINES[0][0], 4, "ADMIN"), LINES[0][1])
    assert codes(instance, solution) == set()  # NON_CLINICAL_MAX is not an UNRESTRICTED rule


# ---------------------------------------------------------------- structural rules

def test_one_position_per_term_split_term_names_two_posts(instance, solution):
    rots = solution["lines"][0]["rotations"]
    after_leave = next(r for r in rots if r["term"] == 2 and r["start_week"] == 18)
    after_leave["position"] = "GERI"
    violations = check(instance, solution)
    assert violations == [Violation("ONE_POSITION_PER_TERM", 1, "line 1 holds 2 positions in term 2: CARD, GERI")]


def test_one_position_per_term_whole_term_on_leave(instance, solution):
    first = solution["lines"][1]["rotations"][0]  # term 1, weeks 1-2 before the leave
    for rot in solution["lines"][1]["rotations"]:
        if rot["term"] == 1:
            rot["kind"] = "leave"
            rot.pop("position", None)
    assert first["kind"] == "leave"
    assert any(v.rule == "ONE_POSITION_PER_TERM" and "holds no position in term 1" in v.message
               for v in check(instance, solution))


def _shift_end(rot, week):
    rot["end_week"] = week
    rot["end_date"] = (dt.date.fromisoformat(START) + dt.timedelta(weeks=week, days=-1)).isoformat()


def _drop_last(rots):
    rots.pop()


def _wrong_end_date(rots):
    rots[0]["end_date"] = "2027-03-13"


def _wrong_term(rots):
    rots[0]["term"] = 2


def _duplicate_leave(rots):
    rots.append(copy.deepcopy(next(r for r in rots if r["kind"] == "leave")))


def _cross_boundary(rots):
    _shift_end(rots[0], 11)
    rots[1]["start_week"] = 12


def _clinical_without_position(rots):
    del rots[0]["position"]


def _leave_with_position(rots):
    next(r for r in rots if r["kind"] == "leave")["position"] = "ED1"


def _outside_period(rots):
    rots.append({"kind": "clinical", "position": "RURAL", "term": 5, "start_week": 53, "end_week": 53,
                 "start_date": "2028-01-03", "end_date": "2028-01-09"})


def _ends_before_start(rots):
    rots.append({"kind": "clinical", "position": "RURAL", "term": 5, "start_week": 50, "end_week": 49,
                 "start_date": "2027-12-13", "end_date": "2027-12-12"})


@pytest.mark.parametrize("mutate, words, alone", [
    (_drop_last, "does not cover weeks 41-52", False),
    (_wrong_end_date, "has end_date 2027-03-13, not 2027-03-14", True),
    (_wrong_term, "says term 2 but starts in term 1", True),
    (_duplicate_leave, "covers weeks 13-17 more than once", True),
    (_cross_boundary, "crosses from term 1 into term 2", False),
    (_clinical_without_position, "is clinical but names no position", False),
    (_leave_with_position, "is leave but names position ED1", True),
    (_outside_period, "lies outside the period, weeks 1-52", True),
    (_ends_before_start, "ends before it starts", True),
])
def test_tiling(instance, solution, mutate, words, alone):
    mutate(solution["lines"][0]["rotations"])
    violations = check(instance, solution)
    assert any(v.rule == "TILING" and v.line == 1 and words in v.message for v in violations), violations
    if alone:
        assert {v.rule for v in violations} == {"TILING"}


def test_rotation_order_does_not_matter(instance, solution):
    solution["lines"][0]["rotations"].reverse()
    assert check(instance, solution) == []


def test_no_repeat_position(instance):
    solution = make_solution(with_line(2, keys=replace(LINES[1][0], 5, "SURG1")))
    assert check(instance, solution) == [
        Violation("NO_REPEAT_POSITION", 2, "line 2 holds SURG1 in terms 2, 5")]


def test_availability(instance, solution):
    position(instance, "CARD")["terms"] = [1, 3, 4, 5]
    assert codes(instance, solution) == {"AVAILABILITY"}


def test_capacity_message(instance, solution):
    position(instance, "CARD")["capacity"] = [1, 0, 1, 1, 1]
    assert [str(v) for v in check(instance, solution)] == ["CAPACITY: position CARD term 2 holds 1 line, capacity 0"]


def test_capacity_across_lines(instance):
    position(instance, "RURAL")["capacity"] = 2
    solution = make_solution(with_line(2, keys=replace(LINES[1][0], 5, "RURAL")))  # RURAL in terms 4 and 5
    assert "CAPACITY" not in codes(instance, solution)
    position(instance, "RURAL")["capacity"] = 1
    assert [str(v) for v in check(instance, solution) if v.rule == "CAPACITY"] == [
        "CAPACITY: position RURAL term 5 holds 2 lines, capacity 1"]


def test_min_fill(instance, solution):
    position(instance, "SURG1")["min_fill"] = [0, 0, 0, 1, 0]
    assert [str(v) for v in check(instance, solution)] == ["MIN_FILL: position SURG1 term 4 holds 0 lines, min_fill 1"]


def test_min_fill_excludable_shortfall_is_no_violation(instance, solution):
    assert position(instance, "ED1")["min_fill"][0] == 1  # nobody holds ED1 in term 1
    assert check(instance, solution) == []
    position(instance, "ED1")["excludable"] = False
    assert codes(instance, solution) == {"MIN_FILL"}


def test_pin_placement_broken(instance, solution):
    instance["pins"] = [{"line": 1, "term": 1, "position": "CARD"}]
    assert [str(v) for v in check(instance, solution)] == ["PIN: line 1 term 1 is pinned to CARD but holds MED1"]


def test_pin_whole_line_broken(instance):
    solution = make_solution(with_line(3, keys=replace(LINES[2][0], 2, "GERI")))
    assert codes(instance, solution) == {"PIN"}


def test_pin_on_a_line_not_built(instance, solution):
    instance["pins"] = PINS + [{"line": 4, "positions": LINES[0][0]}]
    assert [str(v) for v in check(instance, solution)] == ["PIN: line 4 is pinned but was not built (3 lines built)"]


def test_leave_weeks(instance):
    solution = make_solution(with_line(3, leave=[(33, 4)]))
    assert Violation("LEAVE_WEEKS", 3, "line 3 has 4 leave weeks, not 5") in check(instance, solution)


def test_leave_pattern_order_matters(instance):
    solution = make_solution(with_line(3, leave=[(33, 3), (45, 2)]))  # [3, 2]; only [5] and [2, 3] allowed
    assert codes(instance, solution) == {"LEAVE_PATTERN"}


FIXED = {"weeks": 5, "patterns": [[2]], "within_term": True, "max_concurrent": 1,
         "fixed_blocks": [{"start_week": 50, "weeks": 3}]}
FIXED_LINES = [(keys, [(first, 2), (50, 3)]) for (keys, _), first in zip(LINES, (13, 3, 33))]


def test_fixed_blocks_valid_and_exempt_from_max_concurrent():
    # All three lines are off in weeks 50-52, more than max_concurrent 1: a closure needs no cover.
    assert check(make_instance(leave=FIXED), make_solution(FIXED_LINES)) == []


def test_leave_pattern_fixed_block_missing():
    lines = FIXED_LINES[:2] + [(LINES[2][0], [(33, 2), (46, 3)])]
    violations = check(make_instance(leave=FIXED), make_solution(lines))
    assert {v.rule for v in violations} == {"LEAVE_PATTERN"}
    assert "does not hold the fixed leave block weeks 50-52 exactly" in violations[0].message


def test_leave_pattern_block_touching_a_fixed_block_merges_with_it():
    lines = FIXED_LINES[:2] + [(LINES[2][0], [(48, 2), (50, 3)])]  # weeks 48-52: one block of 5
    assert codes(make_instance(leave=FIXED), make_solution(lines)) == {"LEAVE_PATTERN"}


@pytest.mark.parametrize("leave, ok", [([(3, 2), (8, 3)], False), ([(2, 2), (8, 3)], True)])
def test_leave_gap_boundary(instance, leave, ok):
    # min_gap_weeks 4: weeks 4 to 8 leave a gap of 3, weeks 3 to 8 a gap of 4.
    found = codes(instance, make_solution(with_line(2, leave=leave)))
    assert found == (set() if ok else {"LEAVE_GAP"})


def test_leave_within_term(instance):
    solution = make_solution(with_line(1, leave=[(19, 5)]))  # weeks 19-23 straddle terms 2 and 3
    assert [str(v) for v in check(instance, solution)] == [
        "LEAVE_WITHIN_TERM: line 1 leave weeks 19-23 crosses from term 2 into term 3"]
    instance["leave"]["within_term"] = False
    assert check(instance, solution) == []


def test_leave_max_concurrent(instance):
    solution = make_solution(with_line(3, leave=[(14, 5)]))  # overlaps line 1 in weeks 14-17
    violations = check(instance, solution)
    assert {v.rule for v in violations} == {"LEAVE_MAX_CONCURRENT"}
    assert [v.message.split()[1] for v in violations] == ["14", "15", "16", "17"]
    assert all(v.line is None for v in violations)
    instance["leave"]["max_concurrent"] = None
    assert check(instance, solution) == []


# ---------------------------------------------------------------- accreditation rules

def test_clinical_weeks(instance):
    instance["leave"].update(weeks=6, patterns=[[6]])
    solution = make_solution([(keys, [(first, 6)]) for (keys, _), first in zip(LINES, (13, 3, 33))])
    violations = check(instance, solution)
    assert [(v.rule, v.line) for v in violations] == [("CLINICAL_WEEKS", 1), ("CLINICAL_WEEKS", 2),
                                                      ("CLINICAL_WEEKS", 3)]
    assert violations[0].message == "line 1 has 46 clinical weeks, fewer than 47"


def test_min_terms_short_terms():
    weeks = [9, 9, 10, 12, 12]  # only three terms of 10 weeks or more
    violations = check(make_instance(weeks), make_solution(LINES, term_weeks=weeks))
    assert [(v.rule, v.line) for v in violations] == [("MIN_TERMS", 1), ("MIN_TERMS", 2), ("MIN_TERMS", 3)]


@pytest.mark.parametrize("keys, ok", [
    (["MED1", "CARD", "ADMIN", "ED1", "SURG1"], False),  # the non-clinical term is a 10-week one
    (["ADMIN", "CARD", "MED1", "ED1", "SURG1"], True),   # the non-clinical term is a 9-week one
])
def test_min_terms_counts_clinical_terms_only(keys, ok):
    weeks = [9, 9, 10, 12, 12]
    solution = make_solution([(keys, [(13, 5)])], constraints=["AMC_PGY2"], term_weeks=weeks)
    assert codes(make_instance(weeks, cohort="PGY2"), solution) == (set() if ok else {"MIN_TERMS"})


def test_categories(instance):
    solution = make_solution(with_line(1, keys=replace(LINES[0][0], 3, "GERI")))  # SURG1 was the only D
    assert [str(v) for v in check(instance, solution)] == ["CATEGORIES: line 1 covers no term in category D"]


def test_specialty_cap(instance):
    solution = make_solution(with_line(1, keys=replace(LINES[0][0], 3, "ENDO")))  # 30 weeks of Medicine
    assert [str(v) for v in check(instance, solution)] == [
        "SPECIALTY_CAP: line 1 spends 30 weeks in specialty Medicine, more than 50% of 52 weeks (26)"]


@pytest.mark.parametrize("weeks, ok", [([13, 13, 13, 13], True), ([14, 13, 13, 12], False)])
def test_specialty_cap_boundary(weeks, ok):
    # MED1 + ENDO in terms 1 and 2: 26 weeks is exactly 50% of 52 and passes; 27 fails.
    solution = make_solution([(["MED1", "ENDO", "ED1", "SURG1"], [(3, 5)])], ["AMC_PGY1"], weeks)
    assert codes(make_instance(weeks), solution) == (set() if ok else {"SPECIALTY_CAP"})


@pytest.mark.parametrize("weeks, ok", [([13, 13, 13, 13], True), ([14, 13, 13, 12], False)])
def test_subspecialty_cap_boundary(weeks, ok):
    # CARD in term 1: 13 weeks is exactly 25% of 52 and passes; 14 fails.
    solution = make_solution([(["CARD", "MED1", "ED1", "SURG1"], [(3, 5)])], ["VIC_PGY2"], weeks)
    found = check(make_instance(weeks, cohort="PGY2"), solution)
    assert {v.rule for v in found} == (set() if ok else {"SUBSPECIALTY_CAP"})
    if not ok:
        assert found[0].message == ("line 1 spends 14 weeks in subspecialty Cardiology, "
                                    "more than 25% of 52 weeks (13)")


@pytest.mark.parametrize("cohort, ruleset, service_term, ok", [
    ("PGY1", "AMC_PGY1", 5, False),  # 12 weeks > 20% of 52 = 10.4
    ("PGY2", "AMC_PGY2", 5, True),   # 12 weeks <= 25% of 52 = 13
    ("PGY1", "AMC_PGY1", 4, True),   # 10 weeks <= 10.4
])
def test_service_cap_boundary(cohort, ruleset, service_term, ok):
    keys = replace(["MED1", "CARD", "SURG1", "ED1", "GERI"], service_term, "RELIEF")
    solution = make_solution([(keys, [(13, 5)])], [ruleset])
    assert codes(make_instance(cohort=cohort), solution) == (set() if ok else {"SERVICE_CAP"})


@pytest.mark.parametrize("weeks, ok", [([13, 13, 13, 13], True), ([14, 13, 13, 12], False)])
def test_team_min_boundary(weeks, ok):
    # Team weeks are those outside ADMIN (non-clinical) and RELIEF (service): 26 passes 50% of 52, 25 fails.
    solution = make_solution([(["ADMIN", "RELIEF", "ED1", "MED1"], [(3, 5)])], ["AMC_PGY2"], weeks)
    assert codes(make_instance(weeks, cohort="PGY2"), solution) == (set() if ok else {"TEAM_MIN"})


def test_non_clinical_max(instance):
    solution = make_solution(with_line(1, keys=replace(LINES[0][0], 4, "ADMIN")))
    assert [str(v) for v in check(instance, solution)] == [
        "NON_CLINICAL_MAX: line 1 holds non-clinical posts in term 4, more than 0"]


@pytest.mark.parametrize("ruleset, ok", [("VIC_PGY2", False), ("WA_PGY2", True), ("NSW_PGY2", True)])
def test_term_count(ruleset, ok):
    # A 5-term PGY2 year: PMCV wants 4 terms, PMCWA 3 to 5, HETI 5.
    solution = make_solution(LINES, [ruleset])
    found = check(make_instance(cohort="PGY2", pins=PINS), solution)
    assert [str(v) for v in found] == ([] if ok else ["TERM_COUNT: the year has 5 terms; the ruleset needs exactly 4"])


# ---------------------------------------------------------------- modifiers

TWO_RURAL = with_line(1, keys=replace(LINES[0][0], 4, "RURAL2"))  # RURAL2 in term 4, RURAL in term 5
TWO_SERVICE = with_line(1, keys=["MED1", "RELIEF", "SURG1", "NIGHT", "RURAL"])
NIGHTS = with_line(1, keys=replace(LINES[0][0], 4, "NIGHT"))


@pytest.mark.parametrize("lines, constraints, expected", [
    (TWO_RURAL, ["VIC_PGY1"], set()),
    (TWO_RURAL, ["VIC_PGY1", "MAX_1_RURAL"], {"MAX_1_RURAL"}),
    (TWO_SERVICE, ["UNRESTRICTED"], set()),
    (TWO_SERVICE, ["UNRESTRICTED", "MAX_1_SERVICE"], {"MAX_1_SERVICE"}),
    (TWO_SERVICE, ["MAX_1_SERVICE"], {"MAX_1_SERVICE"}),
    (TWO_SERVICE, ["VIC_PGY1"], {"SERVICE_CAP"}),
    (TWO_SERVICE, ["NSW_PGY1"], {"SERVICE_CAP", "MAX_1_SERVICE"}),  # NSW carries MAX_1_SERVICE
    (NIGHTS, ["VIC_PGY1"], set()),
    (NIGHTS, ["VIC_PGY1", "NO_NIGHTS"], {"NO_NIGHTS"}),
])
def test_modifiers(instance, lines, constraints, expected):
    assert codes(instance, make_solution(lines, constraints)) == expected


def test_no_nights_message(instance):
    violations = check(instance, make_solution(NIGHTS, ["VIC_PGY1", "NO_NIGHTS"]))
    assert [str(v) for v in violations] == ["NO_NIGHTS: line 1 holds the nights post NIGHT in term 4"]


# ---------------------------------------------------------------- PGY3+

# Line 1 breaks NON_CLINICAL_MAX, CATEGORIES (no D) and SERVICE_CAP (12 weeks on nights).
PGY3_LINES = with_line(1, keys=["MED1", "CARD", "ADMIN", "GERI", "NIGHT"])


def test_pgy3_gets_no_accreditation_rules():
    instance = make_instance(cohort="PGY3+", pins=PINS)
    assert codes(make_instance(cohort="PGY1", pins=PINS), make_solution(PGY3_LINES, ["AMC_PGY1"])) == {
        "NON_CLINICAL_MAX", "CATEGORIES", "SERVICE_CAP"}
    assert check(instance, make_solution(PGY3_LINES, ["AMC_PGY1"])) == []


def test_pgy3_keeps_structural_rules_and_modifiers():
    instance = make_instance(cohort="PGY3+", pins=PINS)
    position(instance, "CARD")["capacity"] = 0
    solution = make_solution(PGY3_LINES, ["VIC_PGY1", "NO_NIGHTS"])
    assert codes(instance, solution) == {"CAPACITY", "NO_NIGHTS"}


# ---------------------------------------------------------------- reporting

def test_every_violation_is_reported_in_rule_then_line_order(instance):
    lines = [(replace(LINES[0][0], 4, "ADMIN"), [(13, 4)]),  # NON_CLINICAL_MAX, LEAVE_WEEKS, LEAVE_PATTERN
             LINES[1],
             (replace(LINES[2][0], 2, "ADMIN"), [(33, 4)])]   # the same, plus PIN
    position(instance, "RURAL")["capacity"] = [1, 1, 0, 1, 1]  # CAPACITY, cross-line
    found = [(v.rule, v.line) for v in check(instance, make_solution(lines))]
    assert found == [("CAPACITY", None), ("PIN", 3), ("LEAVE_WEEKS", 1), ("LEAVE_WEEKS", 3),
                     ("LEAVE_PATTERN", 1), ("LEAVE_PATTERN", 3),
                     ("NON_CLINICAL_MAX", 1), ("NON_CLINICAL_MAX", 3)]


def test_summarize():
    violations = [Violation("CAPACITY", None, "position ED1 term 2 holds 7 lines, capacity 6"),
                  Violation("TILING", 3, "line 3 does not cover week 9")]
    assert summarize(violations) == ("2 violations: CAPACITY 1, TILING 1\n"
                                     "  CAPACITY: position ED1 term 2 holds 7 lines, capacity 6\n"
                                     "  TILING: line 3 does not cover week 9")
    assert summarize([]) == "no violations"
