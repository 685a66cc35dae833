"""Hand edits with live compliance: planners change lines, the rules stay in view.

The story: a PGY1 service of six posts over four 13-week terms has three lines, written
by an AMC_PGY1 planner run (here by hand, so every test knows them), each keeping every
rule. Its planner moves a line's post in a term, swaps two lines' posts, moves a leave
block, locks a line. A verb keeps the tiling and refuses what breaks a structural rule
(capacity, availability, a post twice in a line, the leave rules), with the checker's
own words; what breaks an accreditation or a local rule is made and shown by
planner.check_allocation_run and public.job_line_compliance. Direct row edits are held
to the tiling at commit and to a rotation's term at once. Every edit, by a verb or a
row, lands in job_line_edits with the line before and after. Viewers, other orgs and
strangers may not edit. Last, a re-solve with options.keep_locked keeps the locked
lines exactly, and says so when they make the request impossible.
"""
from __future__ import annotations

import copy
import uuid

import psycopg
import pytest

from builders import (acting_as, import_doc, import_service, instance, line_rotations, new_run, new_user, post,
                      posts_of, solve)
from receptor_planner.checker import check, check_all
from receptor_planner.instance import parse_instance, parse_request
from receptor_planner.locks import keep_locked, pin_locked_lines
from receptor_planner.solution import to_document
from receptor_planner.solve import solve as solve_offline

TERM_WEEKS = (13, 13, 13, 13)
# post keys per term and the first week of the line's one leave block of five weeks
LINES = {1: (["MED", "SUR", "ED", "PSY"], 14),
         2: (["SUR", "ED", "PSY", "MED"], 27),
         3: (["GER", "ICU", "PSY", "SUR"], 40)}
LEAVE = {"weeks": 5, "patterns": [[5]], "min_gap_weeks": 0, "within_term": True, "max_concurrent": 1,
         "blocked_weeks": [1, 2]}


def service_doc(name: str) -> dict:
    doc = instance([post("MED", categories=("A", "B"), specialty="General Medicine", capacity=2),
                    post("SUR", categories=("D",), specialty="Surgery", capacity=2),
                    post("ED", categories=("A", "C"), specialty="Emergency Medicine", capacity=2),
                    post("PSY", categories=("B",), specialty="Psychiatry", capacity=2),
                    post("ICU", categories=("C",), specialty="Intensive Care", capacity=1),
                    post("GER", terms=[1, 2], categories=("A", "B"), specialty="Geriatric Medicine", capacity=2)],
                   term_weeks=TERM_WEEKS, leave=LEAVE, cohort="PGY1")
    doc["org"]["name"] = name
    return doc


@pytest.fixture
def service(conn) -> dict:
    """The service, its three lines written by a COMPLETED AMC_PGY1 run, and its people: planner, viewer,
    admin, a planner of another org (rival) and a signed-in stranger."""
    run = import_doc(conn, service_doc(f"Hand Edit Health {uuid.uuid4().hex[:6]}"))
    org = conn.execute("select org_id from allocation_runs where id = %s", [run]).fetchone()[0]
    ids = {"run": run, "org": org}
    for name, role in (("planner", "planner"), ("viewer", "viewer"), ("admin", "admin")):
        ids[name] = new_user(conn, f"{name}-{uuid.uuid4().hex[:6]}@hand.example")
        conn.execute("select planner.add_member(%s, %s, %s)", [org, ids[name], role])
    rival_run = import_service(conn, f"Rival Health {uuid.uuid4().hex[:6]}")
    rival_org = conn.execute("select org_id from allocation_runs where id = %s", [rival_run]).fetchone()[0]
    ids["rival"] = new_user(conn, f"rival-{uuid.uuid4().hex[:6]}@hand.example")
    conn.execute("select planner.add_member(%s, %s, 'planner')", [rival_org, ids["rival"]])
    ids["stranger"] = new_user(conn, f"stranger-{uuid.uuid4().hex[:6]}@hand.example")
    writer = conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines, constraints) "
                          "values (%s, 3, '{AMC_PGY1}') returning id", [run]).fetchone()[0]
    conn.execute("update allocation_planner_runs set status = 'COMPLETED', finished_at = now() where id = %s", [writer])
    with conn.transaction():  # the owner writes them, as a solve does: no edit to record
        for line_no, (keys, leave_start) in LINES.items():
            line = conn.execute("insert into job_lines (allocation_run_id, planner_run_id, line_no, name) "
                                "values (%s, %s, %s, %s) returning id",
                                [run, writer, line_no, f"Line {line_no}"]).fetchone()[0]
            for r in line_rotations(keys, [(leave_start, 5)], TERM_WEEKS):
                conn.execute("insert into rotations (job_line_id, kind, position_id, term, start_week, end_week) "
                             "select %s, %s, (select id from positions where org_id = %s and key = %s), %s, %s, %s",
                             [line, r["kind"], org, r.get("position"), r["term"], r["start_week"], r["end_week"]])
    assert findings(conn, run) == [], "the hand-written lines keep every AMC_PGY1 rule"
    assert edit_rows(conn, run) == []
    return ids


