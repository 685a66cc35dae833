"""The Supabase project (supabase/), checked by the real Supabase CLI on a server of its own.

The CLI (npm supabase@2.117.0, installed by `make tools`) pushes the migrations
and the seed to a fresh PostgreSQL 15 that has only supabase/compat.sql (what
a Supabase database already has), lists them, lints the functions with
plpgsql_check and runs Supabase's advisors. Commands that need Docker
(`supabase start`, `test db`, `functions serve`) are not used.

The CLI works on a copy of the project in a temporary folder: it writes
supabase/.temp/ into the folder it is given.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from conftest import fresh_server

REPO = Path(__file__).resolve().parents[1]
SUPABASE_DIR = REPO / "supabase"
MIGRATIONS = SUPABASE_DIR / "migrations"
TOOLS_BIN = Path(os.environ.get("PLANNER_NPM_BIN", "/opt/receptor-planner/npm/node_modules/.bin"))
SUPABASE_CLI = TOOLS_BIN / "supabase"

sys.path.insert(0, str(SUPABASE_DIR))
import generate_migrations  # noqa: E402

ORG_A = "aaaaaaaa-0000-4000-8000-000000000000"
ORG_B = "bbbbbbbb-0000-4000-8000-000000000000"
SEED_MEMBERS = {  # (org, user) -> role, as supabase/seed.sql makes them
    (ORG_A, "aaaaaaaa-0000-4000-8000-000000000001"): "admin",
    (ORG_A, "aaaaaaaa-0000-4000-8000-000000000002"): "planner",
    (ORG_A, "aaaaaaaa-0000-4000-8000-000000000003"): "viewer",
    (ORG_B, "bbbbbbbb-0000-4000-8000-000000000002"): "planner",
}


# ---------------------------------------------------------------- the layout, without a server

def test_migrations_are_generated_from_sql_and_have_not_drifted(tmp_path):
    generate_migrations.write(REPO / "sql", tmp_path)
    fresh = {p.name: p.read_text() for p in tmp_path.glob("*.sql")}
    committed = {p.name: p.read_text() for p in MIGRATIONS.glob("*.sql")}
    assert sorted(committed) == sorted(fresh), "supabase/migrations/ is out of date: run `make migrations`"
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert not stale, f"supabase/migrations/ is out of date ({', '.join(stale)}): run `make migrations`"


def test_migration_versions_keep_the_schema_files_order():
    assert generate_migrations.migration_name("00_extensions.sql") == "20261204000000_extensions.sql"
    assert generate_migrations.migration_name("13_members.sql") == "20261204001300_members.sql"
    assert generate_migrations.migration_name("61_worker.sql") == "20261204010100_worker.sql"
    names = sorted(p.name for p in (REPO / "sql").glob("*.sql"))
    assert [generate_migrations.migration_name(n) for n in names] == sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    with pytest.raises(ValueError, match="NN_name.sql"):
        generate_migrations.migration_name("members.sql")


def test_the_generator_removes_only_generated_migrations_whose_source_is_gone(tmp_path):
    sql, out = tmp_path / "sql", tmp_path / "out"
    sql.mkdir()
    (sql / "00_a.sql").write_text("select 1;\n")
    (sql / "10_b.sql").write_text("select 2;\n")
    generate_migrations.write(sql, out)
    (out / "20990101000000_by_hand.sql").write_text("select 3;\n")
    (sql / "10_b.sql").unlink()
    changes = generate_migrations.write(sql, out)
    assert sorted(p.name for p in out.iterdir()) == ["20261204000000_a.sql", "20990101000000_by_hand.sql"]
    assert changes == [f"removed {out / '20261204001000_b.sql'} (its schema file is gone)"]
    assert (out / "20261204000000_a.sql").read_text() == (
        "-- Generated from sql/00_a.sql by `make migrations`: edit sql/00_a.sql, not this file.\nselect 1;\n")


def test_the_seed_imports_the_example_service_verbatim():
    documents = re.findall(r"\$doc\$(.*?)\$doc\$", (SUPABASE_DIR / "seed.sql").read_text(), re.S)
    demo = [json.loads(d) for d in documents if json.loads(d)["org"]["name"] == "Banksia Health"]
    assert demo == [json.loads((REPO / "examples" / "metro-pgy1.json").read_text())]


def test_the_tools_are_pinned_exactly():
    wanted = {"supabase": "2.117.0", "deno": "2.9.6"}
    package = json.loads((SUPABASE_DIR / "package.json").read_text())
    declared = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    assert declared == wanted
    lock = json.loads((SUPABASE_DIR / "package-lock.json").read_text())["packages"]
    assert {name: lock[f"node_modules/{name}"]["version"] for name in wanted} == wanted


# ---------------------------------------------------------------- the real CLI on a fresh server

def supabase(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the Supabase CLI on the project copy; the time it took goes into the test report."""
    started = time.monotonic()
    done = subprocess.run([str(SUPABASE_CLI), *args, "--workdir", str(workdir)], cwd=workdir,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    print(f"supabase {' '.join(args[:2])}: {time.monotonic() - started:.1f} s, exit {done.returncode}")
    return done


def explain(done: subprocess.CompletedProcess) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project for the CLI: supabase/ without installed or generated clutter."""
    if not SUPABASE_CLI.exists():
        pytest.fail(f"{SUPABASE_CLI} is missing: run `make tools` (npm ci of supabase/package.json)")
    workdir = tmp_path_factory.mktemp("supabase-project")
    shutil.copytree(SUPABASE_DIR, workdir / "supabase",
                    ignore=shutil.ignore_patterns("node_modules", ".temp", "__pycache__"))
    return workdir


@pytest.fixture(scope="module")
def pushed(project):
    """A fresh server with compat.sql, then `supabase db push --include-seed`; yields (db_url, push)."""
    with fresh_server() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute((SUPABASE_DIR / "compat.sql").read_text())
        db_url = f"{url}?sslmode=disable"  # the test server has no SSL
        push = supabase(project, "db", "push", "--db-url", db_url, "--include-seed", "--yes")
        yield db_url, push


def test_db_push_applies_every_migration_and_the_seed(pushed):
    db_url, push = pushed
    assert push.returncode == 0, explain(push)
    for path in sorted(MIGRATIONS.glob("*.sql")):
        assert f"Applying migration {path.name}" in push.stdout + push.stderr, path.name
    with psycopg.connect(db_url) as conn:
        applied = [r[0] for r in conn.execute(
            "select version from supabase_migrations.schema_migrations order by version")]
        members = dict(((str(org), str(user)), role) for org, user, role in conn.execute(
            "select org_id, user_id, role from public.org_members"))
        runs = dict((str(org), n) for org, n in conn.execute(
            "select org_id, count(*) from public.allocation_runs group by org_id"))
        positions = conn.execute("select count(*) from public.positions where org_id = %s", [ORG_A]).fetchone()[0]
    assert applied == [p.name.split("_", 1)[0] for p in sorted(MIGRATIONS.glob("*.sql"))]
    assert members == SEED_MEMBERS
    assert runs == {ORG_A: 1, ORG_B: 1}
    assert positions == len(json.loads((REPO / "examples" / "metro-pgy1.json").read_text())["positions"])


def test_the_seed_runs_again_without_changing_anything(pushed):
    db_url, push = pushed
    assert push.returncode == 0, explain(push)
    count = ("select (select count(*) from auth.users), (select count(*) from public.orgs), "
             "(select count(*) from public.positions), (select count(*) from public.allocation_runs), "
             "(select count(*) from public.org_members)")
    with psycopg.connect(db_url, autocommit=True) as conn:
        before = conn.execute(count).fetchone()
        conn.execute((SUPABASE_DIR / "seed.sql").read_text())
        assert conn.execute(count).fetchone() == before


def test_migration_list_shows_every_migration_applied(pushed, project):
    db_url, push = pushed
    assert push.returncode == 0, explain(push)
    listed = supabase(project, "migration", "list", "--db-url", db_url, "--output-format", "json")
    assert listed.returncode == 0, explain(listed)
    rows = json.loads(listed.stdout)["migrations"]
    local = [p.name.split("_", 1)[0] for p in sorted(MIGRATIONS.glob("*.sql"))]
    assert [(r["local"], r["remote"]) for r in rows] == [(v, v) for v in local]


# Strict on purpose: any finding of plpgsql_check at warning level fails the test, with the full report.
def test_db_lint_reports_nothing_at_warning_level(pushed, project):
    db_url, push = pushed
    assert push.returncode == 0, explain(push)
    lint = supabase(project, "db", "lint", "--db-url", db_url, "--level", "warning", "--fail-on", "warning")
    # findings are JSON on stdout; the all-clear is on stderr
    assert lint.returncode == 0 and lint.stdout.strip() == "" and "No schema errors found" in lint.stderr, \
        explain(lint)


# Strict on purpose: any advisor finding at warn level or above (security or performance) fails the test.
def test_db_advisors_report_nothing_at_warn_level(pushed, project):
    db_url, push = pushed
    assert push.returncode == 0, explain(push)
    advisors = supabase(project, "db", "advisors", "--db-url", db_url, "--type", "all", "--level", "warn",
                        "--fail-on", "warn")
    assert advisors.returncode == 0 and advisors.stdout.strip() == "" and "No issues found" in advisors.stderr, \
        explain(advisors)


def test_after_the_images_first_start_db_push_has_nothing_to_do(project):
    from builders import run_initdb  # docker/initdb.sh against a local server

    with fresh_server() as url:
        first_start = run_initdb(url)
        assert first_start.returncode == 0, first_start.stderr
        push = supabase(project, "db", "push", "--db-url", f"{url}?sslmode=disable", "--yes")
        assert push.returncode == 0 and "Remote database is up to date" in push.stdout, explain(push)
