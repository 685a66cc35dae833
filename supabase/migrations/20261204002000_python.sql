-- Generated from sql/20_python.sql by `make migrations`: edit sql/20_python.sql, not this file.
-- 20_python.sql: PL/Python glue. The backend's sys.path knows no venv, so
-- planner._load_python() adds planner.python_path (the staged package and
-- the venv's site-packages, from the server's configuration) on first use. Every other plpython function
-- starts with the one-line guard
--   if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
-- and then imports from the package: validation lives in Python only.

create or replace function planner._load_python() returns void
language plpython3u security definer set search_path = pg_catalog
as $$
import os, sys
# The path decides what code runs inside the server, so it comes from the server's configuration
# (postgresql.conf, an included file or ALTER SYSTEM), never from a session's SET: a session that
# could point it at its own folder would run its own code as the server.
configured = plpy.execute(
    "select setting from pg_catalog.pg_file_settings "
    "where name = 'planner.python_path' and error is null order by seqno desc limit 1")
setting = configured[0]["setting"] if configured.nrows() else ""
session = plpy.execute("select current_setting('planner.python_path', true) as p")[0]["p"] or ""
if not setting:
    plpy.error("planner.python_path is not set in the server's configuration: the server cannot import "
               "the receptor_planner package",
               hint="Set planner.python_path = '<staged folder>:<venv site-packages>' in postgresql.conf "
                    "(or ALTER SYSTEM SET ...; SELECT pg_reload_conf()). `planner db start` does this.")
if session != setting:
    plpy.error("planner.python_path: this session's value %r is refused; the server imports only the path "
               "of its configuration" % session,
               hint="RESET planner.python_path, or change the configuration and SELECT pg_reload_conf().")
entries = [e for e in setting.split(":") if e]
for entry in entries:
    # Defence in depth: only folders that root or the server user owns and nobody else can write.
    try:
        st = os.stat(entry)
    except OSError as e:
        plpy.error("planner.python_path entry %s cannot be read by the server: %s" % (entry, e.strerror),
                   hint="Re-stage the package (`planner db start`) or fix planner.python_path.")
    if st.st_uid not in (0, os.geteuid()) or st.st_mode & 0o022:
        plpy.error("planner.python_path entry %s is writable by others or owned by another user" % entry,
                   hint="Stage the package into a folder owned by root or the server user, mode 0755.")
for entry in reversed(entries):  # reversed + insert(0): the first entry wins over system packages
    if entry not in sys.path:
        sys.path.insert(0, entry)
try:
    import receptor_planner  # noqa: F401
except ImportError as e:
    plpy.error("cannot import receptor_planner from planner.python_path (%s): %s" % (setting, e),
               hint="Re-stage the package (`planner db start`) and check that the server user "
                    "can read every folder of the path.")
$$;
comment on function planner._load_python() is
  'Adds the entries of planner.python_path, as the server''s configuration sets it (a session''s SET is '
  'refused), to sys.path once, and imports receptor_planner. Security definer: pg_file_settings is the '
  'superuser''s to read.';

create or replace function planner._constraints_error(constraints text[], cohort text) returns text
language plpython3u stable set search_path = pg_catalog
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.pg import constraints_error
return constraints_error(constraints, cohort)
$$;
comment on function planner._constraints_error(text[], text) is
  'Why a ruleset list cannot be used for the cohort (receptor_planner.rules.resolve_rules), or null.';

create or replace function planner._options_error(options jsonb) returns text
language plpython3u stable set search_path = pg_catalog
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.pg import options_error
return options_error(options)
$$;
comment on function planner._options_error(jsonb) is
  '"field: reason" for planner run options (receptor_planner.instance.parse_request), or null.';

create or replace function planner._leave_error(leave jsonb, term_weeks int[]) returns text
language plpython3u stable set search_path = pg_catalog
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.pg import leave_error
return leave_error(leave, term_weeks)
$$;
comment on function planner._leave_error(jsonb, int[]) is
  '"leave.field: reason" for a plan''s leave object (receptor_planner.instance.parse_leave), or null.';

create or replace function planner._normal_leave(leave jsonb, term_weeks int[]) returns jsonb
language plpython3u stable set search_path = pg_catalog
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.pg import normal_leave
return normal_leave(leave, term_weeks)
$$;
comment on function planner._normal_leave(jsonb, int[]) is
  'A valid leave object with every default filled in, so stored plans are explicit.';

create or replace function planner._affinity_error(version text, source text, weights jsonb) returns text
language plpython3u stable set search_path = pg_catalog
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.pg import affinity_error
return affinity_error(version, source, weights)
$$;
comment on function planner._affinity_error(text, text, jsonb) is
  '"affinity_profiles.field: reason" for a profile (receptor_planner.instance.parse_affinity), or null.';
