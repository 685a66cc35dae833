"""The instance and solution documents in and out of the database.

A story in five parts: a valid document goes in and lands in the expected
rows; it comes back out as the same instance; a service's own rules (sites,
spans, groups, line rules, links, a home site, leave preferences) make the
same trip; every invalid field is refused with its path and leaves nothing
behind; the current job lines come out as a solution document.
"""
from __future__ import annotations

import copy
import dataclasses

import psycopg
import pytest

from receptor_planner.instance import parse_instance

from builders import LOCAL_RULE_TABLES, TABLES_OF_AN_IMPORT, export, import_doc, local_rules_doc, set_at, small_doc, \
    table_counts


def canonical(inst):
    """What the tables keep of an instance: positions by key, capacity 0 where a term is not
    offered (a post row exists only for offered terms), affinity version as text."""
    positions = tuple(sorted(
        (dataclasses.replace(p, capacity=tuple(c if p.offered(t + 1) else 0 for t, c in enumerate(p.capacity)))
         for p in inst.positions), key=lambda p: p.key))
    affinity = inst.affinity and {**inst.affinity, "version": str(inst.affinity["version"])}
    return dataclasses.replace(inst, positions=positions, affinity=affinity)


# ---------------------------------------------------------------- import: the rows written

def test_import_writes_the_expected_rows(conn):
    before = table_counts(conn)
    run_id = import_doc(conn, small_doc())
    after = table_counts(conn)
    assert {t: after[t] - before[t] for t in TABLES_OF_AN_IMPORT} == {
        "orgs": 1, "teams": 3, "positions": 5, "affinity_profiles": 1, "allocation_plans": 1,
        "allocation_runs": 1, "allocation_run_posts": 5 + 5 + 3 + 5 + 5, "allocation_run_pins": 1 + 5,
        **dict.fromkeys(LOCAL_RULE_TABLES, 0)}  # small_doc has no rules of its own
    run = conn.execute("""
        select r.name, r.start_date::text, r.period_weeks, p.cohort, p.term_weeks, p.leave, a.version
          from allocation_runs r join allocation_plans p on p.id = r.plan_id
          left join affinity_profiles a on a.id = r.affinity_profile_id where r.id = %s""", [run_id]).fetchone()
    assert run[:5] == ("Acacia Health PGY1 2027", "2027-01-04", 52, "PGY1", [10, 10, 10, 10, 12])
    # leave is stored with every default filled in
    assert run[5] == {"weeks": 5, "patterns": [[5], [2, 3]], "min_gap_weeks": 13, "within_term": True,
                      "max_concurrent": 2, "fixed_blocks": [], "front_load_target": None,
                      "blocked_weeks": [], "preferred_groups": []}
    assert run[6] == "2027.1"
    posts = conn.execute("""
        select pos.key, post.term, post.capacity, post.min_fill from allocation_run_posts post
          join positions pos on pos.id = post.position_id
         where post.allocation_run_id = %s and pos.key in ('ED1', 'SURG1') order by 1, 2""", [run_id]).fetchall()
    assert posts == [("ED1", 1, 2, 0), ("ED1", 2, 2, 0), ("ED1", 3, 1, 0), ("ED1", 4, 1, 0), ("ED1", 5, 2, 0),
                     ("SURG1", 1, 2, 0), ("SURG1", 3, 2, 0), ("SURG1", 5, 2, 0)]


def test_import_into_an_existing_org_reuses_its_positions_and_teams(conn):
    first = import_doc(conn, small_doc())
    org = conn.execute("select org_id from allocation_runs where id = %s", [first]).fetchone()[0]
    before = table_counts(conn)
    second = import_doc(conn, small_doc(), org)
    after = table_counts(conn)
    assert second != first
    assert {t: after[t] - before[t] for t in ("orgs", "teams", "positions", "affinity_profiles")} == \
        {"orgs": 0, "teams": 0, "positions": 0, "affinity_profiles": 0}
    assert after["allocation_runs"] - before["allocation_runs"] == 1