# ---------------------------------------------------------------- reading the tables

def findings(conn, run) -> list[tuple]:
    return conn.execute("select rule, line, term, position, message from planner.check_allocation_run(%s)",
                        [run]).fetchall()


def lines(conn, run) -> dict[int, list[tuple]]:
    """line_no -> its rotations as (kind, position key, term, start_week, end_week), by week."""
    rows = conn.execute("select j.line_no, r.kind, p.key, r.term, r.start_week, r.end_week "
                        "from job_lines j join rotations r on r.job_line_id = j.id "
                        "left join positions p on p.id = r.position_id "
                        "where j.allocation_run_id = %s order by j.line_no, r.start_week", [run]).fetchall()
    out: dict[int, list[tuple]] = {}
    for line_no, *rotation in rows:
        out.setdefault(line_no, []).append(tuple(rotation))
    return out


def written(keys, leave_start) -> list[tuple]:
    """What ``lines`` gives for a line of these posts and one five-week leave block."""
    return [(r["kind"], r.get("position"), r["term"], r["start_week"], r["end_week"])
            for r in line_rotations(keys, [(leave_start, 5)], TERM_WEEKS)]


def edit_rows(conn, run) -> list[tuple]:
    return conn.execute("select line_no, verb, edited_by, edited_as, before, after from job_line_edits "
                        "where allocation_run_id = %s order by id", [run]).fetchall()


def verb(conn, user, sql: str, params) -> dict:
    """A verb called as ``user`` (a member signed in through the API)."""
    with acting_as(conn, user):
        return conn.execute(sql, params).fetchone()[0]


def refused(conn, user, sql: str, params, error=psycopg.errors.CheckViolation) -> str:
    with pytest.raises(error) as err:
        verb(conn, user, sql, params)
    return err.value.diag.message_primary


ASSIGN = "select planner.assign_post(%s, %s, %s, %s)"
SWAP = "select planner.swap_posts(%s, %s, %s, %s)"
MOVE_LEAVE = "select planner.move_leave(%s, %s, %s, %s)"
LOCK = "select planner.lock_line(%s, %s)"
UNLOCK = "select planner.unlock_line(%s, %s)"


def the_checker_on(conn, run, change) -> list:
    """What the checker finds in the current lines after ``change`` (a function of the solution document)
    that it did not find before, judged offline: the words a refusal must quote."""
    instance_doc = conn.execute("select planner.export_instance(%s)", [run]).fetchone()[0]
    solution = conn.execute("select planner.export_solution(%s)", [run]).fetchone()[0]
    changed = copy.deepcopy(solution)
    change(changed)
    before = set(check(instance_doc, solution))
    return [v for v in check(instance_doc, changed) if v not in before]


def holding(line: int, term: int, key: str):
    def change(solution):
        for rotation in solution["lines"][line - 1]["rotations"]:
            if rotation["term"] == term and rotation["kind"] == "clinical":
                rotation["position"] = key
    return change


# ---------------------------------------------------------------- assign_post

