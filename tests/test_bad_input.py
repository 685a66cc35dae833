"""Bad input is answered with ``field: reason``, never a raw error, and nothing is written.

Every case is tried twice. Through the database (planner.import_instance, or an
insert into the table that holds the JSON): SQLSTATE 22023 or 23514, a message
that starts with the field path, and the same row counts before and after. And
on the pure Python validators, without a database. Then what PostgreSQL itself
refuses before the planner sees it, and last the limits: those of
receptor_planner.instance and the tables' CHECK constraints agree.
"""
from __future__ import annotations

import copy
import json
import re
import sys

import psycopg
import pytest

from receptor_planner import instance as limits
from receptor_planner.instance import InvalidDocument, load_json, parse_affinity, parse_instance, parse_leave, \
    parse_request

from builders import set_at, small_doc, table_counts

sys.set_int_max_str_digits(0)  # the tests build numbers too long for the default; the planner never does

RAW = "@raw@"  # a value replaced by raw JSON text after json.dumps (numbers and nesting Python cannot write)
TERMS = 5  # small_doc's terms


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def digits(n: int) -> str:
    return "9" * n


def text_of(doc: dict, raw: str | None = None) -> str:
    text = json.dumps(doc)
    return text.replace(json.dumps(RAW), raw) if raw is not None else text


def many_positions(n: int):
    return set_at(["positions"], [{"key": f"P{i}", "specialty": "S", "categories": ["A"], "capacity": 1}
                                for i in range(n)])


def _weights(value):
    return set_at(["affinity", "weights"], value)


def _org(name):
    return set_at(["org"], name)


CORE = {"core": ["MED1", "ED1"]}


def _fields(**fields):
    """Set top-level fields of the document."""
    def mutate(doc):
        doc.update(fields)
    return mutate


def _pos(field, value, i=0):
    return set_at(["positions", i, field], value)


