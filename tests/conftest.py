"""Test fixtures: a throwaway PostgreSQL 15 server carrying the planner schema.

Fixtures are split by concern and none is autouse, so tests that need no
database (checker, generator) run without one:

* ``pg_url`` (session): starts a server with testing.postgresql, or uses
  ``$PLANNER_TEST_DATABASE_URL`` when set; the schema is applied either way.
* ``conn`` (function): a fresh autocommit psycopg connection, closed after.
* ``sql_dir`` (session): the folder of schema files.
* ``fresh_server()``: a context manager for tests that need a server of their own.
* ``world`` (function): two orgs, each with a small service, and their people.

Markers (``-m "not database and not slow"`` is ``make test-quick``): ``database`` is set here on
every test whose fixtures include ``pg_url`` or the Supabase CLI's server; a test that starts a
server in its body says so itself. ``slow`` is set by hand on the few long tests.

As root, initdb and postgres run as the ``postgres`` user through two-line
``setpriv`` wrappers (Postgres refuses root); the base folder belongs to
``postgres``. The package is staged into the base folder, so the server never
reads the checkout, which may sit under a 0700 home.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plpython"))

from receptor_planner_tools import cluster  # noqa: E402

from builders import import_service, new_user  # noqa: E402

TEST_DATABASE = "test"  # the database testing.postgresql creates


@pytest.fixture(scope="session")
def sql_dir() -> Path:
    return REPO / "sql"


def _wrappers(bin_dir: Path) -> dict[str, str]:
    """initdb and postgres as scripts that drop to the postgres user."""
    bin_dir.mkdir()
    paths = {}
    for prog in ("initdb", "postgres"):
        script = bin_dir / prog
        script.write_text("#!/bin/sh\nexec setpriv --reuid=postgres --regid=postgres --init-groups "
                          f"{cluster.PG_BIN / prog} \"$@\"\n")
        script.chmod(0o755)
        paths[prog] = str(script)
    return paths


def _without_schedule(url: str) -> None:
    """Tests call planner.solve_run themselves; queue tests switch the pg_cron workers on (``workers``)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update planner.settings set schedule_enabled = false")
        conn.execute("select planner.schedule_workers()")


@contextlib.contextmanager
def fresh_server():
    """A new throwaway PostgreSQL 15 server with nothing applied; yields its superuser URL.

    Its database ("test") is pg_cron's, and planner.python_path (the package
    staged into the server's folder) is set in its configuration, where the
    server reads it.
    """
    import testing.postgresql

    base = Path(tempfile.mkdtemp(prefix="planner-test-"))
    try:
        programs = {}
        if os.geteuid() == 0:
            programs = _wrappers(base / "bin")
            for sub in ("data", "tmp"):  # testing.postgresql would create them 0700 for root
                (base / sub).mkdir(mode=0o700)
                shutil.chown(base / sub, "postgres", "postgres")
            shutil.chown(base, "postgres", "postgres")
        python_path = cluster.stage_python(base / "python")
        settings = cluster.server_settings(python_path, TEST_DATABASE, for_tests=True)
        del settings["planner.python_path"]  # configuration only: see configure_python_path
        # testing.postgresql splits postgres_args on whitespace: no value here contains any.
        args = " ".join(f"-c {name}={value}" for name, value in settings.items())
        server = testing.postgresql.Postgresql(
            base_dir=str(base), initdb_args="-U postgres -A trust -E UTF8 --locale=C",
            postgres_args=f"-h 127.0.0.1 -c logging_collector=off {args}", **programs)
        try:
            with psycopg.connect(server.url(), autocommit=True) as conn:
                cluster.configure_python_path(conn, python_path)
            yield server.url()
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(sql_dir) -> str:
    url = os.environ.get("PLANNER_TEST_DATABASE_URL")
    if url:  # an existing server, e.g. `planner db url`
        cluster.apply_schema(url, sql_dir)
        _without_schedule(url)
        yield url
        return
    with fresh_server() as url:
        cluster.apply_schema(url, sql_dir)
        _without_schedule(url)
        yield url


@pytest.fixture
def conn(pg_url):
    import psycopg

    connection = psycopg.connect(pg_url, autocommit=True)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def world(conn) -> dict:
    """Acacia and Banksia, each with a service; Acacia's viewer, planner and admin, Banksia's planner
    (``rival``) and a signed-in ``stranger`` of no org. Ids by those names, and ``<org>_run``."""
    ids = {"acacia_run": import_service(conn, f"Acacia {uuid.uuid4().hex[:6]}"),
           "banksia_run": import_service(conn, f"Banksia {uuid.uuid4().hex[:6]}")}
    for key in ("acacia", "banksia"):
        ids[key] = conn.execute("select org_id from allocation_runs where id = %s", [ids[f"{key}_run"]]).fetchone()[0]
    for name, org, role in (("viewer", "acacia", "viewer"), ("planner", "acacia", "planner"),
                            ("admin", "acacia", "admin"), ("rival", "banksia", "planner")):
        ids[name] = new_user(conn, f"{name}-{uuid.uuid4().hex[:6]}@example.org")
        conn.execute("select planner.add_member(%s, %s, %s)", [ids[org], ids[name], role])
    ids["stranger"] = new_user(conn, f"stranger-{uuid.uuid4().hex[:6]}@example.org")
    return ids


# ---------------------------------------------------------------- markers

# Fixtures that give a test a server: ours, and test_supabase_cli.py's (``project`` is only ever used
# to run the Supabase CLI against one).
SERVER_FIXTURES = {"pg_url", "pushed", "project"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)