def test_assign_post_gives_a_line_another_post_and_records_who_did_it(conn, service):
    run = service["run"]
    untouched = {n: rotations for n, rotations in lines(conn, run).items() if n != 1}
    outcome = verb(conn, service["planner"], ASSIGN, [run, 1, 3, "ICU"])
    assert lines(conn, run)[1] == written(["MED", "SUR", "ICU", "PSY"], 14)
    assert {n: rotations for n, rotations in lines(conn, run).items() if n != 1} == untouched
    assert outcome["verb"] == "assign_post" and outcome["violations"] == []
    assert [(r["kind"], r.get("position"), r["term"], r["start_week"], r["end_week"])
            for r in outcome["lines"][0]["rotations"]] == lines(conn, run)[1]
    [(line_no, verb_name, by, role, before, after)] = edit_rows(conn, run)
    assert (line_no, verb_name, by, role) == (1, "assign_post", service["planner"], "authenticated")
    assert [r.get("position") for r in before["rotations"] if r["term"] == 3] == ["ED"]
    assert [r.get("position") for r in after["rotations"] if r["term"] == 3] == ["ICU"]
    assert [r for r in before["rotations"] if r["term"] != 3] == [r for r in after["rotations"] if r["term"] != 3]
    assert findings(conn, service["run"]) == []


@pytest.mark.parametrize("rule, term, key", [
    ("CAPACITY", 2, "ICU"),               # line 3 holds the one ICU place of term 2
    ("NO_REPEAT_POSITION", 4, "SUR"),     # line 1 holds SUR in term 2
    ("AVAILABILITY", 3, "GER"),           # GER is offered in terms 1 and 2 only
])
def test_assign_post_refuses_a_structural_break_in_the_checkers_words(conn, service, rule, term, key):
    run = service["run"]
    before = lines(conn, run)
    [expected] = [v for v in the_checker_on(conn, run, holding(1, term, key)) if v.rule == rule]
    message = refused(conn, service["planner"], ASSIGN, [run, 1, term, key])
    assert message == f"assign_post: refused: the edit would break {rule}: {expected.message}"
    assert lines(conn, run) == before and edit_rows(conn, run) == []


def test_an_accreditation_break_is_made_and_shown_with_the_rules_words(conn, service):
    run = service["run"]
    # GER in term 2 takes SUR's place: line 1 has no category D post left (CATEGORIES, AMC_PGY1).
    [expected] = the_checker_on(conn, run, holding(1, 2, "GER"))
    outcome = verb(conn, service["planner"], ASSIGN, [run, 1, 2, "GER"])
    assert lines(conn, run)[1] == written(["MED", "GER", "ED", "PSY"], 14)
    assert [(v["rule"], v["line"], v["message"]) for v in outcome["violations"]] == \
        [("CATEGORIES", 1, expected.message)]
    assert "category D" in expected.message
    assert [(rule, line) for rule, line, *_ in findings(conn, run)] == [("CATEGORIES", 1)]
    with acting_as(conn, service["viewer"]):  # what the view shows a reader of the org
        compliance = conn.execute("select line_no, compliant, violations from job_line_compliance "
                                  "where allocation_run_id = %s order by line_no", [run]).fetchall()
    assert [(n, ok) for n, ok, _ in compliance] == [(1, False), (2, True), (3, True)]
    assert [(v["rule"], v["message"]) for v in compliance[0][2]] == [("CATEGORIES", expected.message)]


def test_assign_post_names_what_it_cannot_find(conn, service):
    run = service["run"]
    assert refused(conn, service["planner"], ASSIGN, [run, 9, 1, "MED"], psycopg.errors.InvalidParameterValue) == \
        f"line_no: allocation run {run} has no job line 9"
    assert refused(conn, service["planner"], ASSIGN, [run, 1, 5, "MED"], psycopg.errors.InvalidParameterValue) == \
        "term: must be a term of the allocation run, 1 to 4; got 5"
    assert refused(conn, service["planner"], ASSIGN, [run, 1, 1, "NOPE"], psycopg.errors.InvalidParameterValue) == \
        f"position_key: allocation run {run} offers no post 'NOPE'"


# ---------------------------------------------------------------- swap_posts

