-- 61_worker.sql: the worker that solves queued runs, the rescuer of dead solves,
-- and the pg_cron schedule that drives both.
--
-- pg_cron 1.4 (Debian 12) fires at most once a minute, so each worker slot is a
-- job that loops for a minute, polling for PENDING runs every poll_seconds; a
-- run inserted at any moment starts within one poll. pg_cron never overlaps two
-- runs of one job and queues the next, so a slot's loops follow each other.

-- The worker is a DO block, not a procedure: it commits between status changes, and a routine
-- that commits cannot carry a SET clause, so a procedure could not fix its search_path (which
-- Supabase's advisors require of every routine). A DO block is no routine: only a superuser may
-- run one in plpython3u, which is who pg_cron runs the planner's jobs as.
drop procedure if exists planner.work(int, int);

create or replace function planner.worker_statement(slot int default 1, seconds int default 60) returns text
language sql immutable set search_path = pg_catalog
as $fn$
  select format($worker$do language plpython3u $do$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.pg import work
work(plpy, %s, %s)
$do$$worker$, slot, seconds)
$fn$;
-- 60 s: the loop outlives the minute, so pg_cron has queued the next run and starts it at once.
comment on function planner.worker_statement(int, int) is
  'The statement of the worker loop for one slot, a DO block to run at top level (what the pg_cron jobs '
  'run; psql: SELECT planner.worker_statement(1, 60) \gexec): it holds the slot''s advisory lock (one '
  'worker per slot), claims PENDING runs oldest first with SKIP LOCKED, commits GENERATING, solves, and '
  'commits the outcome with the lines; loops for about `seconds`. It returns at once when another worker '
  'holds the slot or the slot is above planner.settings.max_concurrent_solves.';

create or replace function planner._claim_run() returns public.allocation_planner_runs
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  claimed public.allocation_planner_runs;
  per_org int := (planner._settings()).max_concurrent_per_org;
begin
  -- One claim at a time (a lock of the claim's own short transaction: the worker commits right after),
  -- so two workers never both take an org's last free place.
  perform pg_advisory_xact_lock(planner._claim_lock());
  with solving as (
    select org_id, count(*) as n from public.allocation_planner_runs where status = 'GENERATING' group by org_id),
  queued as (
    -- Round robin by org: an org's k-th queued run (counting what it already has solving) waits for every
    -- other org's k-th; oldest first within an org. An org at its cap of concurrent solves waits.
    select r.id, r.created_at,
           row_number() over (partition by r.org_id order by r.created_at, r.id) + coalesce(s.n, 0) as turn
      from public.allocation_planner_runs r
      left join solving s on s.org_id = r.org_id
     where r.status = 'PENDING' and coalesce(s.n, 0) < per_org)
  update public.allocation_planner_runs r
     set status = 'GENERATING', started_at = clock_timestamp(), finished_at = null, worker_pid = pg_backend_pid(),
         attempt = r.attempt + 1
   where r.id = (select q.id from queued q join public.allocation_planner_runs p on p.id = q.id
                  order by q.turn, q.created_at, q.id
                  for update of p skip locked
                  limit 1)
  returning r.* into claimed;
  return claimed;
end
$$;
-- clock_timestamp, not now(): planner.work's transaction may have begun a poll interval before the claim.
comment on function planner._claim_run() is
  'Claims the next PENDING run fairly (FOR UPDATE SKIP LOCKED): round robin by org, oldest first within an '
  'org, none of an org already solving planner.settings.max_concurrent_per_org runs; sets GENERATING, '
  'started_at, this backend''s pid, attempt + 1. Null when none may start.';

create or replace function planner._claim_lock() returns bigint
language sql immutable set search_path = pg_catalog
as $$ select (7159::bigint << 32) $$;
comment on function planner._claim_lock() is 'The advisory lock that makes claims one at a time.';

create or replace function planner.rescue() returns int
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  run      record;
  settings planner.settings := planner._settings();
  dead     boolean;
  overdue  boolean;
  rescued  int := 0;
begin
  for run in
    select r.*, coalesce((r.options ->> 'max_seconds')::numeric, 60) as max_seconds
      from public.allocation_planner_runs r
     where r.status = 'GENERATING'
     for update skip locked  -- a worker writing its outcome holds the row: leave it be
  loop
    -- The solving worker holds the run's lock for as long as it lives.
    dead := pg_try_advisory_lock(planner._run_lock(run.id));
    if dead then
      perform pg_advisory_unlock(planner._run_lock(run.id));
    end if;
    overdue := run.started_at + make_interval(secs => run.max_seconds + settings.deadline_margin_seconds) < now();
    if dead and run.attempt < settings.max_attempts then
      update public.allocation_planner_runs
         set status = 'PENDING', worker_pid = null,
             error = format('attempt %s: the solving backend (pid %s) is gone; queued again', run.attempt, run.worker_pid)
       where id = run.id and status = 'GENERATING' and attempt = run.attempt;
    elsif dead or overdue then
      update public.allocation_planner_runs
         set status = 'FAILED', finished_at = now(),
             error = case when dead
                          then format('the solving backend (pid %s) is gone after %s attempt(s)', run.worker_pid, run.attempt)
                          else format('no outcome %s s after the start: past max_seconds (%s) plus the margin (%s s)',
                                      round(extract(epoch from now() - run.started_at)), run.max_seconds,
                                      settings.deadline_margin_seconds) end
       where id = run.id and status = 'GENERATING' and attempt = run.attempt;
      if not dead then
        perform pg_cancel_backend(run.worker_pid);  -- its late write is fenced out anyway
      end if;
    else
      continue;
    end if;
    insert into public.planner_execution_logs (planner_run_id, level, event, message)
    values (run.id, 'warning', 'rescued',
            (select format('%s: %s', status, error) from public.allocation_planner_runs where id = run.id));
    rescued := rescued + 1;
  end loop;
  return rescued;
end
$$;
comment on function planner.rescue() is
  'Rescues GENERATING runs whose solving backend is gone (its advisory lock is free): queued again while '
  'attempts remain, else FAILED; and fails runs past max_seconds plus the deadline margin. Every update is '
  'fenced on status and attempt, so a run that just finished is never touched. Returns how many it rescued.';

-- ---------------------------------------------------------------- schedule

create or replace function planner.schedule_workers() returns int
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  settings planner.settings := planner._settings();
  wanted   text[] := '{}'::text[];
  job      record;
  jobs     int := 0;
begin
  if settings.schedule_enabled then
    wanted := array(select format('planner-worker-%s', s) from generate_series(1, settings.max_concurrent_solves) s)
              || array['planner-rescue', 'planner-prune'];
  end if;
  -- Remove only the jobs no longer wanted. pg_cron cancels the run in progress of a job that goes away,
  -- so dropping and re-creating every job (this runs on each schema load, e.g. `planner db start`)
  -- would kill the solve a worker is doing. cron.schedule by name updates a job in place (same jobid).
  for job in select jobid from cron.job where jobname like 'planner-%' and jobname <> all(wanted) loop
    perform cron.unschedule(job.jobid);
  end loop;
  if not settings.schedule_enabled then
    return 0;
  end if;
  for slot in 1 .. settings.max_concurrent_solves loop
    perform cron.schedule(format('planner-worker-%s', slot), '* * * * *', planner.worker_statement(slot));
    jobs := jobs + 1;
  end loop;
  perform cron.schedule('planner-rescue', '* * * * *', 'select planner.rescue()');
  perform cron.schedule('planner-prune', '17 3 * * *', 'select planner.prune()');  -- daily, off the hour
  return jobs + 2;
end
$$;
comment on function planner.schedule_workers() is
  'Installs the pg_cron jobs (one worker per concurrent solve, the rescuer, the daily prune), updating existing ones in '
  'place (their runs in progress go on) and removing the ones no longer wanted; installs nothing when '
  'planner.settings.schedule_enabled is false. Idempotent. Returns the job count.';

create or replace function planner.unschedule_workers() returns int
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  job record;
  n   int := 0;
begin
  for job in select jobid from cron.job where jobname like 'planner-%' loop
    perform cron.unschedule(job.jobid);
    n := n + 1;
  end loop;
  return n;
end
$$;
comment on function planner.unschedule_workers() is
  'Removes the planner''s pg_cron jobs (for DBAs who run planner.work their own way). Returns how many.';

-- The schedule follows the settings on every schema load.
select planner.schedule_workers();
