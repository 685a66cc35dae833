"""A local PostgreSQL 15 cluster for the planner: settings, staging, schema.

Used by the CLI (``planner db start|stop|status|url``) and by the test fixtures.
Never imports ``plpy``: this runs outside the server.

Two platform traps shape this module (see shared/platform-notes.md):

* Postgres refuses to run as root, so when we are root every server program
  runs as OS user ``postgres`` through ``setpriv``.
* The backend runs as ``postgres`` and must import our package and the venv.
  A checkout under a 0700 home is unreadable to it, so the package is copied
  ("staged") into a world-readable folder and the server never reads the
  checkout.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import receptor_planner
from .paths import CHECKOUT, data_path

PG_BIN = Path(os.environ.get("PLANNER_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
DATABASE = "planner"
DEFAULT_VENV_PURELIB = Path("/opt/receptor-planner/venv/lib/python3.11/site-packages")
PACKAGE_DIR = Path(receptor_planner.__file__).resolve().parent  # the core, all the server imports
REPO_DIR = CHECKOUT  # None when the tools are an installed package
SQL_DIR = data_path("sql")
# Roles, the auth schema and auth.uid() as Supabase has them, for a plain PostgreSQL.
SUPABASE_COMPAT = data_path("supabase", "compat.sql")


class ClusterError(RuntimeError):
    """A local cluster operation that failed, with what to do about it."""


# ---------------------------------------------------------------- settings

def server_settings(python_path: str, database: str, for_tests: bool = False) -> dict[str, str]:
    """The server settings the planner needs, as name -> value strings.

    ``for_tests`` trades durability for speed (fsync off): fine for a
    throwaway test server, never for a cluster that holds a user's data.
    """
    settings = {
        "shared_preload_libraries": "pg_cron",
        "cron.database_name": database,
        # jobs run in background workers: no connection (password, socket) to configure
        "cron.use_background_workers": "on",
        "max_worker_processes": "16",
        # Realtime reads changes by logical replication.
        "wal_level": "logical",
        "max_replication_slots": "10",
        "max_wal_senders": "10",
        # Since 15.19 a logical output plugin must be listed here (platform notes).
        "output_plugin_libraries": "pgoutput,test_decoding,wal2json",
        "listen_addresses": "127.0.0.1",
        # Where the backend finds receptor_planner and the venv; read by planner._load_python().
        "planner.python_path": python_path,
        "timezone": "UTC",
    }
    if for_tests:
        # fsync off survives a server crash (the OS keeps the pages), not a machine crash: fine for tests.
        # Commits stay synchronous: a crash test must not lose a commit the server acknowledged.
        settings.update({"fsync": "off", "full_page_writes": "off"})
    return settings


def settings_as_args(settings: dict[str, str]) -> list[str]:
    """``-c name=value`` arguments for the postgres command line."""
    args = []
    for name, value in settings.items():
        args += ["-c", f"{name}={value}"]
    return args


def settings_as_conf(settings: dict[str, str]) -> str:
    """The settings as postgresql.conf lines (values quoted, quotes doubled)."""
    lines = ["# Written by receptor_planner_tools.cluster on every start; edits are overwritten."]
    for name, value in settings.items():
        quoted = value.replace("'", "''")
        lines.append(f"{name} = '{quoted}'")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- running as postgres

def _is_root() -> bool:
    return os.geteuid() == 0


def as_server_user(argv: list[str]) -> list[str]:
    """Prefix a command so it runs as ``postgres`` when we are root."""
    if _is_root():
        return ["setpriv", f"--reuid={PG_USER}", f"--regid={PG_USER}", "--init-groups", *argv]
    return list(argv)


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    # cwd "/": the server user may not be able to enter our working directory.
    done = subprocess.run(as_server_user(argv), cwd="/", capture_output=True, text=True)
    if check and done.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr or done.stdout}")
    return done


def server_can_read(path: Path) -> bool:
    """Whether the server user can read (and, for a folder, enter) ``path``."""
    test = ["test", "-r", str(path)] + (["-a", "-x", str(path)] if path.is_dir() else [])
    if not _is_root():
        return os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0))
    return _run(test, check=False).returncode == 0


def _chown_to_server(path: Path) -> None:
    if _is_root():
        shutil.chown(path, PG_USER, PG_USER)


# ---------------------------------------------------------------- python staging

def venv_purelib() -> Path:
    """site-packages of the running venv, or of the project's venv otherwise."""
    if sys.prefix != sys.base_prefix:  # running inside a venv
        return Path(sysconfig.get_paths()["purelib"])
    return DEFAULT_VENV_PURELIB