# (id, mutation of small_doc, raw JSON for RAW or None, the message starts with)
INSTANCE_CASES = [
    # integers: every one has a range, and one too long to convert names its field too
    ("capacity 2^31", _pos("capacity", 2**31), None, "positions[0].capacity[0]: must be at most 2000"),
    ("capacity 2001", _pos("capacity", [2001] * TERMS), None, "positions[0].capacity[0]: must be at most 2000"),
    ("capacity of 5000 digits", _pos("capacity", [RAW, 1, 1, 1, 1]), digits(5000),
     "positions[0].capacity[0]: must be a non-negative integer, got a number of 5000 digits"),
    ("min_fill 2^31", _pos("min_fill", 2**31), None, "positions[0].min_fill[0]: must be at most 2000"),
    ("term_weeks 2^31", set_at(["term_weeks", 0], 2**31), None, "term_weeks[0]: must be an integer in 1..104"),
    ("period_weeks 2^40", set_at(["period_weeks"], 2**40), None, "period_weeks: must be an integer in 1..104"),
    ("leave weeks 2^31", set_at(["leave", "weeks"], 2**31), None, "leave.weeks: must be between 0 and 51"),
    ("leave block 2^31", set_at(["leave", "patterns"], [[2**31]]), None, "leave.patterns[0]: must be a list of"),
    ("leave min_gap 2^63", set_at(["leave", "min_gap_weeks"], 2**63), None, "leave.min_gap_weeks: must be an integer"),
    ("leave max_concurrent 2^31", set_at(["leave", "max_concurrent"], 2**31), None,
     "leave.max_concurrent: must be null or an integer in 0..2000"),
    ("fixed block start 2^31", set_at(["leave", "fixed_blocks"], [{"start_week": 2**31, "weeks": 1}]), None,
     "leave.fixed_blocks[0]: must lie inside weeks 1..52"),
    ("pin line 2^31", set_at(["pins", 0, "line"], 2**31), None, "pins[0].line: must be a line number in 1..2000"),
    ("pin term 2^31", set_at(["pins", 0, "term"], 2**31), None, "pins[0].term: must be a term number in 1..5"),
    ("weight 2^31", set_at(["affinity", "weights"], {"A": {"B": 2**31}, "B": {"A": 2**31}}), None,
     "affinity.weights.A.B: must be an integer in -100..100"),
    ("weight of 400 digits", set_at(["affinity", "weights"], {"A": {"B": RAW}}), digits(400),
     "affinity.weights.A.B: must be an integer in -100..100, got a number of 400 digits"),
    ("version of 70 digits", set_at(["affinity", "version"], 10**70), None,
     "affinity.version: must be a non-negative integer of at most 64 digits"),
    # text: length limits, control characters
    ("org name 201", _org({"name": "O" * 201}), None, "org.name: is 201 characters long; at most 200"),
    ("org name 1 MB", _org({"name": "O" * 1_000_000}), None, "org.name: is 1000000 characters long; at most 200"),
    ("org with another field", _org({"name": "Acacia Health", "id": 7}), None, "org.id: is not a known field"),
    ("key 65", _pos("key", "K" * 65), None, "positions[0].key: is 65 characters long; at most 64"),
    ("key 10,000", _pos("key", "K" * 10_000), None, "positions[0].key: is 10000 characters long; at most 64"),
    ("name 201", _pos("name", "N" * 201), None, "positions[0].name: is 201 characters long; at most 200"),
    ("team 1 MB", _pos("team", "T" * 1_000_000), None, "positions[0].team: is 1000000 characters long; at most 200"),
    ("specialty 201", _pos("specialty", "S" * 201), None, "positions[0].specialty: is 201 characters long"),
    ("subspecialty 201", _pos("subspecialty", "S" * 201), None, "positions[0].subspecialty: is 201 characters long"),
    ("bell in a name", _pos("name", "Ward\u00077"), None, "positions[0].name: holds U+0007 at character 5"),
    ("newline in a key", _pos("key", "MED\n1"), None, "positions[0].key: holds U+000A at character 4"),
    ("C1 control in a team", _pos("team", "Medicine\u0085"), None, "positions[0].team: holds U+0085"),
    ("version 65", set_at(["affinity", "version"], "v" * 65), None, "affinity.version: is 65 characters long"),
    ("source 2001", set_at(["affinity", "source"], "s" * 2001), None,
     "affinity.source: is 2001 characters long; at most 2000"),
    ("weights specialty 201", _weights({"W" * 201: {}}), None, "affinity.weights.WWWWWWW"),
    ("weights inner specialty 201", _weights({"A": {"W" * 201: 1}}), None, "affinity.weights.A.WWWWW"),
    # huge arrays
    ("100,000 positions", many_positions(100_000), None, "positions: lists 100000 positions; at most 2000"),
    ("2001 positions", many_positions(2001), None, "positions: lists 2001 positions; at most 2000"),
    ("100,000 pins", set_at(["pins"], [{"line": 1, "term": 1, "position": "MED1"}] * 100_000), None,
     "pins: lists 100000 pins; at most 26000"),
    ("65 leave patterns", set_at(["leave", "patterns"], [[5]] * 65), None,
     "leave.patterns: lists 65 patterns; at most 64"),
    ("100,000 fixed blocks", set_at(["leave", "fixed_blocks"], [{"start_week": 1, "weeks": 1}] * 100_000), None,
     "leave.fixed_blocks: lists 100000 blocks; at most 52"),
    ("2001 weighed specialties", _weights({f"S{i}": {} for i in range(2001)}), None,
     "affinity.weights: lists 2001 specialties; at most 2000"),
    ("a whole line pinned to lists", set_at(["pins", 1, "positions"], [["MED1"]] * TERMS), None,
     "pins[1]: unknown position ['MED1']"),
    # leave that would take the solver hours: a pattern of five single weeks
    ("leave in single weeks", set_at(["leave"], {"weeks": 5, "patterns": [[1, 1, 1, 1, 1]]}), None,
     "leave.patterns: allow 1712304 placements of leave in the period; at most 20000"),
    # depth and size of the JSON itself
    ("pins nested 5000 deep", set_at(["pins"], RAW), deep(5000), "pins[0][0][0]: nests deeper than 32 levels"),
    ("capacity nested 33 deep", _pos("capacity", RAW), deep(31), "positions[0].capacity[0]: nests deeper than 32"),
    ("weights nested 40 deep", _weights({"A": {"B": RAW}}), deep(40), "affinity.weights.A.B: nests deeper than 32"),
    ("a document over 16 MB", set_at(["pins"], "x" * 16_100_000), None, "(document): is 161"),
    # the service's own rules: names that must exist, bounds that must make sense
    ("span 0", _pos("span", 0), None, "positions[0].span: must be an integer in 1..5, got 0"),
    ("a span that cannot fit", _pos("span", 2, 2), None,
     "positions[2].terms: a placement of 2 terms cannot start in term 5 of 5"),
    ("site 201", _pos("site", "S" * 201), None, "positions[0].site: is 201 characters long; at most 200"),
    ("a group of an unknown post", _fields(groups={"core": ["MED1", "NOPE"]}), None,
     "groups.core[1]: unknown position 'NOPE'"),
    ("an empty group", _fields(groups={"core": []}), None, "groups.core: must be a non-empty list of position keys"),
    ("a line rule of an unknown group", _fields(line_rules=[{"name": "core", "group": "nope", "min": 1}]), None,
     "line_rules[0].group: unknown group 'nope'"),
    ("a line rule without bounds", _fields(groups=CORE, line_rules=[{"name": "core", "group": "core"}]), None,
     "line_rules[0]: needs min, max or both"),
    ("a line rule with min over max", _fields(groups=CORE, line_rules=[
        {"name": "core", "group": "core", "min": 2, "max": 1}]), None, "line_rules[0].min: 2 exceeds max 1"),
    ("a line rule of more placements than terms", _fields(groups=CORE, line_rules=[
        {"name": "core", "group": "core", "min": 6}]), None, "line_rules[0].min: must be an integer in 0..5"),
    ("two rules of one name", _fields(groups=CORE, line_rules=[{"name": "core", "group": "core", "min": 1}] * 2),
     None, "line_rules[1].name: 'core' names another rule"),
    ("a link from an unknown post", _fields(links=[{"name": "l", "if": "NOPE", "then": ["MED1"]}]), None,
     "links[0].if: unknown position 'NOPE'"),
    ("a link to itself", _fields(links=[{"name": "l", "if": "MED1", "then": ["ED1", "MED1"]}]), None,
     "links[0].then: lists MED1, the post the link starts from"),
    ("a home site without sites", _fields(home_site_min_terms=4), None,
     "positions[0].site: is required when home_site_min_terms is set"),
    ("a home site of 6 terms in 5", _fields(home_site_min_terms=6), None,
     "home_site_min_terms: must be null or an integer in 1..5, got 6"),
    ("blocked week 0", set_at(["leave", "blocked_weeks"], [0]), None,
     "leave.blocked_weeks[0]: must be a week in 1..52, got 0"),
    ("leave preferred in an unknown group", set_at(["leave", "preferred_groups"], ["non-core"]), None,
     "leave.preferred_groups[0]: unknown group 'non-core'"),
]

