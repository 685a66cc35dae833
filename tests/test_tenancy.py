"""Two health services in one database, and people trying to cross the line.

The story: Acacia and Banksia each import a service and solve it. Acacia's
viewer, planner and admin, Banksia's planner and a signed-in stranger then
act through the `authenticated` role with their JWT claims, as PostgREST
and the planner-orchestration function make them act. Each may do what
their role allows in their own org, and learns nothing of the other.
The pgTAP matrix (supabase/tests/database) checks every role and table;
this file tells the attacks the issue names, end to end with the solver.
"""
from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from builders import LOCAL_RULE_TABLES, acting_as, new_user
from receptor_planner.checker import check


def denied(conn, user_id, sql: str, params=()) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as err:
        with acting_as(conn, user_id):
            conn.execute(sql, params)
    return err.value


def queue(conn, allocation_run, n=4) -> str:
    return conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines, options) "
                        "values (%s, %s, '{\"max_seconds\": 20}') returning id", [allocation_run, n]).fetchone()[0]


def solved_lines(conn, allocation_run) -> dict:
    run = queue(conn, allocation_run)
    assert conn.execute("select planner.solve_run(%s) ->> 'status'", [run]).fetchone()[0] == "COMPLETED"
    inst = conn.execute("select planner.export_instance(%s)", [allocation_run]).fetchone()[0]
    solution = conn.execute("select planner.export_solution(%s)", [allocation_run]).fetchone()[0]
    assert check(inst, solution) == []
    return solution


# ---------------------------------------------------------------- the solver stays in its org

def test_a_run_of_one_org_never_writes_another_orgs_lines(conn, world):
    banksia_lines = solved_lines(conn, world["banksia_run"])
    history = conn.execute("select count(*) from job_lines_history where allocation_run_id = %s",
                           [world["banksia_run"]]).fetchone()[0]
    forged = queue(conn, world["acacia_run"])
    # A row forged past every trigger: Acacia's run pointing at Banksia's allocation run.
    with conn.transaction():
        conn.execute("set local session_replication_role = replica")
        conn.execute("update allocation_planner_runs set allocation_run = %s where id = %s",
                     [world["banksia_run"], forged])
    outcome = conn.execute("select planner.solve_run(%s)", [forged]).fetchone()[0]
    assert outcome["status"] == "FAILED" and not outcome["written"]
    assert "is not of this planner run's org; nothing written" in outcome["error"]
    assert conn.execute("select planner.export_solution(%s)", [world["banksia_run"]]).fetchone()[0] == banksia_lines
    assert conn.execute("select count(*) from job_lines_history where allocation_run_id = %s",
                        [world["banksia_run"]]).fetchone()[0] == history


def test_a_planner_runs_the_solver_for_their_own_org_only(conn, world):
    with acting_as(conn, world["planner"]):
        run, status = conn.execute("insert into allocation_planner_runs (allocation_run, n_job_lines) "
                                   "values (%s, 4) returning id, status", [world["acacia_run"]]).fetchone()
    assert status == "PENDING"
    assert conn.execute("select planner.solve_run(%s) ->> 'status'", [run]).fetchone()[0] == "COMPLETED"
    with acting_as(conn, world["viewer"]):  # the viewer reads what the planner made
        assert conn.execute("select count(*) from job_lines").fetchone()[0] == 4
    with acting_as(conn, world["rival"]):  # the rival sees none of it
        assert conn.execute("select count(*) from job_lines where allocation_run_id = %s",
                            [world["acacia_run"]]).fetchone()[0] == 0
        assert conn.execute("select count(*) from allocation_planner_runs where id = %s", [run]).fetchone()[0] == 0


# ---------------------------------------------------------------- outsiders learn nothing

