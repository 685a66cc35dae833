"""The schema itself refuses impossible data, with a message naming the field.

Sections: the server and the install; positions and posts; plans and runs
(terms tile the period); planner runs (rulesets and options); rows the
caller cannot forge (org_id, dates); who may call what.
"""
from __future__ import annotations

import psycopg
import pytest

from receptor_planner_tools import cluster

LEAVE = '{"weeks": 5}'


@pytest.fixture
def world(conn):
    """An org with one team and position, a 5-term PGY1 plan and its 52-week run."""
    ids = {}
    ids["org"] = conn.execute("insert into orgs (name) values ('Schema Health') returning id").fetchone()[0]
    ids["team"] = conn.execute("insert into teams (org_id, name) values (%s, 'Medicine') returning id",
                               [ids["org"]]).fetchone()[0]
    ids["position"] = conn.execute(
        "insert into positions (org_id, team_id, key, name, specialty, categories) "
        "values (%s, %s, 'MED1', 'Medicine 1', 'General Medicine', '{A,B}') returning id",
        [ids["org"], ids["team"]]).fetchone()[0]
    ids["plan"] = conn.execute(
        "insert into allocation_plans (org_id, name, cohort, term_weeks, leave) "
        "values (%s, 'Plan 2027', 'PGY1', '{10,10,10,10,12}', %s) returning id", [ids["org"], LEAVE]).fetchone()[0]
    ids["run"] = conn.execute(
        "insert into allocation_runs (org_id, plan_id, name, start_date) "
        "values (%s, %s, 'Run 2027', '2027-01-04') returning id", [ids["org"], ids["plan"]]).fetchone()[0]
    return ids


def count(conn, table: str) -> int:
    return conn.execute(f"select count(*) from public.{table}").fetchone()[0]


def rejects(conn, table: str, sql: str, params, *fragments: str) -> str:
    """Run ``sql``, expect an error whose message holds every fragment, and no new row in ``table``."""
    before = count(conn, table)
    with pytest.raises(psycopg.Error) as err:
        conn.execute(sql, params)
    message = err.value.diag.message_primary
    for fragment in fragments:
        assert fragment in message, message
    assert count(conn, table) == before
    return message


# ---------------------------------------------------------------- the server and the install

def test_extensions_and_server_settings(conn):
    extensions = {row[0] for row in conn.execute("select extname from pg_extension")}
    assert {"plpython3u", "pg_cron"} <= extensions
    assert "pg_cron" in conn.execute("show shared_preload_libraries").fetchone()[0]
    assert conn.execute("show wal_level").fetchone()[0] == "logical"
    assert "wal2json" in conn.execute("show output_plugin_libraries").fetchone()[0]


def test_applying_the_schema_again_is_harmless(conn, sql_dir):
    before = count(conn, "orgs")
    # compat.sql made the auth schema here, so it is applied again too; over a real Supabase it is not
    assert cluster.apply_schema(conn, sql_dir)[:2] == ["compat.sql", "00_extensions.sql"]
    assert count(conn, "orgs") == before


def test_the_install_guard_names_the_missing_setting(conn, sql_dir):
    conn.execute("set planner.python_path = ''")
    with pytest.raises(psycopg.Error) as err:
        conn.execute((sql_dir / "00_extensions.sql").read_text())
    assert "planner.python_path is not set" in err.value.diag.message_primary
    assert "planner.python_path" in err.value.diag.message_hint


def test_a_session_cannot_choose_the_code_the_server_runs(pg_url, tmp_path):
    # A folder the session controls, holding a package that would leave a mark if the server ran it.
    planted = tmp_path / "planted"
    (planted / "receptor_planner").mkdir(parents=True)
    mark = tmp_path / "ran"
    (planted / "receptor_planner" / "__init__.py").write_text(f"open({str(mark)!r}, 'w').write('x')\n")
    for folder in (tmp_path, planted, planted / "receptor_planner"):
        folder.chmod(0o755)
    with psycopg.connect(pg_url, autocommit=True) as fresh:  # a new backend: nothing imported yet
        fresh.execute("set planner.python_path = %s" % cluster._literal(str(planted)))
        with pytest.raises(psycopg.Error) as err:
            fresh.execute("select planner._constraints_error('{}', 'PGY1')")
        assert "planner.python_path: this session's value" in err.value.diag.message_primary
        assert "is refused" in err.value.diag.message_primary
    assert not mark.exists()
    with psycopg.connect(pg_url, autocommit=True) as fresh:  # the configured path still works
        assert fresh.execute("select planner._constraints_error('{FOO}', 'PGY1')").fetchone()[0]


