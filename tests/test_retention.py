"""planner.prune: what the planner keeps, and what it lets go (run daily by pg_cron as planner-prune).

The story: a service has solved for a long time. Its execution logs, the pg_cron records of the
planner's jobs, and the snapshots of replaced lines pile up. Pruning keeps the last 30 days of logs
and records and the newest 20 snapshots of each allocation run; finished runs, the current lines, and
other users' pg_cron records stay whatever their age.
"""
from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb
from receptor_planner_tools.generator import generate

from builders import default_lines, import_doc, new_run

EMPTY = {"format": "receptor-planner/solution@1", "lines": []}


@pytest.fixture
def service(conn):
    """Two allocation runs of one service, and a finished planner run of the first."""
    doc = generate("rural", seed=3)
    first = import_doc(conn, doc)
    org = conn.execute("select org_id from allocation_runs where id = %s", [first]).fetchone()[0]
    second = import_doc(conn, doc, org)
    run = new_run(conn, first, default_lines(doc))
    conn.execute("update allocation_planner_runs set status = 'CANCELLED' where id = %s", [run])
    saved = conn.execute("select log_retention_days, history_keep from planner.settings").fetchone()
    yield {"org": org, "first": first, "second": second, "run": run}
    conn.execute("update planner.settings set (log_retention_days, history_keep) = (%s, %s)", list(saved))


def add_log(conn, service, days_old: int) -> int:
    return conn.execute(
        "insert into planner_execution_logs (planner_run_id, org_id, event, message, created_at) "
        "values (%s, %s, 'test', 'a test event', now() - make_interval(days => %s)) returning id",
        [service["run"], service["org"], days_old]).fetchone()[0]


def add_snapshots(conn, service, allocation_run, count: int) -> list[str]:
    """``count`` snapshots of replaced lines, one a day, the newest first in the list."""
    return [conn.execute(
        "insert into job_lines_history (org_id, allocation_run_id, snapshot, n_lines, created_at) "
        "values (%s, %s, %s, 0, now() - make_interval(days => %s)) returning id",
        [service["org"], allocation_run, Jsonb(EMPTY), day]).fetchone()[0] for day in range(count)]


def add_cron_record(conn, job: str, days_old: int) -> int:
    jobid = conn.execute("select jobid from cron.job where jobname = %s", [job]).fetchone()[0]
    return conn.execute(
        "insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, "
        "return_message, start_time, end_time) values (%s, nextval('cron.runid_seq'), 1, current_database(), "
        "current_user, 'select 1', 'succeeded', '1 row', now() - make_interval(days => %s), "
        "now() - make_interval(days => %s)) returning runid", [jobid, days_old, days_old]).fetchone()[0]


def existing(conn, table: str, column: str, ids: list) -> list:
    return sorted(row[0] for row in conn.execute(f"select {column} from {table} where {column} = any(%s)", [ids]))


def test_prune_keeps_recent_logs_and_the_newest_snapshots_and_lets_the_rest_go(conn, service):
    old_log, new_log = add_log(conn, service, 31), add_log(conn, service, 29)
    many = add_snapshots(conn, service, service["first"], 25)
    few = add_snapshots(conn, service, service["second"], 3)
    conn.execute("select cron.schedule('planner-retention-test', '0 0 1 1 *', 'select 1')")
    conn.execute("select cron.schedule('someone-else', '0 0 1 1 *', 'select 1')")
    try:
        old_record = add_cron_record(conn, "planner-retention-test", 40)
        new_record = add_cron_record(conn, "planner-retention-test", 1)
        theirs = add_cron_record(conn, "someone-else", 40)
        pruned = conn.execute("select planner.prune()").fetchone()[0]
        assert pruned["execution_logs"] >= 1 and pruned["job_lines_history"] == 5
        assert pruned["cron_run_details"] >= 1
        assert existing(conn, "planner_execution_logs", "id", [old_log, new_log]) == [new_log]
        assert existing(conn, "job_lines_history", "id", many) == sorted(many[:20])  # the newest 20
        assert existing(conn, "job_lines_history", "id", few) == sorted(few)
        assert existing(conn, "cron.job_run_details", "runid", [old_record, new_record, theirs]) == \
            sorted([new_record, theirs])  # another user's records are theirs to keep
    finally:
        conn.execute("select cron.unschedule(jobname) from cron.job "
                     "where jobname in ('planner-retention-test', 'someone-else')")
    # the finished run and the allocation runs are kept
    assert conn.execute("select status from allocation_planner_runs where id = %s",
                        [service["run"]]).fetchone()[0] == "CANCELLED"


def test_the_settings_decide_how_much_stays(conn, service):
    snapshots = add_snapshots(conn, service, service["first"], 5)
    logs = [add_log(conn, service, days) for days in (2, 4)]
    conn.execute("update planner.settings set (log_retention_days, history_keep) = (3, 2)")
    pruned = conn.execute("select planner.prune()").fetchone()[0]
    assert pruned["job_lines_history"] >= 3  # these three, and other allocation runs' beyond their newest 2
    assert existing(conn, "job_lines_history", "id", snapshots) == sorted(snapshots[:2])
    assert existing(conn, "planner_execution_logs", "id", logs) == [logs[0]]
    assert conn.execute("select planner.prune()").fetchone()[0]["job_lines_history"] == 0  # nothing left to go