# 32 levels, the most: the document is read and its field refused for what it is, not for its depth.
AT_THE_DEPTH_LIMIT = (_pos("capacity", RAW), deep(29),
                      "positions[0].capacity: must be an integer or a list of 5 integers")


def _case_text(mutate, raw) -> str:
    doc = copy.deepcopy(small_doc())
    mutate(doc)
    return text_of(doc, raw)


def _ids(cases):
    return [c[0] for c in cases]


# ---------------------------------------------------------------- the instance document

@pytest.mark.parametrize("mutate, raw, prefix", [c[1:] for c in INSTANCE_CASES], ids=_ids(INSTANCE_CASES))
def test_import_refuses_with_the_field_and_writes_nothing(conn, mutate, raw, prefix):
    text = _case_text(mutate, raw)
    before = table_counts(conn)
    with pytest.raises(psycopg.Error) as err:
        conn.execute("select planner.import_instance(%s)", [text])
    assert err.value.sqlstate == "22023", (err.value.sqlstate, str(err.value)[:300])
    assert err.value.diag.message_primary.startswith(prefix), err.value.diag.message_primary[:300]
    assert len(err.value.diag.message_primary) < 400  # never the offending value whole
    assert table_counts(conn) == before


@pytest.mark.parametrize("mutate, raw, prefix", [c[1:] for c in INSTANCE_CASES], ids=_ids(INSTANCE_CASES))
def test_parse_instance_refuses_with_the_field(mutate, raw, prefix):
    with pytest.raises(InvalidDocument) as err:
        parse_instance(load_json(_case_text(mutate, raw)))
    assert str(err.value).startswith(prefix), str(err.value)[:300]


def test_a_document_at_the_depth_limit_is_read(conn):
    mutate, raw, prefix = AT_THE_DEPTH_LIMIT
    text = _case_text(mutate, raw)
    with pytest.raises(InvalidDocument, match=re.escape(prefix)):
        parse_instance(load_json(text))
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=re.escape(prefix)):
        conn.execute("select planner.import_instance(%s)", [text])


def test_unicode_within_the_limits_is_kept_exactly(conn):
    """Limits count characters, not bytes: 200 four-byte characters are a valid name."""
    doc = small_doc()
    doc["org"]["name"] = "Ōtautahi 基督城 Health"
    doc["positions"][0].update(key="MÉD1" + "é" * 60, name="🩺" * 200, team="Médecine interne")
    doc["pins"] = []
    doc["affinity"]["source"] = "Weights\tfrom a survey;\nsee the report. Ünïcödé ✓"
    inst = parse_instance(doc)
    run_id = conn.execute("select planner.import_instance(%s)", [json.dumps(doc)]).fetchone()[0]
    exported = conn.execute("select planner.export_instance(%s)", [run_id]).fetchone()[0]
    assert exported["org"]["name"] == inst.org_name
    (position,) = [p for p in exported["positions"] if p["key"] == "MÉD1" + "é" * 60]
    assert position["name"] == "🩺" * 200 and position["team"] == "Médecine interne"
    assert exported["affinity"]["source"] == doc["affinity"]["source"]


# ---------------------------------------------------------------- pure Python: what JSON cannot carry

def nested_list(levels: int):
    """A list nested ``levels`` deep, built without recursion."""
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