def stage_python(dest: Path) -> str:
    """Copy the package into ``dest/receptor_planner`` for the server to import.

    Returns the ``planner.python_path`` value: ``dest:<venv site-packages>``.
    Files are world-readable; a copy is built beside the old one and swapped in,
    so a backend never sees a half-copied package.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o755)
    target = dest / "receptor_planner"
    fresh = dest / "receptor_planner.staging"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(PACKAGE_DIR, fresh, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for folder, dirs, files in os.walk(fresh):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    shutil.rmtree(target, ignore_errors=True)
    fresh.rename(target)
    purelib = venv_purelib()
    for path in (target, purelib):
        if not server_can_read(path):
            raise ClusterError(
                f"the server user {PG_USER!r} cannot read {path}. Every folder above it must be "
                f"world-executable (chmod o+x) and it must be world-readable (chmod -R o+rX {path}); "
                "or choose a folder outside a private home directory (set PLANNER_HOME).")
    return f"{dest}:{purelib}"


# ---------------------------------------------------------------- schema

def needs_supabase_compat(conn) -> bool:
    """True on a plain PostgreSQL: no ``auth`` schema, or only the one supabase/compat.sql made.

    A real Supabase has its own auth schema (GoTrue's), which the compat file must never touch.
    """
    comment = conn.execute("select case when to_regnamespace('auth') is null then '' "
                           "else coalesce(obj_description(to_regnamespace('auth'), 'pg_namespace'), '-') end"
                           ).fetchone()[0]
    return comment == "" or "supabase/compat.sql" in comment


def apply_schema(conninfo_or_conn, sql_dir: Path | None = None) -> list[str]:
    """Run supabase/compat.sql where Supabase is absent, then every ``sql/*.sql`` file in
    name order, in one transaction.

    The files use CREATE OR REPLACE / IF NOT EXISTS, so applying them to an
    existing database is harmless. Returns the file names applied.
    """
    import psycopg  # only the CLI and the tests need it

    folder = Path(sql_dir) if sql_dir else SQL_DIR
    files = sorted(folder.glob("*.sql"))
    if not files:
        raise ClusterError(f"no .sql files in {folder}")
    own = isinstance(conninfo_or_conn, str)
    conn = psycopg.connect(conninfo_or_conn, autocommit=True) if own else conninfo_or_conn
    try:
        with conn.transaction():
            if needs_supabase_compat(conn):
                files.insert(0, SUPABASE_COMPAT)
            for path in files:
                # No parameters: psycopg sends the text as is (several statements, '%' untouched).
                conn.execute(path.read_text())
    finally:
        if own:
            conn.close()
    return [p.name for p in files]


def run_worker(conn, slot: int = 1, seconds: int = 60) -> None:
    """Run one worker loop on ``conn`` (autocommit, not in a transaction): the statement that
    planner.worker_statement gives, as the pg_cron jobs run it."""
    conn.execute(conn.execute("select planner.worker_statement(%s, %s)", [slot, seconds]).fetchone()[0])


def configure_python_path(conn, python_path: str) -> None:
    """Set planner.python_path in the server's configuration (ALTER SYSTEM) and reload.

    The server reads the path only from its configuration, never from a
    session's SET (planner._load_python), so a command-line -c is not enough either.
    """
    # ALTER SYSTEM knows a custom setting only once this session has defined it.
    conn.execute("select set_config('planner.python_path', %s, false)", [python_path])
    conn.execute("alter system set planner.python_path = %s" % _literal(python_path))
    conn.execute("reset planner.python_path")
    conn.execute("select pg_reload_conf()")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------- the local cluster

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_root() -> Path:
    """Where the local cluster lives.

    ``$PLANNER_HOME`` if set; else, run from a checkout, ``<checkout>/.planner`` when the server
    user can traverse to it. Otherwise a folder named by the sha1 of the checkout's path (one
    under a 0700 home such as /root) or of the installed package's (12 hex digits): as root
    ``/var/lib/receptor-planner/<id>``, which the server user ``postgres`` can reach; as anyone
    else, whose server runs as themselves, ``$XDG_STATE_HOME/receptor-planner/<id>``
    (``~/.local/state`` by default).
    """
    if os.environ.get("PLANNER_HOME"):
        return Path(os.environ["PLANNER_HOME"]).resolve()
    if REPO_DIR is not None and server_can_read(REPO_DIR):
        return REPO_DIR / ".planner"
    digest = hashlib.sha1(str(REPO_DIR or Path(__file__).resolve().parent).encode()).hexdigest()[:12]
    if _is_root():
        return Path("/var/lib/receptor-planner") / digest
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "receptor-planner" / digest


class LocalCluster:
    """One PostgreSQL cluster under ``root``, run as ``postgres`` when we are root.

    Layout: ``data/`` (owned by the server user, 0700), ``python/`` (the
    staged package), ``server.log``, ``port`` (chosen free at first start and
    kept), ``planner.conf`` inside data/ (our settings, rewritten on each start).
    """

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else default_root()
        self.data = self.root / "data"
        self.python_dir = self.root / "python"
        self.log = self.root / "server.log"
        self.port_file = self.root / "port"

    @classmethod
    def default(cls) -> "LocalCluster":
        """The cluster at default_root(): $PLANNER_HOME, <checkout>/.planner or a folder of its own."""
        return cls(default_root())

    # -- facts
    @property
    def port(self) -> int:
        if not self.port_file.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            self.port_file.write_text(f"{_free_port()}\n")
        return int(self.port_file.read_text())

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def status(self) -> dict:
        running = self._running()
        pid = None
        pidfile = self.data / "postmaster.pid"
        if running and pidfile.exists():
            pid = int(pidfile.read_text().split("\n", 1)[0])
        return {"running": running, "pid": pid,
                "port": int(self.port_file.read_text()) if self.port_file.exists() else None,
                "data_dir": str(self.data), "log": str(self.log),
                "url": self.url() if self.port_file.exists() else None}

    def _running(self) -> bool:
        if not (self.data / "PG_VERSION").exists():
            return False
        # pg_ctl status: 0 running, 3 not running, 4 no data directory.
        return _run([str(PG_BIN / "pg_ctl"), "status", "-D", str(self.data)], check=False).returncode == 0

    # -- actions
    def start(self) -> dict:
        """Init if needed, start, create the database, stage python, apply the schema.

        Starting a running cluster is harmless: it re-stages the package,
        reloads the settings and re-applies the schema.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the server user must traverse it
        python_path = stage_python(self.python_dir)
        self._init()
        settings = server_settings(python_path, DATABASE)
        settings["port"] = str(self.port)
        settings["unix_socket_directories"] = ""  # TCP only: no socket path length or /run surprises
        conf = self.data / "planner.conf"
        conf.write_text(settings_as_conf(settings))
        conf.chmod(0o644)
        pg_ctl = str(PG_BIN / "pg_ctl")
        if self._running():
            _run([pg_ctl, "reload", "-D", str(self.data)])
        else:
            if not self.log.exists():
                self.log.touch()
            _chown_to_server(self.log)
            done = _run([pg_ctl, "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log)],
                        check=False)
            if done.returncode != 0:
                raise ClusterError(f"the server did not start; the end of {self.log}:\n{self._log_tail()}")
        self._create_database()
        apply_schema(self.url())
        return self.status()

    def stop(self) -> dict:
        """Stop the server (fast shutdown) and wait until no process is left."""
        if self._running():
            _run([str(PG_BIN / "pg_ctl"), "stop", "-m", "fast", "-w", "-t", "60", "-D", str(self.data)])
        return self.status()

    def _init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.data.mkdir(parents=True, exist_ok=True)
        self.data.chmod(0o700)
        _chown_to_server(self.data)
        _run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", PG_USER, "--auth=trust",
              "-E", "UTF8", "--locale=C"])
        with open(self.data / "postgresql.conf", "a") as conf:
            # Ours come after the defaults; postgresql.auto.conf (ALTER SYSTEM) still wins.
            conf.write("\ninclude_if_exists = 'planner.conf'\n")

    def _create_database(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg.connect(self.url("postgres"), autocommit=True)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with conn:
            if not conn.execute("select 1 from pg_database where datname = %s", [DATABASE]).fetchone():
                conn.execute(f'create database "{DATABASE}"')

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError as e:
            return f"(cannot read the log: {e})"


def connect(url: str | None):
    """An autocommit connection to ``url`` (default: the local database), or None after telling the
    user on stderr why there is none: the commands that read the database then exit 2."""
    import psycopg

    url = url or LocalCluster.default().url()
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as e:
        print(f"planner: cannot connect to {url}: {str(e).strip().splitlines()[-1]}\n"
              "(start the local database with `planner db start`, or give --url)", file=sys.stderr)
        return None