def test_an_existing_position_with_other_attributes_is_refused_and_nothing_is_written(conn):
    first = import_doc(conn, small_doc())
    org = conn.execute("select org_id from allocation_runs where id = %s", [first]).fetchone()[0]
    doc = small_doc()
    doc["positions"][0]["team"] = "A brand new team"  # would be inserted before the clash is seen
    doc["positions"][1]["specialty"] = "Paediatrics"
    before = table_counts(conn)
    with pytest.raises(psycopg.Error) as err:
        import_doc(conn, doc, org)
    assert err.value.diag.message_primary.startswith("positions[0].key: position 'MED1' already exists")
    assert table_counts(conn) == before


def test_an_unknown_org_is_refused(conn):
    with pytest.raises(psycopg.Error) as err:
        import_doc(conn, small_doc(), "00000000-0000-0000-0000-000000000000")
    assert err.value.diag.message_primary.startswith("org: no org with id")


# ---------------------------------------------------------------- export: the same instance comes back

def test_export_instance_round_trips(conn):
    doc = small_doc()
    exported = export(conn, import_doc(conn, doc))
    assert parse_instance(exported) == canonical(parse_instance(doc))


def test_export_instance_is_exact_for_a_canonical_document(conn):
    doc = small_doc()
    doc["positions"].sort(key=lambda p: p["key"])
    doc["positions"][-1]["capacity"] = [2, 0, 2, 0, 2]  # SURG1: 0 where not offered
    exported = export(conn, import_doc(conn, doc))
    assert parse_instance(exported) == parse_instance(doc)
    assert exported["positions"][0]["terms"] is None  # offered in every term
    assert [p["key"] for p in exported["positions"]] == ["ED1", "MED1", "PSY1", "RELIEF", "SURG1"]


def test_a_document_without_local_rules_comes_back_without_them(conn):
    exported = export(conn, import_doc(conn, small_doc()))
    assert (exported["groups"], exported["line_rules"], exported["links"], exported["home_site_min_terms"]) == \
        ({}, [], [], None)
    assert {(p["site"], p["span"]) for p in exported["positions"]} == {(None, 1)}
    assert (exported["leave"]["blocked_weeks"], exported["leave"]["preferred_groups"]) == ([], [])


def test_export_instance_of_an_unknown_run_is_an_error(conn):
    with pytest.raises(psycopg.errors.NoDataFound):
        export(conn, "00000000-0000-0000-0000-000000000000")


# ---------------------------------------------------------------- local rules: the same trip

def test_import_writes_the_local_rules(conn):
    before = table_counts(conn, LOCAL_RULE_TABLES)
    run_id = import_doc(conn, local_rules_doc())
    after = table_counts(conn, LOCAL_RULE_TABLES)
    assert {t: after[t] - before[t] for t in LOCAL_RULE_TABLES} == {
        "allocation_run_groups": 2, "allocation_run_group_members": 6, "allocation_run_line_rules": 3,
        "allocation_run_links": 2, "allocation_run_link_targets": 3}
    # a span post has a row in every term a placement covers, and says where one may start
    posts = conn.execute("""
        select pos.key, pos.span, pos.site, array_agg(array[post.term, post.may_start::int] order by post.term)
          from allocation_run_posts post join positions pos on pos.id = post.position_id
         where post.allocation_run_id = %s and pos.key in ('COMM', 'MED1') group by 1, 2, 3 order by 1""",
                         [run_id]).fetchall()
    assert posts == [("COMM", 2, "Echuca", [[1, 1], [2, 0], [3, 1], [4, 0]]),
                     ("MED1", 1, "Bendigo", [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]])]
    groups = conn.execute("""
        select g.ordinal, g.name, array_agg(pos.key order by m.ordinal)
          from allocation_run_groups g join allocation_run_group_members m
            on m.allocation_run_id = g.allocation_run_id and m.group_name = g.name
          join positions pos on pos.id = m.position_id
         where g.allocation_run_id = %s group by 1, 2 order by 1""", [run_id]).fetchall()
    # import_instance takes jsonb, which keeps an object's keys shortest first: groups are numbered in
    # that order; lists keep the document's
    assert groups == [(1, "core", ["SURG1", "MED1", "ED1"]), (2, "non-core", ["PSY1", "RELIEF", "COMM"])]
    rules = conn.execute("select ordinal, name, group_name, min_placements, max_placements "
                         "from allocation_run_line_rules where allocation_run_id = %s order by ordinal",
                         [run_id]).fetchall()
    assert rules == [(1, "core surgery", "core", 1, None), (2, "at most two non-core", "non-core", None, 2),
                     (3, "a core term", "core", 1, 3)]
    assert conn.execute("select home_site_min_terms from allocation_runs where id = %s", [run_id]).fetchone()[0] == 3
    leave = conn.execute("select p.leave from allocation_plans p join allocation_runs r on r.plan_id = p.id "
                         "where r.id = %s", [run_id]).fetchone()[0]
    assert (leave["blocked_weeks"], leave["preferred_groups"]) == ([1, 2], ["non-core"])