def test_swap_posts_trades_two_lines_posts_and_keeps_their_leave(conn, service):
    run = service["run"]
    outcome = verb(conn, service["planner"], SWAP, [run, 1, 1, 3])
    after = lines(conn, run)
    assert after[1] == written(["GER", "SUR", "ED", "PSY"], 14)
    assert after[3] == written(["MED", "ICU", "PSY", "SUR"], 40)
    assert after[2] == written(*LINES[2])
    assert outcome["violations"] == [] and [line["line_no"] for line in outcome["lines"]] == [1, 3]
    assert [(n, v) for n, v, *_ in edit_rows(conn, run)] == [(1, "swap_posts"), (3, "swap_posts")]
    assert findings(conn, run) == []


def test_swap_posts_refuses_a_post_twice_in_a_line(conn, service):
    run = service["run"]
    before = lines(conn, run)
    # Term 4: line 1 would hold SUR twice (term 2 and 4), line 3 PSY twice.
    expected = the_checker_on(conn, run, lambda doc: (holding(1, 4, "SUR")(doc), holding(3, 4, "PSY")(doc)))
    message = refused(conn, service["planner"], SWAP, [run, 4, 1, 3])
    assert message == f"swap_posts: refused: the edit would break NO_REPEAT_POSITION: {expected[0].message}"
    assert refused(conn, service["planner"], SWAP, [run, 4, 2, 2], psycopg.errors.InvalidParameterValue) == \
        "line_b: job line 2 cannot swap with itself"
    assert lines(conn, run) == before and edit_rows(conn, run) == []


def test_a_structural_break_from_before_holds_up_no_other_edit(conn, service):
    run = service["run"]
    # Written by the owner, as a DBA could: line 3 on leave with line 2 (max_concurrent 1), and a pin
    # of line 1 to MED in term 1.
    with conn.transaction():
        line_3 = conn.execute("select id from job_lines where allocation_run_id = %s and line_no = 3",
                              [run]).fetchone()[0]
        conn.execute("delete from rotations where job_line_id = %s", [line_3])
        for r in line_rotations(LINES[3][0], [(27, 5)], TERM_WEEKS):
            conn.execute("insert into rotations (job_line_id, kind, position_id, term, start_week, end_week) "
                         "select %s, %s, (select id from positions where org_id = %s and key = %s), %s, %s, %s",
                         [line_3, r["kind"], service["org"], r.get("position"), r["term"], r["start_week"],
                          r["end_week"]])
    conn.execute("insert into allocation_run_pins (allocation_run_id, line_no, term, position_id) "
                 "select %s, 1, 1, id from positions where org_id = %s and key = 'MED'", [run, service["org"]])
    assert {rule for rule, *_ in findings(conn, run)} == {"LEAVE_MAX_CONCURRENT"}
    # The swap breaks the pin (reported, not refused), which the checker names before the leave cover.
    outcome = verb(conn, service["planner"], SWAP, [run, 1, 1, 3])
    assert [v["rule"] for v in outcome["violations"]][:1] == ["PIN"]
    assert {rule for rule, *_ in findings(conn, run)} == {"PIN", "LEAVE_MAX_CONCURRENT"}


# ---------------------------------------------------------------- move_leave

def test_move_leave_moves_the_block_holding_a_week_and_writes_the_line_around_it(conn, service):
    run = service["run"]
    outcome = verb(conn, service["planner"], MOVE_LEAVE, [run, 1, 16, 20])  # week 16 lies in the block 14-18
    assert lines(conn, run)[1] == written(LINES[1][0], 20)
    assert outcome["violations"] == []
    [(line_no, verb_name, *_, before, after)] = edit_rows(conn, run)
    assert (line_no, verb_name) == (1, "move_leave")
    assert [(r["start_week"], r["end_week"]) for r in before["rotations"] if r["kind"] == "leave"] == [(14, 18)]
    assert [(r["start_week"], r["end_week"]) for r in after["rotations"] if r["kind"] == "leave"] == [(20, 24)]
    assert findings(conn, run) == []


def leave_at(line: int, start: int, weeks: int = 5):
    def change(solution):
        keys, _ = LINES[line]
        solution["lines"][line - 1]["rotations"] = line_rotations(keys, [(start, weeks)], TERM_WEEKS)
    return change


