-- Generated from sql/60_queue.sql by `make migrations`: edit sql/60_queue.sql, not this file.
-- 60_queue.sql: planner runs as a queue. Settings, the status machine, and the
-- guard rails on inserting runs. The worker itself is in 61_worker.sql.

-- ---------------------------------------------------------------- settings

create table if not exists planner.settings (
  only_row                boolean primary key default true constraint settings_has_one_row check (only_row),
  max_concurrent_solves   int not null default 1
    constraint max_concurrent_solves_between_1_and_16 check (max_concurrent_solves between 1 and 16),
  solver_threads          int not null default 2
    constraint solver_threads_between_1_and_16 check (solver_threads between 1 and 16),
  max_attempts            int not null default 2
    constraint max_attempts_between_1_and_10 check (max_attempts between 1 and 10),
  deadline_margin_seconds int not null default 30
    constraint deadline_margin_seconds_is_positive check (deadline_margin_seconds > 0),
  max_queued_per_org      int not null default 20
    constraint max_queued_per_org_is_positive check (max_queued_per_org > 0),
  poll_seconds            numeric not null default 0.25
    constraint poll_seconds_between_0_05_and_5 check (poll_seconds between 0.05 and 5),
  solve_nice              int not null default 10
    constraint solve_nice_between_0_and_19 check (solve_nice between 0 and 19),
  schedule_enabled        boolean not null default true
);
comment on table planner.settings is
  'Queue settings (one row): concurrent solves, CP-SAT threads per solve, attempts, deadline margin, '
  'queued runs per org, the worker''s poll interval, the CPU niceness of solving threads, whether '
  'pg_cron drives the workers, and how many runs of one org may solve at once (max_concurrent_per_org).';
-- Added by name, so a database made before it gets it too (create table if not exists keeps the old table).
alter table planner.settings add column if not exists max_concurrent_per_org int not null default 1
  constraint max_concurrent_per_org_between_1_and_16 check (max_concurrent_per_org between 1 and 16);