def test_local_rules_round_trip(conn):
    doc = local_rules_doc()
    exported = export(conn, import_doc(conn, doc))
    assert parse_instance(exported) == canonical(parse_instance(doc))


def test_local_rules_come_back_in_document_order(conn):
    doc = local_rules_doc()
    exported = export(conn, import_doc(conn, doc))
    # jsonb keeps no key order, so groups come back by name; each group's members keep theirs
    assert exported["groups"] == doc["groups"]
    assert exported["line_rules"] == [{"min": None, "max": None, **rule} for rule in doc["line_rules"]]
    assert exported["links"] == doc["links"]
    assert exported["home_site_min_terms"] == 3
    positions = {p["key"]: p for p in exported["positions"]}
    assert (positions["COMM"]["span"], positions["COMM"]["terms"], positions["COMM"]["site"]) == (2, [1, 3], "Echuca")
    assert (positions["RURAL"]["span"], positions["RURAL"]["terms"]) == (2, None)  # every start that fits
    assert positions["RURAL"]["capacity"] == [1, 2, 1, 2, 1] and positions["RURAL"]["min_fill"] == [0, 1, 0, 0, 0]
    assert positions["COMM"]["capacity"] == [1, 1, 1, 1, 0]  # term 5: no placement covers it
    assert (positions["SURG1"]["span"], positions["SURG1"]["terms"]) == (1, [1, 3, 5])