@pytest.mark.parametrize("rule, to_week", [
    ("LEAVE_WITHIN_TERM", 24),      # weeks 24-28 cross from term 2 into term 3
    ("LEAVE_MAX_CONCURRENT", 27),   # line 2 is on leave in weeks 27-31; max_concurrent is 1
])
def test_move_leave_refuses_a_leave_rule_break(conn, service, rule, to_week):
    run = service["run"]
    before = lines(conn, run)
    expected = the_checker_on(conn, run, leave_at(1, to_week))[0]  # the first the checker names
    assert expected.rule == rule
    message = refused(conn, service["planner"], MOVE_LEAVE, [run, 1, 14, to_week])
    assert message == f"move_leave: refused: the edit would break {rule}: {expected.message}"
    assert lines(conn, run) == before and edit_rows(conn, run) == []


def test_leave_moved_into_a_blocked_week_is_made_and_shown(conn, service):
    run = service["run"]
    [expected] = the_checker_on(conn, run, leave_at(1, 2))  # weeks 2-6; weeks 1 and 2 are blocked
    assert expected.rule == "LEAVE_BLOCKED"
    outcome = verb(conn, service["planner"], MOVE_LEAVE, [run, 1, 18, 2])
    assert lines(conn, run)[1] == written(LINES[1][0], 2)
    assert [(v["rule"], v["message"]) for v in outcome["violations"]] == [("LEAVE_BLOCKED", expected.message)]


def test_move_leave_names_a_week_it_cannot_use(conn, service):
    run = service["run"]
    assert refused(conn, service["planner"], MOVE_LEAVE, [run, 1, 13, 20], psycopg.errors.InvalidParameterValue) == \
        "from_week: job line 1 is not on leave in week 13"
    assert refused(conn, service["planner"], MOVE_LEAVE, [run, 1, 14, 49], psycopg.errors.InvalidParameterValue) == \
        "to_week: a block of 5 weeks must start in week 1 to 48; got 49"


# ---------------------------------------------------------------- locked lines

def test_a_locked_line_refuses_every_edit_until_it_is_unlocked(conn, service):
    run, planner = service["run"], service["planner"]
    assert verb(conn, planner, LOCK, [run, 1])["lines"][0]["locked"] is True
    locked_line = "line_no: job line 1 is locked; unlock it first (planner.unlock_line)"
    not_now = psycopg.errors.ObjectNotInPrerequisiteState
    assert refused(conn, planner, ASSIGN, [run, 1, 3, "ICU"], not_now) == locked_line
    assert refused(conn, planner, SWAP, [run, 1, 3, 1], not_now) == locked_line
    assert refused(conn, planner, MOVE_LEAVE, [run, 1, 14, 20], not_now) == locked_line
    rotation = conn.execute("select r.id from rotations r join job_lines j on j.id = r.job_line_id "
                            "where j.allocation_run_id = %s and j.line_no = 1 and r.term = 3", [run]).fetchone()[0]
    assert refused(conn, planner, "update rotations set position_id = position_id where id = %s returning id",
                   [rotation], not_now) == "rotations: job line 1 is locked; unlock it first (planner.unlock_line)"
    assert refused(conn, planner, "delete from job_lines where allocation_run_id = %s and line_no = 1 returning id",
                   [run], not_now) == "job_lines: job line 1 is locked; unlock it first (planner.unlock_line)"
    assert lines(conn, run)[1] == written(*LINES[1])
    verb(conn, planner, UNLOCK, [run, 1])
    verb(conn, planner, ASSIGN, [run, 1, 3, "ICU"])
    rows = edit_rows(conn, run)
    assert [(v, before["locked"], after["locked"]) for _, v, _, _, before, after in rows] == \
        [("lock_line", False, True), ("unlock_line", True, False), ("assign_post", False, False)]


# ---------------------------------------------------------------- direct row edits

def first_rotation(conn, run, line_no: int, term: int):
    return conn.execute("select r.id from rotations r join job_lines j on j.id = r.job_line_id "
                        "where j.allocation_run_id = %s and j.line_no = %s and r.term = %s "
                        "order by r.start_week limit 1", [run, line_no, term]).fetchone()[0]


