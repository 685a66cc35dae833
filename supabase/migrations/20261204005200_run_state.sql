-- Generated from sql/52_run_state.sql by `make migrations`: edit sql/52_run_state.sql, not this file.
-- 52_run_state.sql: what a solve writes about its run, as small named functions.
--
--   planner._run_cancelled(run)                        the poll during a solve: stop now?
--   planner._lock_if_still_ours(run, status, attempt)  lock the run before writing; false when it moved on
--   planner._log_event(run, level, event, ...)         one row of planner_execution_logs
--   planner._finish_run(run, status, attempt, ...)     the final status, fenced, and its "finished" log row
--   planner._replace_lines(allocation run, lines, ...) snapshot the current lines, then replace them
--
-- receptor_planner.pg (solve_run, the worker loop, restore) calls these by name; each is one
-- statement there, as the inline SQL it replaces was. They run as their caller: solve_run and the
-- worker as the owner, restore_job_lines as its definer (the owner). Nobody else may call them:
-- 90_grants.sql revokes EXECUTE on every routine of schema planner and grants none of these.
--
-- The fence: a solve remembers the status and attempt its run had when it started. Every write of
-- an outcome matches on both, so a run cancelled meanwhile (CANCELLED) or rescued (PENDING again,
-- or FAILED, or claimed again with attempt + 1) gets nothing written by the late solve. None of these
-- functions commits: the worker commits each status change on its own (Realtime sees each one).

-- ---------------------------------------------------------------- fencing

create or replace function planner._run_cancelled(run_id uuid) returns boolean
language plpgsql stable
set search_path = pg_catalog, public, planner
as $$
declare
  current_status text;
begin
  -- Read committed: each call sees a CANCELLED committed since the last one.
  select r.status into current_status from public.allocation_planner_runs r where r.id = _run_cancelled.run_id;
  return not found or current_status = 'CANCELLED';
end
$$;
comment on function planner._run_cancelled(uuid) is
  'Whether a solve in progress must stop: its run is CANCELLED or gone. Polled while CP-SAT works.';

create or replace function planner._lock_if_still_ours(run_id uuid, from_status text, from_attempt int)
returns boolean
language plpgsql
set search_path = pg_catalog, public, planner
as $$
begin
  -- FOR UPDATE: from here to the commit nobody (cancel, rescue) changes the run under the write.
  perform 1 from public.allocation_planner_runs r
   where r.id = _lock_if_still_ours.run_id
     and r.status = _lock_if_still_ours.from_status
     and r.attempt = _lock_if_still_ours.from_attempt
     for update;
  return found;
end
$$;
comment on function planner._lock_if_still_ours(uuid, text, int) is
  'Locks a planner run (FOR UPDATE) if it still has the status and attempt the solve started from, '
  'and says whether it does: lines are written only under this lock, never for a cancelled or rescued run.';

-- ---------------------------------------------------------------- the log

create or replace function planner._log_event(run_id uuid, level text, event text, message text,
                                              data jsonb default null)
returns void
language plpgsql
set search_path = pg_catalog, public, planner
as $$
begin
  -- clock_timestamp, not the default now(): a worker's transaction may have begun long before this event.
  -- org_id comes from the run (a trigger, 30_triggers.sql).
  insert into public.planner_execution_logs (planner_run_id, level, event, message, data, created_at)
  values (_log_event.run_id, _log_event.level, _log_event.event, _log_event.message, _log_event.data,
          clock_timestamp());
end
$$;
comment on function planner._log_event(uuid, text, text, text, jsonb) is
  'Appends one event (claimed, solved, cancelled, finished...) of a planner run to planner_execution_logs, '
  'stamped with the time it happened rather than the transaction''s start.';

-- ---------------------------------------------------------------- the outcome

create or replace function planner._finish_run(run_id uuid, from_status text, from_attempt int, to_status text,
                                               metadata jsonb, error_text text, log_data jsonb default null)