def test_the_server_reads_the_path_from_its_configuration(conn):
    configured = conn.execute("select setting from pg_file_settings where name = 'planner.python_path'").fetchone()
    assert configured is not None and configured[0] == conn.execute("show planner.python_path").fetchone()[0]


def test_every_table_has_row_level_security(conn):
    tables = dict(conn.execute(
        "select n.nspname || '.' || c.relname, c.relrowsecurity from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname in ('public', 'planner') and c.relkind = 'r'").fetchall())
    assert len(tables) >= 14 and "planner.settings" in tables
    assert [name for name, rls in tables.items() if not rls] == []


def test_no_planner_function_is_executable_by_public(conn):
    open_to_public = conn.execute(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
        "where n.nspname = 'planner' and (p.proacl is null "  # null acl: the default grants PUBLIC
        "  or exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE'))"
    ).fetchall()
    assert open_to_public == []
    assert conn.execute("select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
                        "where n.nspname = 'planner'").fetchone()[0] >= 10


def test_every_security_definer_function_has_a_fixed_search_path(conn):
    unfixed = conn.execute(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
        "where n.nspname in ('planner', 'public', 'auth') and p.prosecdef "
        "and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%%')").fetchall()
    assert unfixed == []
    assert conn.execute("select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
                        "where n.nspname = 'planner' and p.prosecdef").fetchone()[0] >= 5


MEMBERS_CALL = {"planner._my_orgs(text)", "planner._is_trusted()", "planner.cancel_run(uuid)",
                "planner.add_member(uuid,uuid,text)", "planner.remove_member(uuid,uuid)",
                "planner.export_instance(uuid)", "planner.export_solution(uuid)",
                "planner.check_allocation_run(uuid)", "planner._check_documents(jsonb,jsonb)",
                "planner.export_xlsx(uuid)", "planner._lines_workbook(jsonb,jsonb)",
                "planner.report_html(uuid)", "planner._report_page(jsonb,jsonb,jsonb)",
                "planner.assign_post(uuid,integer,integer,text)", "planner.swap_posts(uuid,integer,integer,integer)",
                "planner.move_leave(uuid,integer,integer,integer)", "planner.lock_line(uuid,integer)",
                "planner.unlock_line(uuid,integer)"}


@pytest.mark.parametrize("role, expected", [
    ("anon", set()),
    ("authenticated", MEMBERS_CALL),
    ("service_role", MEMBERS_CALL | {"planner.import_instance(jsonb,uuid)", "planner.restore_job_lines(uuid)",
                                     "planner.import_xlsx(bytea,uuid)"}),
])
def test_who_may_call_which_planner_function(conn, role, expected):
    callable_by = {row[0].replace(" ", "") for row in conn.execute(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
        "where n.nspname = 'planner' and has_function_privilege(%s, p.oid, 'EXECUTE')", [role])}
    assert callable_by == {name.replace(" ", "") for name in expected}


def test_every_planner_function_and_public_table_has_a_comment(conn):
    missing = conn.execute(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
        "where n.nspname = 'planner' and obj_description(p.oid, 'pg_proc') is null "
        "union all select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'public' and c.relkind = 'r' and obj_description(c.oid, 'pg_class') is null").fetchall()
    assert missing == []


# ---------------------------------------------------------------- positions and posts

POSITION = ("insert into positions (org_id, key, name, specialty, categories, non_clinical) "
            "values (%s, %s, 'X', 'General Medicine', %s, %s)")