def test_an_outsider_gets_the_same_answer_for_a_real_and_a_made_up_allocation_run(conn, world):
    insert = "insert into allocation_planner_runs (allocation_run, n_job_lines, constraints) values (%s, 4, '{FOO}')"
    real = denied(conn, world["rival"], insert, [world["acacia_run"]])
    made_up = denied(conn, world["rival"], insert, [uuid.uuid4()])
    assert real.sqlstate == made_up.sqlstate == "42501"
    anonymous = [re.sub(r"[0-9a-f-]{36}", "<id>", e.diag.message_primary) for e in (real, made_up)]
    assert anonymous[0] == anonymous[1] == ("allocation_planner_runs.allocation_run: permission denied: "
                                            "no allocation_runs row <id> in an org where you are a planner")
    # the same for a viewer of the org: never the ruleset check that would tell the cohort
    assert denied(conn, world["viewer"], insert, [world["acacia_run"]]).sqlstate == "42501"


def test_cancel_is_for_the_runs_own_planners(conn, world):
    run = queue(conn, world["acacia_run"])
    rival = denied(conn, world["rival"], "select planner.cancel_run(%s)", [run])
    assert rival.diag.message_primary == f"run_id: no planner run with id {run}"  # as for a made-up id
    viewer = denied(conn, world["viewer"], "select planner.cancel_run(%s)", [run])
    assert viewer.sqlstate == "42501"
    assert conn.execute("select status from allocation_planner_runs where id = %s", [run]).fetchone()[0] == "PENDING"
    with acting_as(conn, world["planner"]):
        assert conn.execute("select planner.cancel_run(%s)", [run]).fetchone()[0] == "CANCELLED"
    error = conn.execute("select error from allocation_planner_runs where id = %s", [run]).fetchone()[0]
    assert error == f"cancelled by user {world['planner']}"


def test_a_planner_cannot_write_an_outcome(conn, world):
    completed = denied(conn, world["planner"], "insert into allocation_planner_runs (allocation_run, n_job_lines, "
                       "status, result_metadata) values (%s, 4, 'COMPLETED', '{}')", [world["acacia_run"]])
    assert completed.sqlstate == "42501"  # no column grant for status on insert
    run = queue(conn, world["acacia_run"])
    with acting_as(conn, world["planner"]):  # the policy lets a planner update an active run only to cancel it
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update allocation_planner_runs set status = 'COMPLETED' where id = %s", [run])
    assert conn.execute("select status from allocation_planner_runs where id = %s", [run]).fetchone()[0] == "PENDING"


# ---------------------------------------------------------------- hand edits stay in the org

def test_a_planner_edits_lines_by_hand_inside_the_org(conn, world):
    solved_lines(conn, world["acacia_run"])
    banksia_position = conn.execute("select id from positions where org_id = %s and key = 'MED'",
                                    [world["banksia"]]).fetchone()[0]
    rotation = conn.execute("select r.id from rotations r join job_lines l on l.id = r.job_line_id "
                            "where l.allocation_run_id = %s and r.kind = 'clinical' order by l.line_no, r.start_week "
                            "limit 1", [world["acacia_run"]]).fetchone()[0]
    moved = denied(conn, world["planner"], "update rotations set position_id = %s where id = %s",
                   [banksia_position, rotation])
    assert moved.diag.message_primary.startswith("rotations.position_id: no position")
    broken = denied(conn, world["planner"], "update rotations set end_week = end_week - 1 where id = %s", [rotation])
    assert "does not tile the period" in broken.diag.message_primary
    line = conn.execute("select id from job_lines where allocation_run_id = %s and line_no = 1",
                        [world["acacia_run"]]).fetchone()[0]
    banksia_run = world["banksia_run"]
    carried = denied(conn, world["planner"], "update job_lines set allocation_run_id = %s where id = %s",
                     [banksia_run, line])
    assert carried.sqlstate == "42501"  # the gate: not a planner in Banksia
    with acting_as(conn, world["planner"]):
        assert conn.execute("update job_lines set name = 'Surgical line' where id = %s", [line]).rowcount == 1
    with acting_as(conn, world["rival"]):
        assert conn.execute("update job_lines set name = 'Mine' where id = %s", [line]).rowcount == 0
        assert conn.execute("delete from rotations where job_line_id = %s", [line]).rowcount == 0
    assert conn.execute("select name from job_lines where id = %s", [line]).fetchone()[0] == "Surgical line"