insert into planner.settings default values on conflict do nothing;
-- Only the owner (the planner's migrations) reads or changes it; no policy grants anyone else.
alter table planner.settings enable row level security;

create or replace function planner._settings() returns planner.settings
language sql stable set search_path = pg_catalog
as $$ select * from planner.settings $$;
comment on function planner._settings() is 'The queue settings row.';

-- ---------------------------------------------------------------- locks

-- Advisory lock keys: (namespace, id). A worker holds (slot namespace, slot)
-- for its lifetime, and (run namespace, hash of the run id) while it solves:
-- the rescuer tells a dead solve from a live one by whether it is free.
create or replace function planner._run_lock(run_id uuid) returns bigint
language sql immutable set search_path = pg_catalog
as $$ select (7157::bigint << 32) | (hashtext(run_id::text)::bigint & x'ffffffff'::bigint) $$;
comment on function planner._run_lock(uuid) is 'The advisory lock a worker holds while it solves this run.';

create or replace function planner._slot_lock(slot int) returns bigint
language sql immutable set search_path = pg_catalog
as $$ select (7158::bigint << 32) | slot $$;
comment on function planner._slot_lock(int) is 'The advisory lock of a worker slot: one worker per slot.';

-- ---------------------------------------------------------------- status machine

create or replace function planner._check_status_change() returns trigger
language plpgsql set search_path = pg_catalog
as $$
begin
  -- PENDING -> GENERATING (claimed), -> CANCELLED, or straight to an outcome (a synchronous solve_run);
  -- GENERATING -> an outcome, CANCELLED, or PENDING (re-queued by the rescuer). Outcomes are final.
  if (old.status = 'PENDING' and new.status in ('GENERATING', 'CANCELLED', 'COMPLETED', 'INFEASIBLE', 'FAILED'))
     or (old.status = 'GENERATING' and new.status in ('COMPLETED', 'INFEASIBLE', 'FAILED', 'CANCELLED', 'PENDING'))
  then
    return new;
  end if;
  if new.status not in ('PENDING', 'GENERATING', 'COMPLETED', 'INFEASIBLE', 'FAILED', 'CANCELLED') then
    return new;  -- the status_is_known constraint names it
  end if;
  if new.status = 'CANCELLED' then
    raise exception 'allocation_planner_runs.status: a % run cannot be cancelled; only PENDING and GENERATING runs can',
      old.status using errcode = 'check_violation';
  end if;
  if old.status in ('COMPLETED', 'INFEASIBLE', 'FAILED', 'CANCELLED') then
    raise exception 'allocation_planner_runs.status: a % run cannot become %', old.status, new.status
      using errcode = 'check_violation', hint = 'A finished run is final: insert a new planner run instead.';
  end if;
  raise exception 'allocation_planner_runs.status: a % run cannot become %', old.status, new.status
    using errcode = 'check_violation';
end
$$;
comment on function planner._check_status_change() is
  'Trigger: the status moves only PENDING -> GENERATING -> COMPLETED / INFEASIBLE / FAILED / CANCELLED '
  '(or PENDING straight to an outcome, or GENERATING back to PENDING when rescued); outcomes are final.';

create or replace trigger check_status_change before update of status on public.allocation_planner_runs
  for each row when (old.status is distinct from new.status)
  execute function planner._check_status_change();

-- ---------------------------------------------------------------- guard rails

-- At most one active run per allocation run: the trigger below says so clearly,
-- this index makes it true under any concurrency.
create unique index if not exists one_active_run_per_allocation_run
  on public.allocation_planner_runs (allocation_run) where status in ('PENDING', 'GENERATING');

create or replace function planner._check_new_run() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  active public.allocation_planner_runs;
  queued int;
  cap    int := (planner._settings()).max_queued_per_org;
begin
  -- A run is born queued; only the worker (or solve_run) writes its outcome.
  if new.status <> 'PENDING' or new.attempt <> 0 or new.result_metadata is not null or new.error is not null
     or new.started_at is not null or new.finished_at is not null or new.worker_pid is not null then
    raise exception 'allocation_planner_runs.status: a new planner run is PENDING with no outcome yet, not %',
      new.status using errcode = 'check_violation', hint = 'Insert the request only; the worker sets the rest.';
  end if;
  -- Serialise inserts per org so the cap holds under concurrency.
  perform pg_advisory_xact_lock(7159, hashtext(new.org_id::text));
  select * into active from public.allocation_planner_runs
   where allocation_run = new.allocation_run and status in ('PENDING', 'GENERATING') limit 1;
  if found then
    raise exception 'allocation_planner_runs.allocation_run: allocation run % already has an active planner run % (%)',
      new.allocation_run, active.id, active.status
      using errcode = 'unique_violation', hint = 'Cancel it, or wait for it to finish.';
  end if;
  select count(*) into queued from public.allocation_planner_runs where org_id = new.org_id and status = 'PENDING';
  if queued >= cap then
    raise exception 'allocation_planner_runs: this org already has % queued planner runs, the most allowed', queued
      using errcode = 'program_limit_exceeded',
            hint = 'Wait for queued runs to start, or raise planner.settings.max_queued_per_org.';
  end if;
  return new;
end
$$;
comment on function planner._check_new_run() is
  'Trigger: a new run is PENDING with no outcome, its allocation run has no other active run, and its org has fewer than '
  'planner.settings.max_queued_per_org queued runs.';

-- Named to sort after the trigger that fills org_id (triggers fire in name order).
create or replace trigger zz_check_new_run before insert on public.allocation_planner_runs
  for each row execute function planner._check_new_run();

-- ---------------------------------------------------------------- cancel

-- Invoker: RLS decides (planners of the run's org; service_role and the owner bypass it).
create or replace function planner.cancel_run(run_id uuid) returns text
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  current_status text;
  result         text;
begin
  select r.status into current_status from public.allocation_planner_runs r where r.id = run_id;
  if not found then  -- the same answer for another org's run as for none
    raise exception 'run_id: no planner run with id %', run_id using errcode = 'invalid_parameter_value';
  end if;
  if current_status not in ('PENDING', 'GENERATING') then
    raise exception 'allocation_planner_runs.status: a % run cannot be cancelled; only PENDING and GENERATING runs can',
      current_status using errcode = 'check_violation';
  end if;
  update public.allocation_planner_runs set status = 'CANCELLED', finished_at = now(),
         error = coalesce(error, 'cancelled by ' || coalesce('user ' || auth.uid(), session_user))
   where id = run_id returning status into result;
  if not found then  -- visible, but the policy lets only the org's planners cancel
    raise exception 'run_id: permission denied: only planners of its org may cancel planner run %', run_id
      using errcode = 'insufficient_privilege';
  end if;
  return result;
end
$$;
comment on function planner.cancel_run(uuid) is
  'Cancels a PENDING or GENERATING run (the same as setting status = ''CANCELLED''): a solve in progress '
  'stops within a poll and writes nothing. Any other status is rejected. Planners of the run''s org, '
  'service_role and the owner.';