@pytest.mark.parametrize("categories, non_clinical, constraint", [
    (["A", "B", "C"], False, "categories_are_at_most_two_of_a_b_c_d"),
    (["E"], False, "categories_are_at_most_two_of_a_b_c_d"),
    (["A", "A"], False, "categories_are_distinct"),
    (["A"], True, "non_clinical_has_no_categories"),
    ([], False, "clinical_position_has_a_category"),
], ids=["three categories", "unknown category", "twice", "non-clinical with categories", "clinical without"])
def test_position_categories(conn, world, categories, non_clinical, constraint):
    rejects(conn, "positions", POSITION, [world["org"], "NEW", categories, non_clinical], constraint)


def test_a_non_clinical_position_without_categories_is_fine(conn, world):
    conn.execute(POSITION, [world["org"], "ADMIN", [], True])


def test_a_team_of_another_org_is_refused(conn, world):
    other = conn.execute("insert into orgs (name) values ('Other') returning id").fetchone()[0]
    rejects(conn, "positions", "insert into positions (org_id, team_id, key, name, specialty, categories) "
            "values (%s, %s, 'X', 'X', 'X', '{A}')", [other, world["team"]], "team_is_of_the_same_org")


POST = ("insert into allocation_run_posts (allocation_run_id, position_id, term, capacity, min_fill) "
        "values (%s, %s, %s, %s, %s)")


def test_negative_capacity(conn, world):
    rejects(conn, "allocation_run_posts", POST, [world["run"], world["position"], 1, -1, 0],
            "capacity_is_not_negative")


def test_min_fill_above_capacity(conn, world):
    rejects(conn, "allocation_run_posts", POST, [world["run"], world["position"], 1, 2, 3],
            "min_fill_at_most_capacity")


@pytest.mark.parametrize("term", [0, 6])
def test_a_post_in_a_term_the_plan_does_not_have(conn, world, term):
    rejects(conn, "allocation_run_posts", POST, [world["run"], world["position"], term, 2, 0],
            f"allocation_run_posts.term: term {term} does not exist; the plan has 5 terms")


def test_a_post_of_another_orgs_position(conn, world):
    other = conn.execute("insert into orgs (name) values ('Other') returning id").fetchone()[0]
    foreign = conn.execute(POSITION + " returning id", [other, "ED1", ["A"], False]).fetchone()[0]
    other_org = rejects(conn, "allocation_run_posts", POST, [world["run"], foreign, 1, 2, 0],
                        f"allocation_run_posts.position_id: no position {foreign} in the org of this allocation run")
    assert "ED1" not in other_org  # never the other org's key
    made_up = "00000000-0000-4000-8000-000000000000"
    rejects(conn, "allocation_run_posts", POST, [world["run"], made_up, 1, 2, 0],
            f"allocation_run_posts.position_id: no position {made_up} in the org of this allocation run")


def test_a_pin_needs_a_post_offered_in_its_term(conn, world):
    conn.execute(POST, [world["run"], world["position"], 1, 2, 0])
    pin = "insert into allocation_run_pins (allocation_run_id, line_no, term, position_id) values (%s, %s, %s, %s)"
    rejects(conn, "allocation_run_pins", pin, [world["run"], 1, 2, world["position"]],
            "pinned_position_is_offered_in_the_term")
    rejects(conn, "allocation_run_pins", pin, [world["run"], 0, 1, world["position"]], "line_no_between_1_and_2000")
    conn.execute(pin, [world["run"], 1, 1, world["position"]])


def test_an_asymmetric_affinity_profile(conn, world):
    rejects(conn, "affinity_profiles",
            "insert into affinity_profiles (org_id, name, version, source, weights) values (%s, 'p', '1', 's', %s)",
            [world["org"], '{"A": {"B": 5}, "B": {"A": 4}}'], "affinity_profiles.weights.A.B: is 5 but")


# ---------------------------------------------------------------- plans and runs: terms tile the period

RUN = ("insert into allocation_runs (org_id, plan_id, name, start_date, period_weeks) "
       "values (%s, %s, 'Run', %s, %s)")


def test_a_run_whose_period_is_not_the_sum_of_the_terms(conn, world):
    rejects(conn, "allocation_runs", RUN, [world["org"], world["plan"], "2027-01-04", 50],
            'allocation_runs.period_weeks: term lengths of plan "Plan 2027" sum to 52 weeks, not the period of 50')