# ---------------------------------------------------------------- a service's own rules stay in its org

def position_id(conn, org, key) -> str:
    return conn.execute("select id from positions where org_id = %s and key = %s", [org, key]).fetchone()[0]


def give_local_rules(conn, allocation_run, org) -> None:
    """A group "core" (MED, SUR), a line rule over it and a link from ED to MED, as the admin would write them."""
    with conn.transaction():  # a group and a link are whole at commit
        conn.execute("insert into allocation_run_groups (allocation_run_id, name, ordinal) values (%s, 'core', 1)",
                     [allocation_run])
        for ordinal, key in enumerate(("MED", "SUR"), start=1):
            conn.execute("insert into allocation_run_group_members (allocation_run_id, group_name, position_id, "
                         "ordinal) values (%s, 'core', %s, %s)", [allocation_run, position_id(conn, org, key), ordinal])
        conn.execute("insert into allocation_run_line_rules (allocation_run_id, name, ordinal, group_name, "
                     "min_placements, max_placements) values (%s, 'core terms', 1, 'core', 1, 2)", [allocation_run])
        conn.execute("insert into allocation_run_links (allocation_run_id, name, ordinal, if_position_id) "
                     "values (%s, 'ED with medicine', 1, %s)", [allocation_run, position_id(conn, org, "ED")])
        conn.execute("insert into allocation_run_link_targets (allocation_run_id, link_name, position_id, ordinal) "
                     "values (%s, 'ED with medicine', %s, 1)", [allocation_run, position_id(conn, org, "MED")])


def local_rule_rows(conn, allocation_run) -> dict[str, int]:
    return {t: conn.execute(f"select count(*) from {t} where allocation_run_id = %s", [allocation_run]).fetchone()[0]
            for t in LOCAL_RULE_TABLES}


@pytest.fixture
def rules(conn, world) -> dict:
    """The world, each org's run with local rules of its own; their rows as the owner counts them."""
    for org in ("acacia", "banksia"):
        give_local_rules(conn, world[f"{org}_run"], world[org])
    return {org: local_rule_rows(conn, world[f"{org}_run"]) for org in ("acacia", "banksia")}


def test_local_rules_are_read_in_their_own_org_only(conn, world, rules):
    assert rules["banksia"] == dict.fromkeys(LOCAL_RULE_TABLES, 1) | {"allocation_run_group_members": 2}
    with acting_as(conn, world["rival"]):  # Banksia's planner reads Banksia's rules...
        assert local_rule_rows(conn, world["banksia_run"]) == rules["banksia"]
        assert local_rule_rows(conn, world["acacia_run"]) == dict.fromkeys(LOCAL_RULE_TABLES, 0)  # ...not Acacia's
    for member in ("viewer", "planner", "admin"):
        with acting_as(conn, world[member]):
            assert local_rule_rows(conn, world["acacia_run"]) == rules["acacia"]
            assert local_rule_rows(conn, world["banksia_run"]) == dict.fromkeys(LOCAL_RULE_TABLES, 0), member
    with acting_as(conn, world["stranger"]):
        assert local_rule_rows(conn, world["acacia_run"]) == dict.fromkeys(LOCAL_RULE_TABLES, 0)
    # nor through the export, which reads as the caller: the run is not there for them
    with pytest.raises(psycopg.errors.NoDataFound):
        with acting_as(conn, world["admin"]):
            conn.execute("select planner.export_instance(%s)", [world["banksia_run"]])


