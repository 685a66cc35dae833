-- Generated from sql/55_restore.sql by `make migrations`: edit sql/55_restore.sql, not this file.
-- 55_restore.sql: bringing back job lines from history.

create or replace function planner._restore_job_lines(history_id uuid) returns jsonb
language plpython3u
set search_path = pg_catalog, public, planner
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
import json
from receptor_planner.pg import restore_job_lines
return json.dumps(restore_job_lines(plpy, history_id), default=str)
$$;
comment on function planner._restore_job_lines(uuid) is
  'Does the work of planner.restore_job_lines; returns {"error": ...} instead of raising.';

-- Security definer: service_role calls it without EXECUTE on the plpython3u function behind it.
create or replace function planner.restore_job_lines(history_id uuid) returns jsonb
language plpgsql security definer
set search_path = pg_catalog, public, planner
as $$
declare
  result jsonb;
begin
  result := planner._restore_job_lines(history_id);
  if result ? 'error' then
    raise exception '%', result ->> 'error' using errcode = 'invalid_parameter_value';
  end if;
  return result;
end
$$;
comment on function planner.restore_job_lines(uuid) is
  'Replaces an allocation run''s job lines with a job_lines_history snapshot, first snapshotting the '
  'current lines (so a restore can itself be undone). Refused while a planner run of that allocation run '
  'is active. Returns {restored_lines, allocation_run}.';