def test_a_plan_change_that_breaks_a_run_period(conn, world):
    message = rejects(conn, "allocation_plans", "update allocation_plans set term_weeks = '{10,10,10,10,10}' "
                      "where id = %s", [world["plan"]],
                      "allocation_plans.term_weeks: term lengths sum to 50 weeks, not the period of 52")
    assert 'Run 2027' in message
    assert conn.execute("select term_weeks from allocation_plans where id = %s",
                        [world["plan"]]).fetchone()[0] == [10, 10, 10, 10, 12]


def test_a_plan_change_that_drops_an_offered_term(conn, world):
    conn.execute(POST, [world["run"], world["position"], 5, 2, 0])
    rejects(conn, "allocation_plans", "update allocation_plans set term_weeks = '{13,13,13,13}' where id = %s",
            [world["plan"]], 'allocation_plans.term_weeks: allocation run "Run 2027" offers posts after term 4')


def test_start_date_not_a_monday(conn, world):
    rejects(conn, "allocation_runs", RUN, [world["org"], world["plan"], "2027-01-05", 52], "start_date_is_a_monday")


@pytest.mark.parametrize("term_weeks, constraint", [
    ("{10,0,42}", "term_weeks_are_positive"), ("{}", "term_weeks_has_1_to_13_terms")])
def test_plan_term_weeks(conn, world, term_weeks, constraint):
    rejects(conn, "allocation_plans", "insert into allocation_plans (org_id, name, cohort, term_weeks, leave) "
            "values (%s, 'P', 'PGY1', %s, %s)", [world["org"], term_weeks, LEAVE], constraint)


def test_plan_leave_is_validated_and_normalised(conn, world):
    rejects(conn, "allocation_plans", "insert into allocation_plans (org_id, name, cohort, term_weeks, leave) "
            "values (%s, 'P', 'PGY1', '{52}', %s)", [world["org"], '{"weeks": 5, "patterns": [[2, 2]]}'],
            "allocation_plans.leave.patterns[0]: blocks sum to 4 weeks")
    leave = conn.execute("select leave from allocation_plans where id = %s", [world["plan"]]).fetchone()[0]
    assert leave == {"weeks": 5, "patterns": [[5]], "min_gap_weeks": 0, "within_term": True,
                     "max_concurrent": None, "fixed_blocks": [], "front_load_target": None,
                     "blocked_weeks": [], "preferred_groups": []}


def test_unknown_cohort(conn, world):
    rejects(conn, "allocation_plans", "insert into allocation_plans (org_id, name, cohort, term_weeks, leave) "
            "values (%s, 'P', 'PGY4', '{52}', %s)", [world["org"], LEAVE], "cohort_is_known")


# ---------------------------------------------------------------- planner runs: rulesets and options

PLANNER_RUN = ("insert into allocation_planner_runs (allocation_run, n_job_lines, constraints, options, status) "
               "values (%s, %s, %s, %s, %s)")


def planner_run(conn, world, n=10, constraints=("UNRESTRICTED",), options="{}", status="PENDING"):
    return rejects(conn, "allocation_planner_runs", PLANNER_RUN,
                   [world["run"], n, list(constraints), options, status])


@pytest.mark.parametrize("n", [0, 2001])
def test_n_job_lines_out_of_range(conn, world, n):
    assert "n_job_lines_between_1_and_2000" in planner_run(conn, world, n=n)


@pytest.mark.parametrize("status", ["DONE", "COMPLETED", "GENERATING"])
def test_a_new_planner_run_is_pending(conn, world, status):
    assert planner_run(conn, world, status=status).startswith(
        f"allocation_planner_runs.status: a new planner run is PENDING with no outcome yet, not {status}")


def test_unknown_status(conn, world):
    run = conn.execute(PLANNER_RUN + " returning id", [world["run"], 1, ["UNRESTRICTED"], "{}", "PENDING"]).fetchone()[0]
    with pytest.raises(psycopg.errors.CheckViolation, match="status_is_known"):
        conn.execute("update allocation_planner_runs set status = 'done' where id = %s", [run])