PYTHON_ONLY_CASES = [
    ("NUL in a key", _pos("key", "MED\x001"), "positions[0].key: holds U+0000 at character 4"),
    ("NUL in an org name", _org({"name": "Acacia\x00"}), "org.name: holds U+0000"),
    ("lone surrogate in a name", _pos("name", "Ward \ud800"), "positions[0].name: holds U+D800"),
    ("NaN front_load_target", set_at(["leave", "front_load_target"], float("nan")),
     "leave.front_load_target: must be a share between 0 and 1, got nan"),
    ("Infinity front_load_target", set_at(["leave", "front_load_target"], float("inf")),
     "leave.front_load_target: must be a share between 0 and 1, got inf"),
    ("NaN capacity", _pos("capacity", float("nan")), "positions[0].capacity: must be an integer or a list"),
    ("Infinity weight", _weights({"A": {"B": float("inf")}}), "affinity.weights.A.B: must be an integer"),
    ("capacity of 5000 digits", _pos("capacity", 10**5000),
     "positions[0].capacity[0]: must be at most 2000, the most lines a run has; got an integer of about 5001 digits"),
    ("pin line of 5000 digits", set_at(["pins", 0, "line"], -10**5000), "pins[0].line: must be a line number"),
    ("capacity nested 100,000 deep", _pos("capacity", nested_list(100_000)),
     "positions[0].capacity: must be an integer or a list of 5 integers"),
    ("categories nested 100,000 deep", _pos("categories", nested_list(100_000)),
     "positions[0].categories: unknown category a list of 1 item;"),
    ("pins nested 100,000 deep", set_at(["pins"], [nested_list(100_000)]), "pins[0]: must be an object"),
    ("team nested 100,000 deep", _pos("team", nested_list(100_000)), "positions[0].team: must be a non-empty string"),
    ("weights nested 100,000 deep", _weights({"A": {"B": nested_list(100_000)}}),
     "affinity.weights.A.B: must be an integer in -100..100, got a list of 1 item"),
    ("leave patterns nested 100,000 deep", set_at(["leave", "patterns"], nested_list(100_000)),
     "leave.patterns[0]: must be a list of block lengths"),
]


@pytest.mark.parametrize("mutate, prefix", [c[1:] for c in PYTHON_ONLY_CASES], ids=_ids(PYTHON_ONLY_CASES))
def test_parse_instance_refuses_what_json_cannot_carry(mutate, prefix):
    doc = small_doc()
    mutate(doc)
    with pytest.raises(InvalidDocument) as err:
        parse_instance(doc)
    assert str(err.value).startswith(prefix), str(err.value)[:300]
    assert len(str(err.value)) < 400


REQUEST_CASES = [
    ({"seed": 2**31}, "seed: must be a non-negative 32-bit integer"),
    ({"seed": 10**5000}, "seed: must be a non-negative 32-bit integer"),
    ({"num_workers": 2**64}, "num_workers: must be between 1 and 16, got 18446744073709551616"),
    ({"max_seconds": float("nan")}, "max_seconds: must be more than 0 and at most 3600, got nan"),
    ({"max_seconds": float("inf")}, "max_seconds: must be more than 0 and at most 3600, got inf"),
    ({"max_seconds": 10**5000}, "max_seconds: must be more than 0 and at most 3600, got an integer of about"),
    ({"n_job_lines": 10**5000}, "n_job_lines: must be between 1 and 2000, got an integer of about 5001 digits"),
    ({"constraints": ["X" * 10_000]}, "constraints[0]: is 10000 characters long; at most 64"),
    ({"constraints": ["NO_NIGHTS\x00"]}, "constraints[0]: holds U+0000"),
    ({"seed": nested_list(100_000)}, "seed: must be an integer, got a list of 1 item"),
]


@pytest.mark.parametrize("change, prefix", REQUEST_CASES, ids=[str(i) for i in range(len(REQUEST_CASES))])
def test_parse_request_refuses_with_the_field(change, prefix):
    with pytest.raises(InvalidDocument) as err:
        parse_request({"n_job_lines": 10, **change}, "PGY1", TERMS)
    assert str(err.value).startswith(prefix), str(err.value)[:300]


def test_parse_affinity_bounds_version_and_source_as_the_table_does():
    good = {"version": "1", "source": "s", "weights": {}}
    assert parse_affinity(good, "p") == good
    assert parse_affinity({**good, "version": "v" * 64, "source": "s" * 2000}, "p")
    for change, prefix in [({"version": "v" * 65}, "p.version: is 65 characters long"),
                           ({"version": -1}, "p.version: must be a non-negative integer"),
                           ({"source": "s" * 2001}, "p.source: is 2001 characters long"),
                           ({"source": "bell\x07"}, "p.source: holds U+0007")]:
        with pytest.raises(InvalidDocument, match="^" + re.escape(prefix)):
            parse_affinity({**good, **change}, "p")


def test_load_json_names_what_it_cannot_read():
    with pytest.raises(InvalidDocument, match=r"^\(document\)\[0\]\[0\]\[0\]\[0\]: nests deeper than 32 levels$"):
        load_json(deep(100_000))
    with pytest.raises(InvalidDocument, match=r"^leave: is 13 characters of JSON; at most 10$"):
        load_json('{"weeks": 5}' + " ", "leave", max_chars=10)
    with pytest.raises(InvalidDocument, match=r"^\(document\): is not JSON"):
        load_json('{"a": ')
    # brackets inside strings are text, not nesting
    assert load_json(json.dumps({"name": "[" * 1000 + '"{'})) == {"name": "[" * 1000 + '"{'}
    assert load_json(deep(32)) == json.loads(deep(32))


