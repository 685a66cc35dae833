"""Dockerfile.postgres cannot be built here (no Docker engine), so check what can be:
it installs through the same script as the Makefile, copies files that exist,
sets the server settings of the embedded database, and its first-start script
(docker/initdb.sh) really applies the schema, against a throwaway server.

And the Python packages: ``pip install .`` of a copy of the project, in a fresh venv, gives a
``planner`` command that works outside the checkout, with the schema and the examples as package
data; the core the server imports never imports the tools."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
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
    assert re.search(r"^\t@?\$\(INSTALL\) venv \$\(VENV\) pyproject.toml test build$", MAKEFILE, re.M)
    # make installs the project itself (its planner command) after the dependencies; the image does not
    assert re.search(r"^install: system venv project$", MAKEFILE, re.M)
    assert re.search(r"^\t@?\$\(INSTALL\) project \$\(VENV\) \$\(CURDIR\)$", MAKEFILE, re.M)
    assert "ln -sfn $(VENV)/bin/planner $(BIN_DIR)/planner" in MAKEFILE
    assert "install.sh project" not in DOCKERFILE
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
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [r for group in project["optional-dependencies"].values() for r in group] \
        + tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]  # make builds in the venv
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


# ---------------------------------------------------------------- the Python packages

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CORE = REPO / "plpython" / "receptor_planner"
TOOLS = REPO / "plpython" / "receptor_planner_tools"


def test_pyproject_lists_every_package_of_plpython_and_maps_the_data_folders():
    """Packages are listed by hand (the data folders are packages mapped from the top level), so a new
    package folder must be added there, or the wheel would leave it out."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    code = {p.parent.relative_to(REPO / "plpython").as_posix().replace("/", ".")
            for p in (REPO / "plpython").rglob("__init__.py")}
    assert {"receptor_planner", "receptor_planner.model", "receptor_planner_tools"} <= code
    assert set(setuptools["packages"]) == code | {"receptor_planner_tools.sql", "receptor_planner_tools.examples"}
    assert setuptools["package-dir"] == {"": "plpython", "receptor_planner_tools.sql": "sql",
                                         "receptor_planner_tools.examples": "examples"}
    assert PYPROJECT["project"]["scripts"] == {"planner": "receptor_planner_tools.cli:main"}


def test_from_the_checkout_the_tools_read_its_own_folders():
    from receptor_planner_tools import cli, paths

    assert paths.CHECKOUT == REPO and cluster.REPO_DIR == REPO
    assert cluster.SQL_DIR == REPO / "sql" and cluster.SUPABASE_COMPAT == REPO / "supabase" / "compat.sql"
    assert cli.DEMO_INSTANCE == REPO / "examples" / "metro-pgy1.json" and cli.DEMO_INSTANCE.is_file()
    assert cluster.PACKAGE_DIR == CORE


