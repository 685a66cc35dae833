-- Generated from sql/50_solve.sql by `make migrations`: edit sql/50_solve.sql, not this file.
-- 50_solve.sql: solving a planner run inside the database.

create or replace function planner._solve_run(run_id uuid) returns jsonb
language plpython3u
set search_path = pg_catalog, public, planner
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
import json
from receptor_planner.pg import solve_run
return json.dumps(solve_run(plpy, run_id), default=str)
$$;
comment on function planner._solve_run(uuid) is
  'Does the work of planner.solve_run (receptor_planner.pg.solve_run).';

create or replace function planner.solve_run(run_id uuid) returns jsonb
language plpgsql
set search_path = pg_catalog, public, planner
as $$
declare
  current_status text;
begin
  select r.status into current_status from public.allocation_planner_runs r where r.id = solve_run.run_id;
  if not found then
    raise exception 'run_id: no planner run with id %', run_id using errcode = 'invalid_parameter_value';
  end if;
  if current_status not in ('PENDING', 'GENERATING') then
    raise exception 'run_id: planner run % is %; only a PENDING or GENERATING run is solved', run_id, current_status
      using errcode = 'invalid_parameter_value', hint = 'Insert a new planner run to solve again.';
  end if;
  return planner._solve_run(run_id);
end
$$;
comment on function planner.solve_run(uuid) is
  'Solves a PENDING or GENERATING planner run with CP-SAT and, in the same transaction, snapshots the '
  'allocation run''s lines into job_lines_history, replaces them and sets COMPLETED; or sets INFEASIBLE '
  '(with result_metadata.explanation) or FAILED (with error), leaving the lines as they were. Lines are '
  'written only when the independent checker finds no violation in them and no reported metric they '
  'contradict; else FAILED with result_metadata.violations (the first 50 and the total). A committed '
  'CANCELLED stops it and nothing is written. Returns {run_id, status, written, error, explanation, metrics}.';