def test_the_leave_count_bounds_the_options_the_solver_lists():
    from builders import instance, post
    from receptor_planner.leave import leave_options

    for leave, term_weeks in [
            ({"weeks": 5, "patterns": [[5], [2, 3], [3, 2]], "min_gap_weeks": 13}, (13, 13, 13, 13)),
            ({"weeks": 5, "patterns": [[5], [1, 4], [4, 1]], "min_gap_weeks": 1, "within_term": False}, (13,) * 4),
            ({"weeks": 4, "patterns": [[2], [1, 1]], "fixed_blocks": [{"start_week": 22, "weeks": 2}]}, (10, 10, 20)),
            ({"weeks": 3, "patterns": [[1, 1, 1]], "min_gap_weeks": 2}, (13, 13, 13, 13))]:
        inst = parse_instance(instance([post("A", capacity=2)], term_weeks=term_weeks, leave=leave))
        listed = len(leave_options(inst))
        counted = limits._placements(list(inst.leave.patterns), inst.term_weeks, list(inst.leave.fixed_blocks),
                                     inst.leave.min_gap_weeks, inst.leave.within_term)
        # equal unless a placement would put a whole term on leave (none can in these terms)
        assert counted == listed, (leave, counted, listed)


# ---------------------------------------------------------------- JSON held by the tables

@pytest.fixture
def run_ids(conn):
    """An imported allocation run of small_doc, and its org and plan."""
    run = conn.execute("select planner.import_instance(%s)", [json.dumps(small_doc())]).fetchone()[0]
    org, plan = conn.execute("select org_id, plan_id from allocation_runs where id = %s", [run]).fetchone()
    return {"run": run, "org": org, "plan": plan}


def table_count(conn, table: str) -> int:
    return conn.execute(f"select count(*) from public.{table}").fetchone()[0]


def refused(conn, table: str, sql: str, params) -> psycopg.Error:
    """Run ``sql``; expect 22023 or 23514 and no new row in ``table``; return the error."""
    before = table_count(conn, table)
    with pytest.raises(psycopg.Error) as err:
        conn.execute(sql, params)
    assert err.value.sqlstate in ("22023", "23514"), (err.value.sqlstate, str(err.value)[:300])
    assert len(err.value.diag.message_primary) < 400
    assert table_count(conn, table) == before
    return err.value


PLANNER_RUN = "insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options) " \
              "values (%s, 10, %s, %s)"

OPTIONS_CASES = [
    ('{"seed": 2147483648}', "allocation_planner_runs.options.seed: must be a non-negative 32-bit integer"),
    ('{"seed": %s}' % digits(200), "allocation_planner_runs.options.seed: must be an integer, got a number of 200"),
    ('{"num_workers": 9223372036854775808}', "allocation_planner_runs.options.num_workers: must be between 1 and 16"),
    ('{"max_seconds": 1%s}' % ("0" * 400), "allocation_planner_runs.options.max_seconds: must be a number, "
                                          "got a number of 401 digits"),
    ('{"max_seconds": 1e-400}', "allocation_planner_runs.options.max_seconds: must be more than 0"),
    ('{"seed": %s}' % deep(40), "allocation_planner_runs.options.seed[0][0][0]: nests deeper than 32 levels"),
    ('{"%s": 1}' % ("x" * 500), "allocation_planner_runs.options." + "x" * 37 + "...: is not a known option"),
    ('{"allow_partial": "%s"}' % ("y" * 900), "allocation_planner_runs.options.allow_partial: must be true or false"),
]


@pytest.mark.parametrize("options, prefix", OPTIONS_CASES, ids=[str(i) for i in range(len(OPTIONS_CASES))])
def test_planner_run_options(conn, run_ids, options, prefix):
    error = refused(conn, "allocation_planner_runs", PLANNER_RUN, [run_ids["run"], ["UNRESTRICTED"], options])
    assert error.diag.message_primary.startswith(prefix), error.diag.message_primary


@pytest.mark.parametrize("options, prefix", OPTIONS_CASES, ids=[str(i) for i in range(len(OPTIONS_CASES))])
def test_options_error_on_the_same_input(options, prefix):
    from receptor_planner.pg import options_error

    assert ("allocation_planner_runs.options." + options_error(options)).startswith(prefix)


def test_options_with_a_huge_exponent(conn, run_ids):
    """jsonb writes 1e400 out as 401 digits, which is what the validator then reads."""
    error = refused(conn, "allocation_planner_runs", PLANNER_RUN, [run_ids["run"], ["UNRESTRICTED"],
                                                                    '{"max_seconds": 1e400}'])
    assert error.diag.message_primary.startswith(
        "allocation_planner_runs.options.max_seconds: must be a number, got a number of 401 digits")