def test_the_core_never_imports_the_tools_nor_psycopg():
    """Every module of the core, imported as the server would (pg needs plpy only when called), in a
    fresh interpreter: neither the tools, nor psycopg, nor plpy come with it."""
    modules = sorted(p.relative_to(CORE.parent).with_suffix("").as_posix().replace("/", ".")
                     .removesuffix(".__init__") for p in CORE.rglob("*.py"))
    assert "receptor_planner.pg" in modules and "receptor_planner.model" in modules
    script = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('receptor_planner_tools', 'psycopg', 'psycopg_binary', 'plpy')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd="/",
                          env={**os.environ, "PYTHONPATH": str(REPO / "plpython")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _project_files() -> list[str]:
    """What a clone of the checkout holds, with the work in progress in it (untracked, not ignored)."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout.split("\0")
    return [name for name in listed if name and (REPO / name).is_file()]


def test_pip_install_gives_a_planner_command_that_works_outside_the_checkout(tmp_path):
    """A copy of the project, pip-installed (not editable) into a fresh venv that borrows this venv's
    packages (nothing is downloaded): its planner solves and checks an installed example from elsewhere."""
    import shutil

    copy = tmp_path / "project"
    for name in _project_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, copy / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # after the venv's own site-packages: its pip, setuptools and wheel build, its ortools solves
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PLANNER_HOME", "VIRTUAL_ENV")}
    env["PIP_NO_CACHE_DIR"] = "1"
    installed = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
                                "--no-deps", "--no-build-isolation", "--ignore-installed", str(copy)],
                               capture_output=True, text=True, env=env, cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    shutil.rmtree(copy)  # nothing may come from the copy any more

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*argv) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, cwd=elsewhere,
                              timeout=300)

    planner = venv / "bin" / "planner"
    helped = run(planner, "--help")
    assert helped.returncode == 0 and "solve" in helped.stdout and "check" in helped.stdout, helped.stderr
    where = json.loads(run(python, "-c", "import json, receptor_planner, receptor_planner_tools.cli as cli\n"
                                         "from receptor_planner_tools import cluster, paths\n"
                                         "print(json.dumps({'core': receptor_planner.__file__, "
                                         "'tools': cli.__file__, 'checkout': paths.CHECKOUT and str(paths.CHECKOUT), "
                                         "'sql': str(cluster.SQL_DIR), 'compat': str(cluster.SUPABASE_COMPAT), "
                                         "'demo': str(cli.DEMO_INSTANCE), 'home': str(cluster.default_root())}))"
                           ).stdout)
    core, tools = Path(where["core"]).parent, Path(where["tools"]).parent
    assert core == site / "receptor_planner" and tools == site / "receptor_planner_tools", where
    assert where["checkout"] is None
    assert (Path(where["sql"]), Path(where["compat"]), Path(where["demo"])) == (
        tools / "sql", tools / "supabase" / "compat.sql", tools / "examples" / "metro-pgy1.json")
    home = Path(where["home"])  # the local cluster's: outside any checkout, where the server user can reach it
    if os.geteuid() == 0:
        assert home.parent == Path("/var/lib/receptor-planner") and re.fullmatch(r"[0-9a-f]{12}", home.name)
    else:
        state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        assert home.parent == state / "receptor-planner" and re.fullmatch(r"[0-9a-f]{12}", home.name)

    # the package data: every schema file, the examples, compat.sql; the code: both packages, nothing else
    def tree(folder: Path, pattern: str = "*") -> set[str]:
        return {p.relative_to(folder).as_posix() for p in folder.rglob(pattern)
                if p.is_file() and "__pycache__" not in p.parts}

    assert tree(tools / "sql") == {p.name for p in (REPO / "sql").glob("*.sql")}
    assert tree(tools / "examples") == {p.name for p in (REPO / "examples").iterdir()}
    assert (tools / "supabase" / "compat.sql").read_bytes() == (REPO / "supabase" / "compat.sql").read_bytes()
    assert tree(core) == tree(CORE, "*.py")
    assert tree(tools) == (tree(TOOLS, "*.py") | {f"sql/{p.name}" for p in (REPO / "sql").glob("*.sql")}
                           | {f"examples/{p.name}" for p in (REPO / "examples").iterdir()} | {"supabase/compat.sql"})
    assert not any(p.name.startswith("receptor_planner_tools") for p in core.rglob("*"))

    example = Path(where["demo"])
    solved = run(planner, "solve", example, "--constraints", "VIC_PGY1", "-o", "out.json")
    assert solved.returncode == 0, solved.stderr
    assert "status: COMPLETED" in solved.stderr
    checked = run(planner, "check", "out.json", "--instance", example)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 violation(s)" in checked.stderr
    assert json.loads((elsewhere / "out.json").read_text())["request"]["constraints"] == ["VIC_PGY1"]


@pytest.mark.database
def test_the_server_imports_the_staged_core_and_nothing_of_the_tools(conn):
    """First on planner.python_path, the staged copy wins over whatever the venv holds (make's editable
    install of the project is a .pth file there, which the server never reads); the tools stay out."""
    conn.execute("""
        create function pg_temp.imported() returns text language plpython3u as $$
        if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
        import json, sys
        import receptor_planner, receptor_planner.pg, receptor_planner.solve
        return json.dumps({"core": receptor_planner.__file__, "modules": sorted(sys.modules)})
        $$""")
    imported = json.loads(conn.execute("select pg_temp.imported()").fetchone()[0])
    staged = conn.execute("select current_setting('planner.python_path')").fetchone()[0].split(":")[0]
    assert imported["core"] == f"{staged}/receptor_planner/__init__.py"
    assert not [m for m in imported["modules"] if m.split(".")[0] in ("receptor_planner_tools", "psycopg")]
    assert not any(m.startswith("__editable__") for m in imported["modules"])