@pytest.mark.parametrize("constraints, expected", [
    (["FOO"], "allocation_planner_runs.constraints: unknown ruleset 'FOO'"),
    (["VIC_PGY1", "AMC_PGY1"], "allocation_planner_runs.constraints: name one base ruleset, not 2"),
    (["vic_pgy1"], "allocation_planner_runs.constraints: unknown ruleset 'vic_pgy1' (names are upper case)"),
    (["AMC_PGY2"], "allocation_planner_runs.constraints: AMC_PGY2 is written for PGY2"),
], ids=["unknown", "two bases", "lower case", "other cohort"])
def test_rulesets(conn, world, constraints, expected):
    assert planner_run(conn, world, constraints=constraints).startswith(expected)


@pytest.mark.parametrize("options, expected", [
    ('{"max_seconds": -1}', "allocation_planner_runs.options.max_seconds: must be more than 0"),
    ('{"seed": "x"}', "allocation_planner_runs.options.seed: must be an integer"),
    ('{"colour": "red"}', "allocation_planner_runs.options.colour: is not a known option"),
    ('[]', "options_is_an_object"),
])
def test_options(conn, world, options, expected):
    assert expected in planner_run(conn, world, options=options)


def test_a_valid_planner_run_is_accepted(conn, world):
    conn.execute(PLANNER_RUN, [world["run"], 40, ["VIC_PGY1", "NO_NIGHTS"],
                               '{"allow_partial": true, "max_seconds": 30, "seed": 1, "num_workers": 2}', "PENDING"])


# ---------------------------------------------------------------- rows the caller cannot forge

def test_org_id_comes_from_the_allocation_run(conn, world):
    other = conn.execute("insert into orgs (name) values ('Intruder') returning id").fetchone()[0]
    run = conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines, org_id) "
                       "values (%s, 5, %s) returning org_id, id", [world["run"], other]).fetchone()
    assert run[0] == world["org"]
    conn.execute("update allocation_planner_runs set org_id = %s where id = %s", [other, run[1]])
    line = conn.execute("insert into job_lines (allocation_run_id, line_no, org_id) values (%s, 1, %s) "
                        "returning org_id", [world["run"], other]).fetchone()[0]
    assert line == world["org"]
    assert conn.execute("select org_id from allocation_planner_runs where id = %s", [run[1]]).fetchone()[0] == \
        world["org"]


def test_updated_at_follows_changes(conn, world):
    run, created = conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines) values (%s, 5) "
                                "returning id, updated_at", [world["run"]]).fetchone()
    updated = conn.execute("update allocation_planner_runs set status = 'GENERATING' where id = %s "
                           "returning updated_at", [run]).fetchone()[0]
    assert updated > created


def test_rotation_rows(conn, world):
    line = conn.execute("insert into job_lines (allocation_run_id, line_no) values (%s, 1) returning id",
                        [world["run"]]).fetchone()[0]
    rotation = "insert into rotations (job_line_id, kind, position_id, term, start_week, end_week{}) values ({})"
    plain = rotation.format("", "%s, %s, %s, %s, %s, %s")
    rejects(conn, "rotations", plain, [line, "leave", world["position"], 1, 1, 5], "position_is_null_exactly_for_leave")
    rejects(conn, "rotations", plain, [line, "clinical", None, 1, 1, 5], "position_is_null_exactly_for_leave")
    rejects(conn, "rotations", plain, [line, "clinical", world["position"], 5, 50, 53],
            "rotations.end_week: week 53 is outside the period of 52 weeks")
    rejects(conn, "rotations", rotation.format(", start_date", "%s, %s, %s, %s, %s, %s, %s"),
            [line, "leave", None, 1, 2, 3, "2027-01-04"], "rotations.start_date: week 2 starts on 2027-01-11")
    with conn.transaction():
        dates = conn.execute(plain + " returning start_date::text, end_date::text",
                             [line, "clinical", world["position"], 1, 1, 10]).fetchone()
        for term, first, last in ((2, 11, 20), (3, 21, 30), (4, 31, 40), (5, 41, 52)):
            conn.execute(plain, [line, "leave", None, term, first, last])
    assert dates == ("2027-01-04", "2027-03-14")  # domain.md's example: a Monday to a Sunday