def test_planner_run_options_over_the_limit_are_refused_by_name(conn, run_ids):
    for options in ['{"seed": "%s"}' % ("z" * 1_000_000), '{"%s": 1}' % ("k" * 2000)]:
        error = refused(conn, "allocation_planner_runs", PLANNER_RUN, [run_ids["run"], ["UNRESTRICTED"], options])
        assert error.diag.constraint_name == "options_is_at_most_1000_characters"


@pytest.mark.parametrize("constraints", [["N" * 10_000], ["NO_NIGHTS", "A" * 65], [["VIC_PGY1"], ["NO_NIGHTS"]]],
                         ids=["10,000 characters", "65 characters", "two dimensions"])
def test_planner_run_ruleset_names(conn, run_ids, constraints):
    error = refused(conn, "allocation_planner_runs", PLANNER_RUN, [run_ids["run"], constraints, "{}"])
    assert re.match(r"allocation_planner_runs\.constraints: ruleset \d is not a name of at most 64 characters$",
                    error.diag.message_primary), error.diag.message_primary


PLAN = "insert into allocation_plans (org_id, name, cohort, term_weeks, leave) values (%s, 'P', 'PGY1', '{52}', %s)"

LEAVE_CASES = [
    ('{"weeks": 2147483648}', "allocation_plans.leave.weeks: must be between 0 and 51"),
    ('{"weeks": %s}' % digits(500), "allocation_plans.leave.weeks: must be an integer, got a number of 500 digits"),
    ('{"weeks": 5, "patterns": [[1, 1, 1, 1, 1]]}', "allocation_plans.leave.patterns: allow 1712304 placements"),
    ('{"max_concurrent": 1099511627776}', "allocation_plans.leave.max_concurrent: must be null or an integer"),
    ('{"min_gap_weeks": %s}' % (10**40), "allocation_plans.leave.min_gap_weeks: must be an integer in 0..52"),
    ('{"weeks": 1, "fixed_blocks": [{"start_week": 2147483648, "weeks": 1}]}',
     "allocation_plans.leave.fixed_blocks[0]: must lie inside weeks 1..52"),
    ('{"patterns": %s}' % deep(5000), "allocation_plans.leave.patterns[0][0][0]: nests deeper than 32 levels"),
    ('{"%s": 1}' % ("k" * 100_000), "allocation_plans.leave." + "k" * 37 + "...: is not a known field"),
]


@pytest.mark.parametrize("leave, prefix", LEAVE_CASES, ids=[str(i) for i in range(len(LEAVE_CASES))])
def test_plan_leave(conn, run_ids, leave, prefix):
    error = refused(conn, "allocation_plans", PLAN, [run_ids["org"], leave])
    assert error.diag.message_primary.startswith(prefix), error.diag.message_primary


@pytest.mark.parametrize("leave, prefix", LEAVE_CASES, ids=[str(i) for i in range(len(LEAVE_CASES))])
def test_parse_leave_on_the_same_input(leave, prefix):
    with pytest.raises(InvalidDocument) as err:
        parse_leave(load_json(leave, "leave"), (52,))
    assert ("allocation_plans." + str(err.value)).startswith(prefix), str(err.value)


PROFILE = "insert into affinity_profiles (org_id, name, version, source, weights) values (%s, %s, %s, %s, %s)"

PROFILE_CASES = [
    ({"weights": '{"A": {"B": 2147483648}, "B": {"A": 2147483648}}'},
     "affinity_profiles.weights.A.B: must be an integer in -100..100"),
    ({"weights": '{"A": {"B": %s}}' % digits(400)},
     "affinity_profiles.weights.A.B: must be an integer in -100..100, got a number of 400 digits"),
    ({"weights": '{"A": {"B": %s}}' % deep(5000)}, "affinity_profiles.weights.A.B[0][0]: nests deeper than 32"),
    ({"weights": '{"%s": {}}' % ("W" * 1000)},
     "affinity_profiles.weights." + "W" * 37 + "...: is 1000 characters long; at most 200"),
    ({"weights": json.dumps({f"S{i}": {} for i in range(2001)})},
     "affinity_profiles.weights: lists 2001 specialties; at most 2000"),
    ({"version": "v" * 65}, "affinity_profiles.version: is 65 characters long; at most 64"),
    ({"source": "s" * 1_000_000}, "affinity_profiles.source: is 1000000 characters long; at most 2000"),
    ({"source": "from \x01 somewhere"}, "affinity_profiles.source: holds U+0001 at character 6"),
]


@pytest.mark.parametrize("change, prefix", PROFILE_CASES, ids=[str(i) for i in range(len(PROFILE_CASES))])
def test_affinity_profile(conn, run_ids, change, prefix):
    row = {"name": "p", "version": "1", "source": "s", "weights": "{}", **change}
    error = refused(conn, "affinity_profiles", PROFILE,
                    [run_ids["org"], row["name"], row["version"], row["source"], row["weights"]])
    assert error.diag.message_primary.startswith(prefix), error.diag.message_primary


