"""The local rules in the tables: what the schema refuses, so the export always parses.

The story: a service with every local rule is imported (test_documents.local_rules_doc). Then a
DBA edits its rows by hand: limits the parser has (checks), rules that name posts the run does
not offer, groups and links left empty, placements of a span post cut in pieces, a home site
without sites, leave preferring a group the run lacks. Each is refused with the table, the column
and the reason; what is allowed goes through and exports to a document the parser accepts.
"""
from __future__ import annotations

import re

import psycopg
import pytest

from receptor_planner import instance as limits
from receptor_planner.instance import parse_instance

from builders import export, import_doc, local_rules_doc


@pytest.fixture
def service(conn) -> dict:
    """The imported service: its run, org, plan and position ids by key."""
    run = import_doc(conn, local_rules_doc())
    org, plan = conn.execute("select org_id, plan_id from allocation_runs where id = %s", [run]).fetchone()
    ids = dict(conn.execute("select key, id from positions where org_id = %s", [org]).fetchall())
    return {"run": run, "org": org, "plan": plan, **ids}


def refused(conn, sql: str, params, error=psycopg.errors.CheckViolation) -> str:
    """Run ``sql`` in a transaction of its own (so deferred checks run at its commit); expect ``error``
    and return its message."""
    with pytest.raises(error) as err:
        with conn.transaction():
            conn.execute(sql, params)
    return err.value.diag.message_primary


def committed(conn, *statements) -> None:
    """Several statements in one transaction: the deferred checks judge them together."""
    with conn.transaction():
        for sql, params in statements:
            conn.execute(sql, params)


def exported_instance(conn, service):
    return parse_instance(export(conn, service["run"]))


MEMBER = ("insert into allocation_run_group_members (allocation_run_id, group_name, position_id, ordinal) "
          "values (%s, %s, %s, %s)")
GROUP = "insert into allocation_run_groups (allocation_run_id, name, ordinal) values (%s, %s, %s)"
RULE = ("insert into allocation_run_line_rules (allocation_run_id, name, ordinal, group_name, min_placements, "
        "max_placements) values (%s, %s, %s, %s, %s, %s)")
LINK = "insert into allocation_run_links (allocation_run_id, name, ordinal, if_position_id) values (%s, %s, %s, %s)"
TARGET = ("insert into allocation_run_link_targets (allocation_run_id, link_name, position_id, ordinal) "
          "values (%s, %s, %s, %s)")
POST = ("insert into allocation_run_posts (allocation_run_id, position_id, term, capacity, may_start) "
        "values (%s, %s, %s, 1, %s)")


# ---------------------------------------------------------------- the parser's limits, as checks

@pytest.mark.parametrize("sql, params, constraint", [
    ("update positions set site = ' ' where id = %(MED1)s", {}, "site_is_null_or_not_blank"),
    ("update positions set site = repeat('s', 201) where id = %(MED1)s", {}, "site_is_at_most_200_characters"),
    ("update positions set site = E'Ward\\t7' where id = %(MED1)s", {}, "site_has_no_control_characters"),
    ("insert into positions (org_id, key, name, specialty, categories, span) "
     "values (%(org)s, 'LONG', 'Long', 'Long', '{A}', 14)", {}, "span_between_1_and_13"),
    ("update allocation_runs set home_site_min_terms = 0 where id = %(run)s", {},
     "home_site_min_terms_between_1_and_13"),
    ("update allocation_run_groups set name = '  ' where allocation_run_id = %(run)s and name = 'core'", {},
     "name_is_not_blank"),
    ("update allocation_run_groups set name = repeat('g', 65) where allocation_run_id = %(run)s and name = 'core'", {},
     "name_is_at_most_64_characters"),
    ("update allocation_run_groups set ordinal = 2001 where allocation_run_id = %(run)s and name = 'core'", {},
     "ordinal_between_1_and_2000"),
    ("update allocation_run_line_rules set min_placements = null, max_placements = null "
     "where allocation_run_id = %(run)s and name = 'a core term'", {}, "min_or_max_is_set"),
    ("update allocation_run_line_rules set min_placements = 3, max_placements = 2 "
     "where allocation_run_id = %(run)s and name = 'a core term'", {}, "min_at_most_max"),
    ("update allocation_run_links set name = E'rural\\nsurgery' where allocation_run_id = %(run)s "
     "and name = 'rural with surgery'", {}, "name_has_no_control_characters"),
], ids=["blank site", "long site", "tab in site", "span 14", "home site 0", "blank group", "long group",
        "ordinal 2001", "no bound", "min over max", "line break in a link name"])