def test_an_existing_position_with_another_span_or_site_is_refused(conn):
    first = import_doc(conn, local_rules_doc())
    org = conn.execute("select org_id from allocation_runs where id = %s", [first]).fetchone()[0]
    doc = local_rules_doc()
    doc["positions"][-1]["span"] = 1
    doc["positions"][-1]["site"] = "Bendigo"
    before = table_counts(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        import_doc(conn, doc, org)
    assert err.value.diag.message_primary == ("positions[6].key: position 'RURAL' already exists in this org with a "
                                              "different site, span; use the stored attributes or another key")
    assert table_counts(conn) == before


# ---------------------------------------------------------------- invalid documents: the field path, nothing written

def _duplicate_key(doc):
    doc["positions"][1]["key"] = doc["positions"][0]["key"]


MUTATIONS = [
    ("format", set_at(["format"], "receptor-planner/instance@2"), "format:"),
    ("cohort", set_at(["cohort"], "PGY4"), "cohort:"),
    ("start_date not a Monday", set_at(["start_date"], "2027-01-05"), "start_date: must be a Monday"),
    ("term_weeks entry 0", set_at(["term_weeks", 1], 0), "term_weeks[1]:"),
    ("period_weeks mismatch", set_at(["period_weeks"], 50), "term_weeks: term lengths sum to 52"),
    ("positions empty", set_at(["positions"], []), "positions:"),
    ("duplicate key", _duplicate_key, "positions[1].key:"),
    ("capacity -1", set_at(["positions", 0, "capacity"], -1), "positions[0].capacity[0]:"),
    ("capacity list wrong length", set_at(["positions", 1, "capacity"], [2, 2]), "positions[1].capacity:"),
    ("min_fill > capacity", set_at(["positions", 0, "min_fill"], 3), "positions[0].min_fill[0]:"),
    ("category E", set_at(["positions", 0, "categories"], ["E"]), "positions[0].categories:"),
    ("three categories", set_at(["positions", 0, "categories"], ["A", "B", "C"]), "positions[0].categories:"),
    ("terms [7]", set_at(["positions", 2, "terms"], [7]), "positions[2].terms:"),
    ("pin unknown position", set_at(["pins", 0, "position"], "NOPE"), "pins[0]: unknown position"),
    ("pin term out of range", set_at(["pins", 0, "term"], 6), "pins[0].term:"),
    ("affinity asymmetric", set_at(["affinity", "weights", "Surgery", "General Medicine"], 7),
     "affinity.weights.Surgery.General Medicine:"),
    ("leave pattern not summing", set_at(["leave", "patterns"], [[5], [2, 2]]), "leave.patterns[1]:"),
    ("group of an unknown post", set_at(["groups"], {"core": ["MED1", "NOPE"]}), "groups.core[1]: unknown position"),
    ("link to an unknown post", set_at(["links"], [{"name": "l", "if": "MED1", "then": ["NOPE"]}]),
     "links[0].then[0]: unknown position"),
    ("leave preferring an unknown group", set_at(["leave", "preferred_groups"], ["core"]),
     "leave.preferred_groups[0]: unknown group"),
]


@pytest.mark.parametrize("mutate, prefix", [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_an_invalid_field_is_named_and_nothing_is_written(conn, mutate, prefix):
    doc = copy.deepcopy(small_doc())
    mutate(doc)
    before = table_counts(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        import_doc(conn, doc)
    assert err.value.diag.message_primary.startswith(prefix), err.value.diag.message_primary
    assert table_counts(conn) == before


# ---------------------------------------------------------------- export_solution

def solution(conn, run_id):
    return conn.execute("select planner.export_solution(%s)", [run_id]).fetchone()[0]


def test_export_solution_without_lines(conn):
    doc = solution(conn, import_doc(conn, small_doc()))
    assert doc["format"] == "receptor-planner/solution@1"
    assert doc["lines"] == [] and doc["status"] is None
    # the checker needs a request object even here
    assert doc["request"] == {"n_job_lines": 0, "constraints": ["UNRESTRICTED"], "allow_partial": False,
                              "max_seconds": 60.0, "seed": 0}
    assert doc["metrics"] == {} and doc["explanation"] is None


def test_export_solution_gives_the_current_lines_in_order(conn):
    run_id = import_doc(conn, small_doc())
    planner_run = conn.execute("""
        insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options)
        values (%s, 2, '{VIC_PGY1}', '{"allow_partial": true, "seed": 7}') returning id""", [run_id]).fetchone()[0]
    conn.execute("""update allocation_planner_runs set status = 'COMPLETED',
                    result_metadata = '{"metrics": {"lines_built": 2}, "explanation": "two posts are short"}'
                    where id = %s""", [planner_run])
    ids = {key: conn.execute("select p.id from positions p join allocation_runs r on r.org_id = p.org_id "
                             "where r.id = %s and p.key = %s", [run_id, key]).fetchone()[0]
           for key in ("ED1", "MED1")}
    # Written out of order on purpose: line 2 before line 1, later weeks before earlier ones; in one
    # transaction, since a line must tile the period only when it is committed.
    lines = {}
    with conn.transaction():
        for line_no in (2, 1):
            lines[line_no] = conn.execute(
                "insert into job_lines (allocation_run_id, planner_run_id, line_no, name) values (%s, %s, %s, %s) "
                "returning id", [run_id, planner_run, line_no, f"Line {line_no}"]).fetchone()[0]
        for line_no, kind, key, term, start, end in [
                (1, "clinical", "MED1", 2, 11, 20), (1, "leave", None, 1, 6, 10), (1, "clinical", "ED1", 1, 1, 5),
                (2, "clinical", "MED1", 1, 1, 10), (1, "leave", None, 3, 21, 30), (2, "leave", None, 2, 11, 20),
                *[(line_no, "leave", None, term, first, last) for line_no in (1, 2)
                  for term, first, last in ((4, 31, 40), (5, 41, 52))], (2, "leave", None, 3, 21, 30)]:
            conn.execute("insert into rotations (job_line_id, kind, position_id, term, start_week, end_week) "
                         "values (%s, %s, %s, %s, %s, %s)",
                         [lines[line_no], kind, ids.get(key), term, start, end])
    doc = solution(conn, run_id)
    assert doc["status"] == "COMPLETED"
    assert doc["request"] == {"n_job_lines": 2, "constraints": ["VIC_PGY1"], "allow_partial": True,
                              "max_seconds": 60.0, "seed": 7}
    assert doc["metrics"] == {"lines_built": 2} and doc["explanation"] == "two posts are short"
    assert [line["name"] for line in doc["lines"]] == ["Line 1", "Line 2"]
    assert doc["lines"][0]["rotations"][:3] == [
        {"kind": "clinical", "position": "ED1", "term": 1, "start_week": 1, "end_week": 5,
         "start_date": "2027-01-04", "end_date": "2027-02-07"},
        {"kind": "leave", "term": 1, "start_week": 6, "end_week": 10,
         "start_date": "2027-02-08", "end_date": "2027-03-14"},
        {"kind": "clinical", "position": "MED1", "term": 2, "start_week": 11, "end_week": 20,
         "start_date": "2027-03-15", "end_date": "2027-05-23"},
    ]
    assert doc["lines"][1]["rotations"][0]["position"] == "MED1"


def test_exported_documents_satisfy_the_checker(conn):
    """A hand-written valid line, read back through both exports, passes the independent checker."""
    from receptor_planner.checker import check

    doc = {"format": "receptor-planner/instance@1", "org": {"name": "Tiny"}, "cohort": "PGY3+",
           "start_date": "2027-01-04", "term_weeks": [26, 26],
           "positions": [{"key": "A1", "specialty": "A", "categories": ["A"], "capacity": 1},
                         {"key": "B1", "specialty": "B", "categories": ["B"], "capacity": 1}]}
    run_id = import_doc(conn, doc)
    with conn.transaction():  # the line tiles the period at commit
        line = conn.execute("insert into job_lines (allocation_run_id, line_no, name) values (%s, 1, 'Line 1') "
                            "returning id", [run_id]).fetchone()[0]
        for kind, key, term, start, end in [("clinical", "A1", 1, 1, 10), ("leave", None, 1, 11, 15),
                                            ("clinical", "A1", 1, 16, 26), ("clinical", "B1", 2, 27, 52)]:
            conn.execute("insert into rotations (job_line_id, kind, position_id, term, start_week, end_week) "
                         "select %s, %s, (select p.id from positions p join allocation_runs r on r.org_id = p.org_id "
                         "where r.id = %s and p.key = %s), %s, %s, %s", [line, kind, run_id, key, term, start, end])
    solution_doc = solution(conn, run_id)
    assert solution_doc["status"] == "COMPLETED"
    assert check(export(conn, run_id), solution_doc) == []


def test_deleting_an_org_removes_everything_it_owns(conn):
    run_id = import_doc(conn, small_doc())
    org = conn.execute("select org_id from allocation_runs where id = %s", [run_id]).fetchone()[0]
    conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines) values (%s, 1)", [run_id])
    before = table_counts(conn)
    conn.execute("delete from orgs where id = %s", [org])
    after = table_counts(conn)
    assert before["orgs"] - after["orgs"] == 1 and before["allocation_run_posts"] - after["allocation_run_posts"] == 23