@pytest.mark.parametrize("statements, error, message", [
    (["update rotations set end_week = end_week - 1 where id = {r1}"], psycopg.errors.CheckViolation,
     "rotations: job line 1 does not tile the period: weeks 13 to 13 are in no rotation"),
    (["insert into rotations (job_line_id, kind, position_id, term, start_week, end_week) "
      "select job_line_id, kind, position_id, term, start_week, end_week from rotations where id = {r1}"],
     psycopg.errors.CheckViolation, "rotations: job line 1 does not tile the period: week 1 is in two rotations"),
    (["update rotations set term = 2 where id = {r1}"], psycopg.errors.CheckViolation,
     "rotations.term: weeks 1 to 13 do not lie in term 2, which is weeks 14 to 26"),
    (["delete from rotations where id = {r2}", "update rotations set end_week = 26 where id = {r1}"],
     psycopg.errors.CheckViolation, "rotations.term: weeks 1 to 26 do not lie in term 1, which is weeks 1 to 13"),
], ids=["gap", "overlap", "outside its term", "across two terms"])
def test_direct_edits_that_break_the_tiling_are_refused(conn, service, statements, error, message):
    run = service["run"]
    before = lines(conn, run)
    ids = {"r1": first_rotation(conn, run, 1, 1), "r2": first_rotation(conn, run, 1, 2)}
    with pytest.raises(error) as err:
        with acting_as(conn, service["planner"]):  # the tiling is judged at this commit
            for sql in statements:
                conn.execute(sql.replace("{r1}", "%(r1)s").replace("{r2}", "%(r2)s"), ids)
    assert err.value.diag.message_primary == message
    assert lines(conn, run) == before and edit_rows(conn, run) == []


def test_direct_edits_are_recorded_row_by_row_whoever_writes_them(conn, service):
    run = service["run"]
    rotation = first_rotation(conn, run, 1, 3)
    with acting_as(conn, service["planner"]):
        # Setting the flag the triggers pass between them hides nothing.
        conn.execute("set local planner.direct_edit = 'no'")
        conn.execute("update rotations set position_id = (select id from positions where org_id = %s and key = 'ICU') "
                     "where id = %s", [service["org"], rotation])
        conn.execute("update job_lines set name = 'Second' where allocation_run_id = %s and line_no = 2", [run])
    with acting_as(conn, None, role="service_role"):
        conn.execute("update job_lines set name = 'Third' where allocation_run_id = %s and line_no = 3", [run])
    # The owner's own writes (a solve, a restore, a DBA) are not hand edits: job_lines_history keeps those.
    conn.execute("update job_lines set name = 'First' where allocation_run_id = %s and line_no = 1", [run])
    rows = edit_rows(conn, run)
    assert [(n, v, by, role) for n, v, by, role, _, _ in rows] == [
        (1, "direct edit", service["planner"], "authenticated"),
        (2, "direct edit", service["planner"], "authenticated"),
        (3, "direct edit", None, "service_role")]
    (*_, rotation_before, rotation_after), (*_, line_before, line_after) = rows[0], rows[1]
    assert (rotation_before["id"], rotation_before["position"]) == (str(rotation), "ED")
    assert (rotation_after["id"], rotation_after["position"]) == (str(rotation), "ICU")
    assert (line_before["name"], line_after["name"]) == ("Line 2", "Second")
    assert line_before["rotations"] == line_after["rotations"] != []


# ---------------------------------------------------------------- who may edit

VERBS = [(ASSIGN, [1, 3, "ICU"]), (SWAP, [1, 1, 3]), (MOVE_LEAVE, [1, 14, 20]), (LOCK, [1]), (UNLOCK, [1])]
VERB_NAMES = ["assign_post", "swap_posts", "move_leave", "lock_line", "unlock_line"]