def tiled_line(conn, world, line_no=1):
    """A job line of the world's run: MED1 in weeks 1-10 (term 1), leave in 11-52 (a rotation a term)."""
    with conn.transaction():
        line = conn.execute("insert into job_lines (allocation_run_id, line_no) values (%s, %s) returning id",
                            [world["run"], line_no]).fetchone()[0]
        conn.execute("insert into rotations (job_line_id, kind, position_id, term, start_week, end_week) "
                     "values (%s, 'clinical', %s, 1, 1, 10), (%s, 'leave', null, 2, 11, 20), "
                     "(%s, 'leave', null, 3, 21, 30), (%s, 'leave', null, 4, 31, 40), (%s, 'leave', null, 5, 41, 52)",
                     [line, world["position"], line, line, line, line])
    return line


@pytest.mark.parametrize("change, fault", [
    ("update rotations set end_week = 9 where kind = 'clinical' and job_line_id = %s", "weeks 10 to 10 are in no rotation"),
    ("insert into rotations (job_line_id, kind, term, start_week, end_week) values (%s, 'leave', 2, 15, 16)",
     "week 15 is in two rotations"),
    ("delete from rotations where kind = 'leave' and job_line_id = %s", "weeks 11 to 52 are in no rotation"),
    ("update rotations set start_week = 2 where kind = 'clinical' and job_line_id = %s", "weeks 1 to 1 are in no rotation"),
], ids=["gap", "overlap", "short", "late start"])
def test_a_line_must_tile_the_period_when_committed(conn, world, change, fault):
    line = tiled_line(conn, world)
    with pytest.raises(psycopg.errors.CheckViolation) as err:
        conn.execute(change, [line])
    assert err.value.diag.message_primary == f"rotations: job line 1 does not tile the period: {fault}"
    assert conn.execute("select array_agg(array[start_week, end_week] order by start_week) from rotations "
                        "where job_line_id = %s", [line]).fetchone()[0] == [[1, 10], [11, 20], [21, 30], [31, 40],
                                                                             [41, 52]]


def test_rows_cannot_move_to_another_org(conn, world):
    other = conn.execute("insert into orgs (name) values ('Elsewhere') returning id").fetchone()[0]
    other_plan = conn.execute("insert into allocation_plans (org_id, name, cohort, term_weeks, leave) "
                              "values (%s, 'P', 'PGY1', '{52}', %s) returning id", [other, LEAVE]).fetchone()[0]
    other_run = conn.execute("insert into allocation_runs (org_id, plan_id, start_date) values (%s, %s, '2027-01-04') "
                             "returning id", [other, other_plan]).fetchone()[0]
    line = tiled_line(conn, world)
    with pytest.raises(psycopg.errors.CheckViolation, match="job_lines.allocation_run_id: a row cannot move"):
        conn.execute("update job_lines set allocation_run_id = %s where id = %s", [other_run, line])
    for table in ("positions", "teams", "allocation_plans", "allocation_runs"):
        with pytest.raises(psycopg.errors.CheckViolation, match=f"{table}.org_id: a row cannot move to another org"):
            conn.execute(f"update {table} set org_id = %s where org_id = %s", [other, world["org"]])
    # a rotation may only hold a position of its own line's org
    foreign = conn.execute("insert into positions (org_id, key, name, specialty, categories) "
                           "values (%s, 'X1', 'X', 'Surgery', '{D}') returning id", [other]).fetchone()[0]
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="rotations.position_id: no position"):
        conn.execute("update rotations set position_id = %s where job_line_id = %s and kind = 'clinical'",
                     [foreign, line])
    assert conn.execute("select org_id from job_lines where id = %s", [line]).fetchone()[0] == world["org"]


def test_a_position_still_offered_cannot_be_deleted(conn, world):
    conn.execute(POST, [world["run"], world["position"], 1, 2, 0])
    with pytest.raises(psycopg.errors.ForeignKeyViolation):  # deferred: raised at commit
        conn.execute("delete from positions where id = %s", [world["position"]])
    assert count(conn, "allocation_run_posts") >= 1
    assert conn.execute("select count(*) from positions where id = %s", [world["position"]]).fetchone()[0] == 1