def test_a_limit_of_the_parser_is_a_check(conn, service, sql, params, constraint):
    with pytest.raises(psycopg.errors.CheckViolation) as err:
        conn.execute(sql, {**service, **params})
    assert err.value.diag.constraint_name == constraint


# (table, constraint, the limit in receptor_planner.instance): limits a trigger may meet first (a run's
# plan has at most 13 terms) are still checks, for a database made by hand.
LIMITS = [
    ("positions", "site_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("positions", "span_between_1_and_13", limits.MAX_TERMS),
    ("allocation_runs", "home_site_min_terms_between_1_and_13", limits.MAX_TERMS),
    ("allocation_run_groups", "name_is_at_most_64_characters", limits.MAX_KEY_CHARS),
    ("allocation_run_groups", "ordinal_between_1_and_2000", limits.MAX_POSITIONS),
    ("allocation_run_group_members", "group_name_is_at_most_64_characters", limits.MAX_KEY_CHARS),
    ("allocation_run_group_members", "ordinal_between_1_and_2000", limits.MAX_POSITIONS),
    ("allocation_run_line_rules", "name_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("allocation_run_line_rules", "group_name_is_at_most_64_characters", limits.MAX_KEY_CHARS),
    ("allocation_run_line_rules", "ordinal_between_1_and_2000", limits.MAX_POSITIONS),
    ("allocation_run_line_rules", "min_placements_between_0_and_13", limits.MAX_TERMS),
    ("allocation_run_line_rules", "max_placements_between_0_and_13", limits.MAX_TERMS),
    ("allocation_run_links", "name_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("allocation_run_links", "ordinal_between_1_and_2000", limits.MAX_POSITIONS),
    ("allocation_run_link_targets", "link_name_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("allocation_run_link_targets", "ordinal_between_1_and_2000", limits.MAX_POSITIONS),
]


@pytest.mark.parametrize("table, constraint, limit", LIMITS, ids=[f"{t}.{c}" for t, c, _ in LIMITS])
def test_the_checks_repeat_the_parsers_limits(conn, table, constraint, limit):
    definition = conn.execute("select pg_get_constraintdef(oid) from pg_constraint "
                              "where conrelid = %s::regclass and conname = %s",
                              [f"public.{table}", constraint]).fetchone()
    assert definition is not None, f"{table} has no constraint {constraint}"
    assert max(int(n) for n in re.findall(r"\b\d+\b", definition[0])) == limit


def test_ordinals_are_unique_at_commit_so_rules_can_be_reordered(conn, service):
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("update allocation_run_line_rules set ordinal = 1 where allocation_run_id = %s "
                     "and name = 'a core term'", [service["run"]])
    # one statement that swaps two places: each row clashes on the way, none at the commit
    conn.execute("update allocation_run_line_rules set ordinal = 3 - ordinal where allocation_run_id = %s "
                 "and ordinal in (1, 2)", [service["run"]])
    assert [r.name for r in exported_instance(conn, service).line_rules] == \
        ["at most two non-core", "core surgery", "a core term"]


# ---------------------------------------------------------------- rules name posts the run offers

def test_a_rule_names_only_a_post_the_run_offers(conn, service):
    unoffered = conn.execute("insert into positions (org_id, key, name, specialty, categories, site) "
                             "values (%s, 'SPARE', 'Spare', 'Spare', '{A}', 'Bendigo') returning id",
                             [service["org"]]).fetchone()[0]
    other_org = conn.execute("insert into orgs (name) values ('Elsewhere') returning id").fetchone()[0]
    foreign = conn.execute("insert into positions (org_id, key, name, specialty, categories) "
                           "values (%s, 'THEIRS', 'Theirs', 'Theirs', '{A}') returning id", [other_org]).fetchone()[0]
    for position in (unoffered, foreign):
        message = refused(conn, MEMBER, [service["run"], "core", position, 4], psycopg.errors.ForeignKeyViolation)
        assert message == \
            f"allocation_run_group_members.position_id: no position {position} offered in this allocation run"
        message = refused(conn, LINK, [service["run"], "new link", 3, position], psycopg.errors.ForeignKeyViolation)
        assert message == f"allocation_run_links.if_position_id: no position {position} offered in this allocation run"
        message = refused(conn, TARGET, [service["run"], "rural with surgery", position, 2],
                          psycopg.errors.ForeignKeyViolation)
        assert message == \
            f"allocation_run_link_targets.position_id: no position {position} offered in this allocation run"
    assert "THEIRS" not in message  # never another org's key
    conn.execute(MEMBER, [service["run"], "core", service["PSY1"], 4])  # an offered one is fine


def test_a_link_never_asks_for_the_post_it_starts_from(conn, service):
    message = refused(conn, TARGET, [service["run"], "rural with surgery", service["RURAL"], 2])
    assert message == ("allocation_run_link_targets.position_id: link \"rural with surgery\" would start from and ask "
                       "for the same post, RURAL")
    message = refused(conn, "update allocation_run_links set if_position_id = %s where allocation_run_id = %s "
                            "and name = 'rural with surgery'", [service["SURG1"], service["run"]])
    assert message == ("allocation_run_links.if_position_id: link \"rural with surgery\" would start from and ask "
                       "for the same post, SURG1")


def test_withdrawing_a_post_a_rule_names_is_refused_at_commit(conn, service):
    message = refused(conn, "delete from allocation_run_posts where allocation_run_id = %s and position_id = %s",
                      [service["run"], service["COMM"]])
    assert message == ('allocation_run_posts: position COMM is no longer offered in this allocation run, but group '
                       '"non-core" names it')
    message = refused(conn, "delete from allocation_run_posts where allocation_run_id = %s and position_id = %s",
                      [service["run"], service["RURAL"]])
    assert message == ('allocation_run_posts: position RURAL is no longer offered in this allocation run, but link '
                       '"rural with surgery" names it')
    # withdrawn from one term only, it is still offered
    conn.execute("delete from allocation_run_posts where allocation_run_id = %s and position_id = %s and term = 3",
                 [service["run"], service["PSY1"]])
    assert exported_instance(conn, service).position("PSY1").terms == (1, 2, 4, 5)


# ---------------------------------------------------------------- groups and links are never empty

def test_a_group_or_link_left_empty_is_refused_at_commit(conn, service):
    assert refused(conn, GROUP, [service["run"], "empty", 3]) == \
        'allocation_run_groups: group "empty" lists no positions; it needs at least one'
    assert refused(conn, "delete from allocation_run_link_targets where allocation_run_id = %s "
                         "and link_name = 'rural with surgery'", [service["run"]]) == \
        'allocation_run_links: link "rural with surgery" lists no positions; it needs at least one'
    assert refused(conn, "delete from allocation_run_group_members where allocation_run_id = %s "
                         "and group_name = 'core'", [service["run"]]) == \
        'allocation_run_groups: group "core" lists no positions; it needs at least one'


def test_a_group_and_its_members_written_in_two_statements(conn, service):
    committed(conn, (GROUP, [service["run"], "emergency", 3]),
              (MEMBER, [service["run"], "emergency", service["ED1"], 1]),
              (RULE, [service["run"], "one emergency term", 4, "emergency", 1, 1]))
    inst = exported_instance(conn, service)
    assert inst.groups["emergency"] == ("ED1",)
    assert inst.line_rules[-1].name == "one emergency term"


def test_a_group_a_line_rule_counts_cannot_be_deleted_but_can_be_renamed(conn, service):
    refused(conn, "delete from allocation_run_groups where allocation_run_id = %s and name = 'core'",
            [service["run"]], psycopg.errors.ForeignKeyViolation)
    conn.execute("update allocation_run_groups set name = 'core terms' where allocation_run_id = %s "
                 "and name = 'core'", [service["run"]])
    inst = exported_instance(conn, service)
    assert inst.groups["core terms"] == ("SURG1", "MED1", "ED1") and "core" not in inst.groups
    assert {r.group for r in inst.line_rules} == {"core terms", "non-core"}


def test_deleting_a_link_takes_its_targets(conn, service):
    conn.execute("delete from allocation_run_links where allocation_run_id = %s and name = 'rural with surgery'",
                 [service["run"]])
    assert conn.execute("select count(*) from allocation_run_link_targets where allocation_run_id = %s",
                        [service["run"]]).fetchone()[0] == 2
    assert [link.name for link in exported_instance(conn, service).links] == ["Echuca with psychiatry"]


# ---------------------------------------------------------------- line rules count what a line can hold

def test_a_line_rule_bound_beyond_the_terms_is_refused(conn, service):
    assert refused(conn, RULE, [service["run"], "six", 4, "core", 6, None]) == \
        "allocation_run_line_rules.min_placements: must be at most 5, the terms of a line; got 6"
    assert refused(conn, "update allocation_run_line_rules set max_placements = 6 where allocation_run_id = %s "
                         "and name = 'a core term'", [service["run"]]) == \
        "allocation_run_line_rules.max_placements: must be at most 5, the terms of a line; got 6"


def test_a_plan_cannot_lose_the_terms_a_line_rule_counts(conn):
    org = conn.execute("insert into orgs (name) values ('Two Terms') returning id").fetchone()[0]
    position = conn.execute("insert into positions (org_id, key, name, specialty, categories) "
                            "values (%s, 'A1', 'A', 'A', '{A}') returning id", [org]).fetchone()[0]
    plan = conn.execute("insert into allocation_plans (org_id, name, cohort, term_weeks, leave) "
                        "values (%s, 'P', 'PGY3+', '{26,26}', '{\"weeks\": 0}') returning id", [org]).fetchone()[0]
    run = conn.execute("insert into allocation_runs (org_id, plan_id, name, start_date) "
                       "values (%s, %s, 'Two terms', '2027-01-04') returning id", [org, plan]).fetchone()[0]
    committed(conn, (POST, [run, position, 1, True]), (GROUP, [run, "all", 1]), (MEMBER, [run, "all", position, 1]),
              (RULE, [run, "both terms", 1, "all", 2, None]))
    assert refused(conn, "update allocation_plans set term_weeks = '{52}' where id = %s", [plan]) == \
        'allocation_plans.term_weeks: line rule "both terms" of allocation run "Two terms" counts 2 placements, ' \
        'more than 1 terms'


# ---------------------------------------------------------------- span: whole placements

def test_a_placement_must_end_inside_the_year(conn, service):
    message = refused(conn, POST, [service["run"], service["COMM"], 5, True])
    assert message == "allocation_run_posts.may_start: a placement of position COMM lasts 2 terms, so it cannot " \
                      "start in term 5 of 5"


def test_a_one_term_post_starts_wherever_it_is_offered(conn, service):
    message = refused(conn, "update allocation_run_posts set may_start = false where allocation_run_id = %s "
                            "and position_id = %s and term = 2", [service["run"], service["MED1"]])
    assert message == "allocation_run_posts.may_start: position MED1 lasts one term, so a placement starts in every " \
                      "term it is offered in"


def test_a_placement_cut_in_pieces_is_refused_at_commit(conn, service):
    run, comm = service["run"], service["COMM"]
    assert refused(conn, "delete from allocation_run_posts where allocation_run_id = %s and position_id = %s "
                         "and term = 2", [run, comm]) == \
        "allocation_run_posts: a placement of position COMM starting in term 1 covers term 2, which is not offered"
    assert refused(conn, POST, [run, comm, 5, False]) == \
        "allocation_run_posts: position COMM is offered in term 5, but no placement of its 2 terms that may start " \
        "covers it"
    assert refused(conn, "update allocation_run_posts set may_start = false where allocation_run_id = %s "
                         "and position_id = %s and term = 1", [run, comm]) == \
        "allocation_run_posts: position COMM is offered in term 1, but no placement of its 2 terms that may start " \
        "covers it"


def test_a_placement_moved_whole_is_accepted(conn, service):
    run, comm = service["run"], service["COMM"]
    # starts in 1 and 3 become 2 and 4: the rows of terms 2..5, in one transaction
    committed(conn, ("update allocation_run_posts set may_start = (term in (2, 4)) where allocation_run_id = %s "
                     "and position_id = %s", [run, comm]),
              ("delete from allocation_run_posts where allocation_run_id = %s and position_id = %s and term = 1",
               [run, comm]),
              (POST, [run, comm, 5, False]))
    post = exported_instance(conn, service).position("COMM")
    assert (post.starts, post.terms) == ((2, 4), (2, 3, 4, 5))


def test_a_posts_span_is_fixed_while_a_run_offers_it(conn, service):
    with pytest.raises(psycopg.errors.CheckViolation) as err:
        conn.execute("update positions set span = 3 where id = %s", [service["COMM"]])
    run_name = conn.execute("select name from allocation_runs where id = %s", [service["run"]]).fetchone()[0]
    assert err.value.diag.message_primary == \
        f'positions.span: position COMM is offered in allocation run "{run_name}"; its span cannot change while ' \
        'a run offers it'
    assert err.value.diag.message_hint == "Withdraw its posts first, or make a new position."


# ---------------------------------------------------------------- home site: every post has a site

def test_a_home_site_run_needs_a_site_on_every_post(conn, service):
    run_name = conn.execute("select name from allocation_runs where id = %s", [service["run"]]).fetchone()[0]
    assert refused(conn, "update positions set site = null where id = %s", [service["PSY1"]]) == \
        f'positions.site: position PSY1 is offered in allocation run "{run_name}", which keeps lines at one site; ' \
        'it needs a site'
    siteless = conn.execute("insert into positions (org_id, key, name, specialty, categories) "
                            "values (%s, 'NOSITE', 'No site', 'X', '{A}') returning id", [service["org"]]).fetchone()[0]
    assert refused(conn, POST, [service["run"], siteless, 1, True]) == \
        "allocation_run_posts.position_id: position NOSITE has no site, and this allocation run keeps lines at one " \
        "site (home_site_min_terms)"
    conn.execute("update allocation_runs set home_site_min_terms = null where id = %s", [service["run"]])
    conn.execute(POST, [service["run"], siteless, 1, True])
    assert refused(conn, "update allocation_runs set home_site_min_terms = 2 where id = %s", [service["run"]]) == \
        "allocation_runs.home_site_min_terms: position NOSITE has no site; every post of a run that keeps lines at " \
        "one site needs one"


def test_a_home_site_of_more_terms_than_the_plan_has(conn, service):
    message = refused(conn, "update allocation_runs set home_site_min_terms = 6 where id = %s", [service["run"]])
    assert message.startswith("allocation_runs.home_site_min_terms: must be at most 5, the terms of plan")


# ---------------------------------------------------------------- leave prefers groups every run of the plan has

def test_leave_prefers_only_groups_the_run_has(conn, service):
    run_name = conn.execute("select name from allocation_runs where id = %s", [service["run"]]).fetchone()[0]
    expected = f'allocation_plans.leave.preferred_groups: allocation run "{run_name}" has no group "non-core"'
    assert refused(conn, "update allocation_run_groups set name = 'elective' where allocation_run_id = %s "
                         "and name = 'non-core'", [service["run"]]) == expected
    assert refused(conn, "update allocation_plans set leave = leave || '{\"preferred_groups\": [\"core\", \"x\"]}' "
                         "where id = %s", [service["plan"]]) == \
        f'allocation_plans.leave.preferred_groups: allocation run "{run_name}" has no group "x"'
    # a second run of the plan without the group
    assert refused(conn, "insert into allocation_runs (org_id, plan_id, name, start_date) "
                         "values (%s, %s, 'Next year', '2028-01-03')", [service["org"], service["plan"]]) == \
        'allocation_plans.leave.preferred_groups: allocation run "Next year" has no group "non-core"'


def test_a_run_with_every_local_rule_can_be_deleted_whole(conn, service):
    conn.execute("delete from allocation_runs where id = %s", [service["run"]])
    counts = conn.execute("select (select count(*) from allocation_run_groups where allocation_run_id = %(r)s)"
                          " + (select count(*) from allocation_run_group_members where allocation_run_id = %(r)s)"
                          " + (select count(*) from allocation_run_line_rules where allocation_run_id = %(r)s)"
                          " + (select count(*) from allocation_run_links where allocation_run_id = %(r)s)"
                          " + (select count(*) from allocation_run_link_targets where allocation_run_id = %(r)s)",
                          {"r": service["run"]}).fetchone()[0]
    assert counts == 0
    conn.execute("delete from orgs where id = %s", [service["org"]])  # and its org, positions first
    assert conn.execute("select count(*) from positions where org_id = %s", [service["org"]]).fetchone()[0] == 0