@pytest.mark.parametrize("sql, args", VERBS, ids=VERB_NAMES)
def test_viewers_other_orgs_and_strangers_may_not_edit(conn, service, sql, args):
    run = service["run"]
    before = lines(conn, run)
    assert refused(conn, service["viewer"], sql, [run, *args], psycopg.errors.InsufficientPrivilege) == \
        f"allocation_run: permission denied: only planners and admins of its org edit the job lines of " \
        f"allocation run {run}"
    made_up = uuid.uuid4()
    for outsider in ("rival", "stranger"):
        # The same answer as for an allocation run that does not exist: nothing about another org leaks.
        assert refused(conn, service[outsider], sql, [run, *args], psycopg.errors.NoDataFound) == \
            f"allocation_run: no allocation run with id {run}"
        assert refused(conn, service[outsider], sql, [made_up, *args], psycopg.errors.NoDataFound) == \
            f"allocation_run: no allocation run with id {made_up}"
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for schema planner"):
        with acting_as(conn, None, role="anon"):
            conn.execute(sql, [run, *args])
    assert lines(conn, run) == before and edit_rows(conn, run) == []
    verb(conn, service["admin"], sql, [run, *args])  # an admin of the org may
    # One record a line changed; unlocking a line that is not locked changes nothing.
    assert len(edit_rows(conn, run)) == {UNLOCK: 0, SWAP: 2}.get(sql, 1)


def test_the_edit_record_is_read_by_members_and_written_by_nobody(conn, service):
    run = service["run"]
    verb(conn, service["planner"], ASSIGN, [run, 1, 3, "ICU"])
    seen = "select count(*) from job_line_edits where allocation_run_id = %s"
    with acting_as(conn, service["viewer"]):
        assert conn.execute(seen, [run]).fetchone()[0] == 1
    with acting_as(conn, service["rival"]):
        assert conn.execute(seen, [run]).fetchone()[0] == 0
    forged = ("insert into job_line_edits (org_id, allocation_run_id, job_line_id, line_no, verb, edited_as, after) "
              "values (%s, %s, gen_random_uuid(), 1, 'assign_post', 'authenticated', '{}') returning id")
    for user, role in ((service["planner"], "authenticated"), (None, "service_role")):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with acting_as(conn, user, role=role):
                conn.execute(forged, [service["org"], run])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with acting_as(conn, user, role=role):
                conn.execute("delete from job_line_edits where allocation_run_id = %s", [run])
    assert len(edit_rows(conn, run)) == 1


# ---------------------------------------------------------------- a re-solve keeps the locked lines

def current_solution(conn, run) -> dict:
    return conn.execute("select planner.export_solution(%s)", [run]).fetchone()[0]


def test_keep_locked_keeps_the_locked_lines_exactly_through_a_resolve(conn, service):
    run, planner = service["run"], service["planner"]
    verb(conn, planner, MOVE_LEAVE, [run, 1, 14, 20])  # leave no plan would pick: its own weeks
    verb(conn, planner, ASSIGN, [run, 3, 3, "ED"])
    for line_no in (1, 3):
        verb(conn, planner, LOCK, [run, line_no])
    before = current_solution(conn, run)
    recorded = len(edit_rows(conn, run))
    outcome = solve(conn, new_run(conn, run, 3, constraints=("AMC_PGY1",), keep_locked=True, seed=3))
    assert outcome["status"] == "COMPLETED", outcome
    after = current_solution(conn, run)
    for line_no in (1, 3):
        assert after["lines"][line_no - 1]["rotations"] == before["lines"][line_no - 1]["rotations"]
    assert conn.execute("select array_agg(line_no order by line_no) from job_lines where allocation_run_id = %s "
                        "and locked", [run]).fetchone()[0] == [1, 3]
    assert outcome["metrics"]["locked_lines"] == [1, 3]
    instance_doc = conn.execute("select planner.export_instance(%s)", [run]).fetchone()[0]
    assert check_all(instance_doc, after) == []  # every rule, and every metric the run reports
    # The solve replaced the lines: the hand-edited ones are in history, and nothing is a hand edit.
    snapshot = conn.execute("select snapshot from job_lines_history where allocation_run_id = %s "
                            "order by created_at desc limit 1", [run]).fetchone()[0]
    assert snapshot["lines"] == before["lines"]
    assert len(edit_rows(conn, run)) == recorded