@pytest.mark.parametrize("change, prefix", PROFILE_CASES, ids=[str(i) for i in range(len(PROFILE_CASES))])
def test_parse_affinity_on_the_same_input(change, prefix):
    row = {"version": "1", "source": "s", "weights": "{}", **change}
    with pytest.raises(InvalidDocument) as err:
        weights = load_json(row["weights"], "affinity_profiles.weights")
        parse_affinity({**row, "weights": weights}, "affinity_profiles")
    assert str(err.value).startswith(prefix), str(err.value)


# ---------------------------------------------------------------- text columns written directly

TEXT_COLUMN_CASES = [
    ("orgs", "insert into orgs (name) values (%s)", lambda ids: ["O" * 201], "name_is_at_most_200_characters"),
    ("teams", "insert into teams (org_id, name) values (%s, %s)",  # once "index row requires ... bytes"
     lambda ids: [ids["org"], "T" * 1_000_000], "name_is_at_most_200_characters"),
    ("positions", "insert into positions (org_id, key, name, specialty, categories) values (%s, %s, 'n', 's', '{A}')",
     lambda ids: [ids["org"], "K" * 10_000], "key_is_at_most_64_characters"),
    ("positions", "insert into positions (org_id, key, name, specialty, categories) values (%s, 'k', 'n', %s, '{A}')",
     lambda ids: [ids["org"], "S" * 201], "specialty_is_at_most_200_characters"),
    ("affinity_profiles", PROFILE, lambda ids: [ids["org"], "P" * 201, "1", "s", "{}"],
     "name_is_at_most_200_characters"),
    ("allocation_plans", "insert into allocation_plans (org_id, name, cohort, term_weeks, leave) "
                         "values (%s, %s, 'PGY1', '{52}', '{}')", lambda ids: [ids["org"], "P" * 257],
     "name_is_at_most_256_characters"),
    ("allocation_runs", "insert into allocation_runs (org_id, plan_id, name, start_date) values (%s, %s, %s, "
                        "'2027-01-04')", lambda ids: [ids["org"], ids["plan"], "R" * 257],
     "name_is_at_most_256_characters"),
    ("job_lines", "insert into job_lines (allocation_run_id, line_no, name) values (%s, 1, %s)",
     lambda ids: [ids["run"], "L" * 201], "name_is_at_most_200_characters"),
]


@pytest.mark.parametrize("table, sql, params, constraint", TEXT_COLUMN_CASES,
                         ids=[f"{c[0]} {c[3]}" for c in TEXT_COLUMN_CASES])
def test_text_columns_have_length_limits(conn, run_ids, table, sql, params, constraint):
    error = refused(conn, table, sql, params(run_ids))
    assert error.diag.constraint_name == constraint


def test_a_post_holds_at_most_as_many_lines_as_a_run_can_have(conn, run_ids):
    surgery = conn.execute("select id from positions where org_id = %s and key = 'SURG1'",  # not offered in term 2
                           [run_ids["org"]]).fetchone()[0]
    error = refused(conn, "allocation_run_posts", "insert into allocation_run_posts (allocation_run_id, position_id, "
                    "term, capacity) values (%s, %s, 2, 2001)", [run_ids["run"], surgery])
    assert error.diag.constraint_name == "capacity_is_at_most_2000"


# ---------------------------------------------------------------- what PostgreSQL refuses first

@pytest.mark.parametrize("raw, sqlstate", [
    ('"Ward \\u0000"', "22P05"),  # jsonb holds no NUL
    ('"Ward \\ud800"', "22P02"),  # nor a lone surrogate
    ("NaN", "22P02"),  # nor NaN or Infinity, which are not JSON
], ids=["NUL", "lone surrogate", "NaN"])
def test_json_postgres_cannot_hold_never_reaches_the_planner(conn, raw, sqlstate):
    text = _case_text(_pos("name", RAW), raw)
    before = table_counts(conn)
    with pytest.raises(psycopg.Error) as err:
        conn.execute("select planner.import_instance(%s)", [text])
    assert err.value.sqlstate == sqlstate
    assert table_counts(conn) == before


# ---------------------------------------------------------------- one limit, one place