@pytest.mark.parametrize("table, columns, values", [
    ("allocation_run_groups", "allocation_run_id, name, ordinal", "%(run)s, 'mine', 2"),
    ("allocation_run_line_rules", "allocation_run_id, name, ordinal, group_name, max_placements",
     "%(run)s, 'mine', 2, 'core', 0"),
    ("allocation_run_links", "allocation_run_id, name, ordinal, if_position_id", "%(run)s, 'mine', 2, %(position)s"),
    ("allocation_run_group_members", "allocation_run_id, group_name, position_id, ordinal",
     "%(run)s, 'core', %(position)s, 3"),
    ("allocation_run_link_targets", "allocation_run_id, link_name, position_id, ordinal",
     "%(run)s, 'ED with medicine', %(position)s, 2"),
], ids=["group", "line rule", "link", "group member", "link target"])
def test_an_admin_writes_no_local_rule_into_another_orgs_run(conn, world, rules, table, columns, values):
    insert = f"insert into {table} ({columns}) values ({values})"
    theirs = {"run": world["banksia_run"], "position": position_id(conn, world["banksia"], "PSY")}
    real = denied(conn, world["admin"], insert, theirs)
    made_up = denied(conn, world["admin"], insert, {**theirs, "run": uuid.uuid4()})
    assert real.sqlstate == made_up.sqlstate == "42501"
    anonymous = [re.sub(r"[0-9a-f-]{36}", "<id>", e.diag.message_primary) for e in (real, made_up)]
    assert anonymous[0] == anonymous[1] == (f"{table}.allocation_run_id: permission denied: "
                                            "no allocation_runs row <id> in an org where you are an admin")
    assert local_rule_rows(conn, world["banksia_run"]) == rules["banksia"]


def test_an_admin_changes_and_deletes_none_of_another_orgs_local_rules(conn, world, rules):
    before = conn.execute("select name, min_placements, max_placements from allocation_run_line_rules "
                          "where allocation_run_id = %s", [world["banksia_run"]]).fetchall()
    with acting_as(conn, world["admin"]):
        run = [world["banksia_run"]]
        assert conn.execute("update allocation_run_groups set name = 'mine' where allocation_run_id = %s",
                            run).rowcount == 0
        assert conn.execute("update allocation_run_line_rules set max_placements = 0 where allocation_run_id = %s",
                            run).rowcount == 0
        assert conn.execute("update allocation_run_links set name = 'mine' where allocation_run_id = %s",
                            run).rowcount == 0
        for table in ("allocation_run_link_targets", "allocation_run_links", "allocation_run_line_rules",
                      "allocation_run_group_members", "allocation_run_groups"):
            assert conn.execute(f"delete from {table} where allocation_run_id = %s", run).rowcount == 0, table
    assert local_rule_rows(conn, world["banksia_run"]) == rules["banksia"]
    assert conn.execute("select name, min_placements, max_placements from allocation_run_line_rules "
                        "where allocation_run_id = %s", [world["banksia_run"]]).fetchall() == before


def test_an_admins_rules_name_only_their_own_runs_posts(conn, world, rules):
    insert = ("insert into allocation_run_group_members (allocation_run_id, group_name, position_id, ordinal) "
              "values (%s, 'core', %s, 3)")
    theirs = denied(conn, world["admin"], insert, [world["acacia_run"], position_id(conn, world["banksia"], "PSY")])
    made_up = denied(conn, world["admin"], insert, [world["acacia_run"], uuid.uuid4()])
    anonymous = [re.sub(r"[0-9a-f-]{36}", "<id>", e.diag.message_primary) for e in (theirs, made_up)]
    assert anonymous[0] == anonymous[1] == \
        "allocation_run_group_members.position_id: no position <id> offered in this allocation run"
    link = ("insert into allocation_run_link_targets (allocation_run_id, link_name, position_id, ordinal) "
            "values (%s, 'ED with medicine', %s, 2)")
    assert denied(conn, world["admin"], link, [world["acacia_run"], position_id(conn, world["banksia"], "PSY")]) \
        .sqlstate == "23503"
    with acting_as(conn, world["admin"]):  # the same statements with Acacia's own post
        conn.execute(insert, [world["acacia_run"], position_id(conn, world["acacia"], "PSY")])
        conn.execute(link, [world["acacia_run"], position_id(conn, world["acacia"], "PSY")])
    assert local_rule_rows(conn, world["acacia_run"])["allocation_run_group_members"] == \
        rules["acacia"]["allocation_run_group_members"] + 1