def test_keep_locked_says_when_the_locked_lines_make_the_request_impossible(conn, service):
    run, planner = service["run"], service["planner"]
    verb(conn, planner, ASSIGN, [run, 1, 2, "GER"])  # line 1 loses category D (CATEGORIES)
    verb(conn, planner, LOCK, [run, 1])
    before = current_solution(conn, run)
    outcome = solve(conn, new_run(conn, run, 3, constraints=("AMC_PGY1",), keep_locked=True))
    assert outcome["status"] == "INFEASIBLE"
    explanation = outcome["explanation"]
    assert explanation["locked_lines"] == [1]
    assert "Locked line 1 is kept as it is (options.keep_locked)" in explanation["summary"]
    rules = {reason["rule"] for reason in explanation["reasons"]}
    assert {"CATEGORIES", "PIN"} <= rules
    assert any(r["rule"] == "PIN" and r["message"].startswith("line 1 is pinned") for r in explanation["reasons"])
    assert current_solution(conn, run)["lines"] == before["lines"]  # nothing written
    # Without keep_locked the solver may change line 1, and the same request is met.
    assert solve(conn, new_run(conn, run, 3, constraints=("AMC_PGY1",)))["status"] == "COMPLETED"


def test_a_locked_line_beyond_the_lines_requested_is_explained(conn, service):
    run = service["run"]
    verb(conn, service["planner"], LOCK, [run, 3])
    outcome = solve(conn, new_run(conn, run, 2, constraints=("AMC_PGY1",), keep_locked=True))
    assert outcome["status"] == "INFEASIBLE"
    assert "Locked line 3 is kept as it is" in outcome["explanation"]["summary"]
    assert [r["message"] for r in outcome["explanation"]["reasons"] if r["rule"] == "PIN"] == \
        ["line 3 is pinned, but only 2 lines are requested"]


def test_a_locked_line_against_a_pin_of_the_run_fails_naming_both(conn, service):
    run = service["run"]
    verb(conn, service["planner"], LOCK, [run, 1])
    conn.execute("insert into allocation_run_pins (allocation_run_id, line_no, term, position_id) "
                 "select %s, 1, 1, id from positions where org_id = %s and key = 'SUR'", [run, service["org"]])
    outcome = solve(conn, new_run(conn, run, 3, keep_locked=True, constraints=("AMC_PGY1",)))
    assert outcome["status"] == "FAILED"
    assert outcome["error"] == ("invalid input: options.keep_locked: locked line 1 holds MED in term 1, but the "
                                "allocation run pins that line to SUR there")


def test_keep_locked_is_true_or_false(conn, service):
    with pytest.raises(psycopg.errors.CheckViolation) as err:
        new_run(conn, service["run"], 3, keep_locked="yes")
    assert err.value.diag.message_primary == \
        "allocation_planner_runs.options.keep_locked: must be true or false, got 'yes'"


# ---------------------------------------------------------------- keep_locked without a database

def test_locked_leave_gets_room_where_the_relief_cover_is_full():
    """Another line's planned leave lies on the locked line's own weeks, and max_concurrent is 1: that
    line's leave moves, and the result passes the checker, the reported metrics included."""
    doc = service_doc("Offline Health")
    locked = [{"line": 1, "rotations": line_rotations(LINES[1][0], [(14, 5)], TERM_WEEKS)}]
    pinned = pin_locked_lines(doc, locked)
    assert pinned["pins"] == [{"line": 1, "positions": LINES[1][0]}]
    inst = parse_instance(pinned)
    request = parse_request({"n_job_lines": 3, "constraints": ["AMC_PGY1"], "max_seconds": 20, "seed": 1},
                            inst.cohort, inst.n_terms)
    solution = to_document(inst, request, solve_offline(inst, request))
    assert solution["status"] == "COMPLETED"
    solution["lines"][1]["rotations"] = line_rotations(posts_of(solution, 2), [(14, 5)], TERM_WEEKS)
    kept = keep_locked(inst, solution, locked)
    assert kept["lines"][0]["rotations"] == locked[0]["rotations"]
    assert posts_of(kept, 2) == posts_of(solution, 2)
    moved = [r for r in kept["lines"][1]["rotations"] if r["kind"] == "leave"]
    assert not any(r["start_week"] <= 18 and r["end_week"] >= 14 for r in moved)
    assert kept["metrics"]["locked_lines"] == [1] and kept["metrics"]["leave_peak_weekly"] == 1
    assert check_all(pinned, kept) == []