# (table, constraint, the limit in receptor_planner.instance)
TABLE_LIMITS = [
    ("orgs", "name_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("teams", "name_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("positions", "key_is_at_most_64_characters", limits.MAX_KEY_CHARS),
    ("positions", "name_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("positions", "specialty_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("positions", "subspecialty_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("affinity_profiles", "name_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("affinity_profiles", "version_is_at_most_64_characters", limits.MAX_VERSION_CHARS),
    ("affinity_profiles", "source_is_at_most_2000_characters", limits.MAX_SOURCE_CHARS),
    ("allocation_plans", "name_is_at_most_256_characters", limits.MAX_TITLE_CHARS),
    ("allocation_runs", "name_is_at_most_256_characters", limits.MAX_TITLE_CHARS),
    ("allocation_run_posts", "capacity_is_at_most_2000", limits.MAX_CAPACITY),
    ("allocation_run_pins", "line_no_between_1_and_2000", limits.MAX_LINES),
    ("allocation_planner_runs", "n_job_lines_between_1_and_2000", limits.MAX_LINES),
    ("allocation_planner_runs", "options_is_at_most_1000_characters", limits.MAX_OPTIONS_CHARS),
    ("allocation_runs", "period_weeks_between_1_and_104", limits.MAX_PERIOD_WEEKS),
    ("allocation_plans", "term_weeks_has_1_to_13_terms", limits.MAX_TERMS),
    ("job_lines", "name_is_at_most_200_characters", limits.MAX_NAME_CHARS),
    ("job_lines", "line_no_between_1_and_2000", limits.MAX_LINES),
]


@pytest.mark.parametrize("table, constraint, limit", TABLE_LIMITS, ids=[f"{t}.{c}" for t, c, _ in TABLE_LIMITS])
def test_table_limits_agree_with_the_validators(conn, table, constraint, limit):
    definition = conn.execute("select pg_get_constraintdef(oid) from pg_constraint "
                              "where conrelid = %s::regclass and conname = %s",
                              [f"public.{table}", constraint]).fetchone()
    assert definition is not None, f"{table} has no constraint {constraint}"
    bound = max(int(n) for n in re.findall(r"\b\d+\b", definition[0]))
    assert bound == limit and str(limit) in constraint, (definition[0], limit)


# (table, column, constraint): text the instance document carries, which the solver reads back through it
CONTROL_FREE = [
    ("orgs", "name", "name_has_no_control_characters"),
    ("teams", "name", "name_has_no_control_characters"),
    ("positions", "key", "key_has_no_control_characters"),
    ("positions", "name", "name_has_no_control_characters"),
    ("positions", "specialty", "specialty_has_no_control_characters"),
    ("positions", "subspecialty", "subspecialty_has_no_control_characters"),
    ("affinity_profiles", "version", "version_has_no_control_characters"),
    ("affinity_profiles", "source", "source_has_no_control_characters"),
]


@pytest.mark.parametrize("table, column, constraint", CONTROL_FREE, ids=[f"{t}.{c}" for t, c, _ in CONTROL_FREE])
def test_control_characters_are_refused_by_table_and_validator_alike(conn, table, column, constraint):
    """Every code point up to U+02FF: the constraint's pattern refuses exactly what the validator does."""
    definition = conn.execute("select pg_get_constraintdef(oid) from pg_constraint "
                              "where conrelid = %s::regclass and conname = %s",
                              [f"public.{table}", constraint]).fetchone()[0]
    pattern = re.search(r"!~ '(.*)'::text", definition).group(1)
    refused_by_table = {row[0] for row in conn.execute(
        "select c from generate_series(1, 767) c where chr(c) ~ %s", [pattern])}
    validator = limits._NOT_TEXT_LINES if column == "source" else limits._NOT_TEXT
    assert refused_by_table == {c for c in range(1, 768) if validator.search(chr(c))}


def test_a_tab_in_a_position_name_is_refused_by_the_table(conn, run_ids):
    error = refused(conn, "positions", "insert into positions (org_id, key, name, specialty, categories) "
                    "values (%s, 'TAB1', %s, 's', '{A}')", [run_ids["org"], "Ward\t7"])
    assert error.diag.constraint_name == "name_has_no_control_characters"


# Written by the planner itself, never from a request: no limit needed.
SYSTEM_TEXT = {("allocation_planner_runs", "error"), ("planner_execution_logs", "event"),
               ("planner_execution_logs", "message")}


def test_every_text_column_a_request_can_fill_has_a_limit(conn):
    """A length limit or a fixed list of values, so no text is too long for an index or a message."""
    rows = conn.execute("""
        select c.relname, a.attname,
               exists (select 1 from pg_constraint k
                        where k.conrelid = c.oid and k.contype = 'c' and a.attnum = any (k.conkey)
                          and pg_get_constraintdef(k.oid) ~ 'char_length|= ANY \\(ARRAY') as checked
          from pg_class c
          join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
          join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
         where c.relkind = 'r' and a.atttypid = 'text'::regtype""").fetchall()
    unlimited = [(table, column) for table, column, checked in rows
                 if not checked and (table, column) not in SYSTEM_TEXT]
    assert unlimited == []


def test_a_database_made_before_the_limits_gets_them(conn, pg_url):
    from receptor_planner_tools import cluster

    conn.execute("alter table teams drop constraint name_is_at_most_200_characters")
    conn.execute("alter table allocation_planner_runs drop constraint options_is_at_most_1000_characters")
    cluster.apply_schema(pg_url)
    cluster.apply_schema(pg_url)  # and again: nothing to add, nothing fails
    names = {row[0] for row in conn.execute(
        "select conname from pg_constraint where conname in "
        "('name_is_at_most_200_characters', 'options_is_at_most_1000_characters') "
        "and conrelid in ('public.teams'::regclass, 'public.allocation_planner_runs'::regclass)")}
    assert names == {"name_is_at_most_200_characters", "options_is_at_most_1000_characters"}