def test_only_admins_define_local_rules(conn, world, rules):
    rule = ("insert into allocation_run_line_rules (allocation_run_id, name, ordinal, group_name, max_placements) "
            "values (%s, 'at most two core terms', 2, 'core', 2)")
    for member in ("viewer", "planner"):
        assert denied(conn, world[member], rule, [world["acacia_run"]]).sqlstate == "42501", member
    with acting_as(conn, world["admin"]):
        conn.execute(rule, [world["acacia_run"]])
    # the solver reads the run with its rules through the export, and the checker passes its lines
    solution = solved_lines(conn, world["acacia_run"])
    assert len(solution["lines"]) == 4


# ---------------------------------------------------------------- members

def test_admins_manage_members_of_their_own_org(conn, world):
    newcomer = new_user(conn, f"new-{uuid.uuid4().hex[:6]}@example.org")
    with acting_as(conn, world["admin"]):
        assert conn.execute("select planner.add_member(%s, %s, 'planner')", [world["acacia"], newcomer]).fetchone()[0] \
            == "planner"
    assert denied(conn, world["admin"], "select planner.add_member(%s, %s, 'admin')",
                  [world["banksia"], newcomer]).sqlstate == "42501"
    assert denied(conn, world["planner"], "select planner.add_member(%s, %s, 'admin')",
                  [world["acacia"], newcomer]).sqlstate == "42501"
    last = denied(conn, world["admin"], "select planner.remove_member(%s, %s)", [world["acacia"], world["admin"]])
    assert last.diag.message_primary == (f"org_members.role: the last admin of org {world['acacia']} "
                                         "cannot be removed or demoted")
    missing = denied(conn, world["admin"], "select planner.add_member(%s, %s, 'viewer')",
                     [world["acacia"], uuid.uuid4()])
    assert missing.diag.message_primary.startswith("user_id: no user with id")
    with acting_as(conn, world["admin"]):
        assert conn.execute("select planner.remove_member(%s, %s)", [world["acacia"], newcomer]).fetchone()[0]


def test_anon_sees_nothing(conn, world):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with acting_as(conn, None, role="anon"):
            conn.execute("select count(*) from job_lines")
    with acting_as(conn, world["stranger"]):  # signed in, but in no org
        assert conn.execute("select count(*) from orgs").fetchone()[0] == 0
        assert conn.execute("select count(*) from affinity_profiles where org_id is null").fetchone()[0] >= 1


def test_a_session_cannot_point_the_server_at_its_own_code(pg_url, world, tmp_path):
    planted = tmp_path / "planted" / "receptor_planner"
    planted.mkdir(parents=True)
    (planted / "__init__.py").write_text("raise SystemExit('planted code ran')\n")
    for folder in (tmp_path, planted.parent, planted):
        folder.chmod(0o755)
    with psycopg.connect(pg_url, autocommit=True) as fresh:  # a new backend: the solver is not loaded yet
        with pytest.raises(psycopg.Error) as err:
            with acting_as(fresh, world["planner"]):
                fresh.execute("select set_config('planner.python_path', %s, true)", [str(planted.parent)])
                fresh.execute("insert into allocation_planner_runs (allocation_run, n_job_lines) values (%s, 4)",
                              [world["acacia_run"]])
        assert "planner.python_path: this session's value" in err.value.diag.message_primary
