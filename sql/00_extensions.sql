-- 00_extensions.sql: what the planner needs from the server, checked first.
--
-- The install guard fails early with a hint that says how to fix the server,
-- instead of a cryptic error from the first solve.

do $guard$
begin
  if not exists (select 1 from pg_catalog.pg_available_extensions where name = 'plpython3u') then
    raise exception 'receptor planner: the plpython3u extension is not installed on this server'
      using hint = 'Install postgresql-plpython3-15 (apt-get install postgresql-plpython3-15), '
                   'or run the image built from Dockerfile.postgres.';
  end if;
  if not exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron') then
    raise exception 'receptor planner: the pg_cron extension is not installed on this server'
      using hint = 'Install postgresql-15-cron (apt-get install postgresql-15-cron).';
  end if;
  if current_setting('shared_preload_libraries') !~ '(^|,)\s*"?pg_cron"?\s*(,|$)' then
    raise exception 'receptor planner: pg_cron is not in shared_preload_libraries'
      using hint = 'Add pg_cron to shared_preload_libraries and restart the server '
                   '(`planner db start` does this for a local cluster).';
  end if;
  if coalesce(current_setting('cron.database_name', true), 'postgres') <> current_database() then
    raise exception 'receptor planner: pg_cron runs in database "%", not in "%"',
        coalesce(current_setting('cron.database_name', true), 'postgres'), current_database()
      using hint = format('Set cron.database_name = %L in postgresql.conf and restart the server.',
                          current_database());
  end if;
  if coalesce(current_setting('planner.python_path', true), '') = '' then
    raise exception 'receptor planner: planner.python_path is not set, so the server cannot import the solver'
      using hint = 'Stage the package (receptor_planner_tools.cluster.stage_python) and set '
                   'planner.python_path = ''<staged folder>:<venv site-packages>'' in postgresql.conf '
                   '(or ALTER SYSTEM SET ...; SELECT pg_reload_conf()). `planner db start` does both.';
  end if;
end
$guard$;

create extension if not exists plpython3u;
-- In pg_catalog, as Supabase installs it: an extension in public would be on every API's path.
create extension if not exists pg_cron with schema pg_catalog;
-- gen_random_uuid() is built into PostgreSQL 13+: no pgcrypto needed.

create schema if not exists planner;
comment on schema planner is
  'Receptor Planner internals and its small SQL API (verbs); private helpers start with "_".';