returns boolean
language plpgsql
set search_path = pg_catalog, public, planner
as $$
begin
  update public.allocation_planner_runs r
     set status = _finish_run.to_status,
         -- null keeps what the run has (the worker's write after a cancelled statement has none)
         result_metadata = coalesce(_finish_run.metadata, r.result_metadata),
         error = _finish_run.error_text,
         -- clock_timestamp: in a worker loop this transaction began before the solve
         finished_at = clock_timestamp(),
         started_at = coalesce(r.started_at, transaction_timestamp())
   where r.id = _finish_run.run_id
     and r.status = _finish_run.from_status
     and r.attempt = _finish_run.from_attempt;
  if not found then
    return false;  -- fenced: the run was cancelled or rescued meanwhile
  end if;
  perform planner._log_event(
    _finish_run.run_id,
    case _finish_run.to_status when 'COMPLETED' then 'info' when 'INFEASIBLE' then 'warning' else 'error' end,
    'finished',
    _finish_run.to_status || coalesce(': ' || nullif(_finish_run.error_text, ''), ''),
    _finish_run.log_data);
  return true;
end
$$;
comment on function planner._finish_run(uuid, text, int, text, jsonb, text, jsonb) is
  'Sets a planner run''s final status, result_metadata (null keeps it) and error, fenced on the status and '
  'attempt the solve started from, and logs "finished" with log_data; false, writing nothing, when the run '
  'was cancelled or rescued meanwhile.';

-- ---------------------------------------------------------------- the lines

create or replace function planner._replace_lines(allocation_run uuid, lines jsonb, written_by uuid,
                                                  replaced_by uuid)
returns int
language plpgsql
set search_path = pg_catalog, public, planner
as $$
declare
  run_org uuid;
begin
  select a.org_id into run_org from public.allocation_runs a where a.id = _replace_lines.allocation_run;
  if not found then
    raise exception 'allocation_run: no allocation run with id %', _replace_lines.allocation_run
      using errcode = 'no_data_found';
  end if;
  -- The current lines, as a solution document, with the run that wrote them; none, no snapshot.
  insert into public.job_lines_history (allocation_run_id, planner_run_id, written_by, snapshot)
  select _replace_lines.allocation_run, _replace_lines.replaced_by,
         (select jl.planner_run_id from public.job_lines jl
           where jl.allocation_run_id = _replace_lines.allocation_run limit 1),
         planner.export_solution(_replace_lines.allocation_run)
   where exists (select 1 from public.job_lines jl where jl.allocation_run_id = _replace_lines.allocation_run);
  delete from public.job_lines jl where jl.allocation_run_id = _replace_lines.allocation_run;
  -- Line n of the document is line_no n; positions by key within the allocation run's org.
  with doc as (select line.value, line.n
                 from jsonb_array_elements(_replace_lines.lines) with ordinality as line(value, n)),
  new_lines as (
    insert into public.job_lines (allocation_run_id, planner_run_id, line_no, name)
    select _replace_lines.allocation_run, _replace_lines.written_by, doc.n, doc.value ->> 'name' from doc
    returning id, line_no)
  insert into public.rotations (job_line_id, kind, position_id, term, start_week, end_week, start_date, end_date)
  select nl.id, rot.value ->> 'kind', pos.id, (rot.value ->> 'term')::int, (rot.value ->> 'start_week')::int,
         (rot.value ->> 'end_week')::int, (rot.value ->> 'start_date')::date, (rot.value ->> 'end_date')::date
    from new_lines nl
    join doc on doc.n = nl.line_no
   cross join jsonb_array_elements(doc.value -> 'rotations') as rot(value)
    left join public.positions pos on pos.org_id = run_org and pos.key = rot.value ->> 'position';
  return jsonb_array_length(_replace_lines.lines);
end
$$;
comment on function planner._replace_lines(uuid, jsonb, uuid, uuid) is
  'Replaces an allocation run''s job lines and rotations with the lines of a solution document, first '
  'snapshotting the current ones into job_lines_history (replaced by replaced_by; null for a restore). One '
  'call, so an error leaves the old lines whole. Returns the number of lines written.';
