"""Dockerfile.postgres cannot be built here (no Docker engine), so check what can be:
it installs through the same script as the Makefile, copies files that exist,
sets the server settings of the embedded database, and its first-start script
(docker/initdb.sh) really applies the schema, against a throwaway server."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import psycopg
import pytest

from builders import INITDB_SH, run_initdb
from conftest import fresh_server
from receptor_planner_tools import cluster

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "Dockerfile.postgres").read_text()
MAKEFILE = (REPO / "Makefile").read_text()
INSTALL_SH = (REPO / "docker" / "install.sh").read_text()
MIGRATIONS = sorted((REPO / "supabase" / "migrations").glob("*.sql"))
IMAGE_PYTHON_PATH = "/opt/receptor-planner/python:/opt/receptor-planner/venv/lib/python3.11/site-packages"


def server_packages() -> set[str]:
    return set(re.search(r'^SERVER_PACKAGES="([^"]*)"', INSTALL_SH, re.M).group(1).split())


def image_settings() -> dict[str, str]:
    return dict(re.findall(r"^\s+\"([\w.]+) = '([^']*)'\" \\$", DOCKERFILE, re.M))


# ---------------------------------------------------------------- one install for make and the image

def test_the_install_script_has_every_package_the_server_and_the_linter_need():
    assert server_packages() >= {
        "postgresql-15", "postgresql-plpython3-15", "postgresql-15-cron", "postgresql-15-wal2json",
        "postgresql-15-pgtap", "postgresql-15-plpgsql-check", "python3.11", "python3.11-venv"}
    assert not subprocess.run(["sh", "-n", REPO / "docker" / "install.sh"]).returncode


def test_make_and_the_image_both_install_through_the_script():
    assert "INSTALL := sh docker/install.sh" in MAKEFILE
    assert re.search(r"^system:\n\t@?\$\(INSTALL\) system\b", MAKEFILE, re.M)
    assert re.search(r"^\t@?\$\(INSTALL\) venv \$\(VENV\) pyproject.toml test$", MAKEFILE, re.M)
    assert "COPY docker/install.sh pyproject.toml requirements.lock /opt/receptor-planner/install/" in DOCKERFILE
    assert re.search(r"install\.sh system\b", DOCKERFILE)
    assert re.search(r"install\.sh venv\s+\\?\s*/opt/receptor-planner/venv /opt/receptor-planner/install/pyproject\.toml"
                     r"\s*(\\|&&|$)", DOCKERFILE)
    # the script, not a copy of its lines; dependencies only in the image (no test extras)
    assert "apt-get install" not in DOCKERFILE and "pip install" not in DOCKERFILE
    assert "apt-get install" not in MAKEFILE and "pip install" not in MAKEFILE


def test_the_install_script_refuses_what_it_does_not_know():
    done = subprocess.run(["sh", REPO / "docker" / "install.sh", "everything"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage:" in done.stderr


def test_every_copied_source_exists():
    copies = re.findall(r"^COPY\s+(.+)\s+\S+$", DOCKERFILE, re.M)
    assert copies
    for sources in copies:
        for source in sources.split():
            assert (REPO / source).exists(), source


# ---------------------------------------------------------------- the embedded database's settings

def test_the_image_sets_what_the_embedded_database_sets():
    wanted = cluster.server_settings(IMAGE_PYTHON_PATH, "postgres")
    # the embedded database listens on 127.0.0.1 only; a container listens on every address (the base image's '*')
    del wanted["listen_addresses"]
    # the embedded database may write the path into its configuration apart from the other settings
    wanted.pop("planner.python_path", None)
    image = image_settings()
    assert image.pop("planner.python_path") == IMAGE_PYTHON_PATH
    assert image == wanted
    assert "/usr/share/postgresql/postgresql.conf.sample" in DOCKERFILE  # configuration, not a session's SET


def test_the_python_path_is_where_the_image_puts_the_package_and_the_venv():
    package, site_packages = image_settings()["planner.python_path"].split(":")
    assert f"COPY plpython/receptor_planner {package}/receptor_planner" in DOCKERFILE
    assert site_packages.startswith("/opt/receptor-planner/venv/") and site_packages.endswith("/site-packages")


def test_the_image_runs_the_first_start_script_with_the_migrations():
    assert "COPY supabase/compat.sql /opt/receptor-planner/supabase/compat.sql" in DOCKERFILE
    assert "COPY supabase/migrations /opt/receptor-planner/supabase/migrations" in DOCKERFILE
    assert "COPY docker/initdb.sh /docker-entrypoint-initdb.d/" in DOCKERFILE
    # executable: the entrypoint sources a non-executable script into its own shell
    assert os.access(INITDB_SH, os.X_OK)


# ---------------------------------------------------------------- docker/initdb.sh, for real

@pytest.fixture(scope="module")
def server_url():
    with fresh_server() as url:
        yield url


@pytest.mark.database
def test_first_start_applies_compat_and_every_migration_and_records_them(server_url):
    done = run_initdb(server_url)
    assert done.returncode == 0, done.stderr
    assert f"applied supabase/compat.sql and {len(MIGRATIONS)} migrations" in done.stdout
    with psycopg.connect(server_url) as conn:
        recorded = conn.execute("select version, name, statements from supabase_migrations.schema_migrations "
                                "order by version").fetchall()
        assert conn.execute("select count(*) from pg_roles "
                            "where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')"
                            ).fetchone()[0] == 4
        assert conn.execute("select to_regclass('public.org_members') is not null").fetchone()[0]
    # as the Supabase CLI records a push: version, name, the text
    assert [(v, n) for v, n, _ in recorded] == [tuple(p.stem.split("_", 1)) for p in MIGRATIONS]
    assert [s for _, _, s in recorded] == [[p.read_text().removesuffix("\n")] for p in MIGRATIONS]

    again = run_initdb(server_url)  # the auth schema exists now: nothing is applied twice
    assert again.returncode == 0 and "the auth schema exists" in again.stdout, again.stderr


@pytest.mark.database
def test_first_start_on_a_supabase_database_leaves_it_alone():
    with fresh_server() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create schema auth")  # Supabase's, made by its own init scripts
        done = run_initdb(url)
        assert done.returncode == 0 and "supabase db push" in done.stdout, done.stderr
        with psycopg.connect(url) as conn:
            assert conn.execute("select to_regnamespace('planner') is null and "
                                "to_regclass('auth.users') is null and "
                                "to_regnamespace('supabase_migrations') is null").fetchone()[0]


def test_the_package_has_no_import_cycle():
    """Module-level and function-level imports between the package's modules form no cycle."""
    import ast

    package = REPO / "plpython" / "receptor_planner"
    modules = {p.relative_to(package).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
               for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        name = path.relative_to(package).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
        base = name.rsplit(".", 1)[0] if path.name != "__init__.py" and "." in name else (
            name if path.name == "__init__.py" else "")
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                anchor = base.split(".")[:len(base.split(".")) - (node.level - 1)] if base else []
                target = ".".join([*anchor, *(node.module.split(".") if node.module else [])])
                for alias in node.names:
                    full = f"{target}.{alias.name}" if target else alias.name
                    imported.add(full if full in modules else target)
        graph[name] = {m for m in imported if m in modules and m != name}

    def cycle_from(start: str, path: list[str]) -> list[str] | None:
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == start:
                return [*path, nxt]
            if nxt not in path:
                found = cycle_from(start, [*path, nxt])
                if found:
                    return found
        return None

    cycles = [c for m in sorted(graph) if (c := cycle_from(m, [m]))]
    assert cycles == [], " -> ".join(cycles[0])


def test_the_lock_pins_what_pyproject_names_and_the_solver_exactly():
    """The same seed gives the same lines only with the same OR-Tools: pyproject pins it exactly,
    and requirements.lock (installed as constraints) pins it and every other dependency."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [r for group in project["optional-dependencies"].values() for r in group]
    lock = dict(line.split("==") for line in (REPO / "requirements.lock").read_text().splitlines()
                if line and not line.startswith("#"))
    names = {re.split(r"[\[<>=!~ ]", r)[0].lower().replace("_", "-") for r in wanted}
    locked = {name.lower().replace("_", "-") for name in lock}
    assert names <= locked, names - locked
    ortools = next(r for r in project["dependencies"] if r.startswith("ortools"))
    assert ortools == f"ortools=={lock['ortools']}"


def test_every_result_records_the_versions_it_depends_on():
    import ortools

    from builders import instance, post, solve_checked

    solution = solve_checked(instance([post("A1", capacity=1, categories=("A",))], term_weeks=(52,),
                                      cohort="PGY3+"), 1)
    versions = solution["metrics"]["versions"]
    lock = (REPO / "requirements.lock").read_text()
    assert versions["ortools"] == ortools.__version__ and f"ortools=={versions['ortools']}" in lock
    assert set(versions) == {"ortools", "numpy", "python"}
