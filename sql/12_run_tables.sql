-- 12_run_tables.sql: planner runs and what they produce: job lines, their
-- rotations, snapshots of replaced lines, and the execution log.
--
-- org_id on these tables is always copied from the parent row by a trigger
-- (30_triggers.sql), never trusted from the caller: it is the RLS key.

create table if not exists public.allocation_planner_runs (
  id              uuid primary key default gen_random_uuid(),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  org_id          uuid not null references public.orgs on delete cascade,
  allocation_run  uuid not null references public.allocation_runs on delete cascade,
  status          text not null default 'PENDING'
    constraint status_is_known
      check (status in ('PENDING', 'GENERATING', 'COMPLETED', 'INFEASIBLE', 'FAILED', 'CANCELLED')),
  n_job_lines     int not null
    constraint n_job_lines_between_1_and_2000 check (n_job_lines between 1 and 2000),
  constraints     text[] not null default '{UNRESTRICTED}',
  -- allow_partial, max_seconds, seed, num_workers: validated by receptor_planner.instance.parse_request.
  options         jsonb not null default '{}'
    constraint options_is_an_object check (jsonb_typeof(options) = 'object'),
  result_metadata jsonb,
  error           text,
  started_at      timestamptz,
  finished_at     timestamptz,
  attempt         int not null default 0 constraint attempt_is_not_negative check (attempt >= 0),
  worker_pid      int,
  -- The affinity profile this run optimises; null: the allocation run's own (or none).
  affinity_profile_id uuid references public.affinity_profiles on delete set null
);
comment on table public.allocation_planner_runs is
  'A request to generate n_job_lines lines for an allocation run under named rulesets, and its outcome.';
-- Databases made before the column existed get it here.
alter table public.allocation_planner_runs
  add column if not exists affinity_profile_id uuid references public.affinity_profiles on delete set null;
alter table public.allocation_planner_runs enable row level security;
create index if not exists allocation_planner_runs_allocation_run_idx
  on public.allocation_planner_runs (allocation_run);
-- The dispatcher claims pending runs oldest first.
create index if not exists allocation_planner_runs_pending_idx
  on public.allocation_planner_runs (created_at) where status = 'PENDING';

create table if not exists public.job_lines (
  id                uuid primary key default gen_random_uuid(),
  org_id            uuid not null references public.orgs on delete cascade,
  allocation_run_id uuid not null references public.allocation_runs on delete cascade,
  planner_run_id    uuid references public.allocation_planner_runs on delete set null,
  line_no           int not null constraint line_no_between_1_and_2000 check (line_no between 1 and 2000),
  name              text,
  created_at        timestamptz not null default now(),
  unique (allocation_run_id, line_no)
);
comment on table public.job_lines is
  'The current job lines of an allocation run: anonymous year-long templates, one doctor each.';
alter table public.job_lines enable row level security;
create index if not exists job_lines_planner_run_id_idx on public.job_lines (planner_run_id);

create table if not exists public.rotations (
  id          uuid primary key default gen_random_uuid(),
  org_id      uuid not null references public.orgs on delete cascade,
  job_line_id uuid not null references public.job_lines on delete cascade,
  kind        text not null constraint kind_is_clinical_or_leave check (kind in ('clinical', 'leave')),
  position_id uuid references public.positions deferrable initially deferred,  -- see allocation_run_posts
  term        int not null constraint term_is_positive check (term >= 1),
  start_week  int not null constraint start_week_is_positive check (start_week >= 1),
  end_week    int not null,
  -- Filled from the weeks when omitted; checked against them when given (30_triggers.sql).
  start_date  date not null,
  end_date    date not null,
  created_at  timestamptz not null default now(),
  constraint position_is_null_exactly_for_leave check ((kind = 'leave') = (position_id is null)),
  constraint end_week_not_before_start_week check (end_week >= start_week)
);
comment on table public.rotations is
  'One row of a job line: weeks start_week..end_week (1-based, inclusive) in a position or on leave.';
alter table public.rotations enable row level security;
create index if not exists rotations_job_line_id_idx on public.rotations (job_line_id, start_week);
create index if not exists rotations_position_id_idx on public.rotations (position_id);

create table if not exists public.job_lines_history (
  id                uuid primary key default gen_random_uuid(),
  org_id            uuid not null references public.orgs on delete cascade,
  allocation_run_id uuid not null references public.allocation_runs on delete cascade,
  planner_run_id    uuid references public.allocation_planner_runs on delete set null,
  written_by        uuid references public.allocation_planner_runs on delete set null,
  snapshot          jsonb not null
    constraint snapshot_is_a_solution_document
      check (snapshot ->> 'format' = 'receptor-planner/solution@1' and jsonb_typeof(snapshot -> 'lines') = 'array'),
  n_lines           int not null constraint n_lines_is_not_negative check (n_lines >= 0),
  created_at        timestamptz not null default now()
);
comment on table public.job_lines_history is
  'Lines replaced by a later planner run (planner_run_id; null when replaced by a restore), kept as '
  'planner.export_solution gave them, with the run that wrote them (written_by).';
alter table public.job_lines_history enable row level security;
create index if not exists job_lines_history_allocation_run_id_idx
  on public.job_lines_history (allocation_run_id, created_at);

create table if not exists public.planner_execution_logs (
  id             bigint generated always as identity primary key,
  planner_run_id uuid not null references public.allocation_planner_runs on delete cascade,
  org_id         uuid not null references public.orgs on delete cascade,
  level          text not null default 'info'
    constraint level_is_known check (level in ('debug', 'info', 'warning', 'error')),
  event          text not null,
  message        text,
  data           jsonb,
  created_at     timestamptz not null default now()
);
comment on table public.planner_execution_logs is 'What a planner run did, event by event.';
alter table public.planner_execution_logs enable row level security;
create index if not exists planner_execution_logs_planner_run_id_idx
  on public.planner_execution_logs (planner_run_id, id);

-- Limits, as receptor_planner.instance's MAX_OPTIONS_CHARS and MAX_NAME_CHARS (tests/test_bad_input.py
-- checks that they agree). The options trigger (planner._options_error) leaves a longer object to this
-- constraint, whose name says why. Added by name, so applying this file again, or to a database made
-- before a limit existed, adds only the missing ones.
select planner._add_check('allocation_planner_runs', 'options_is_at_most_1000_characters', 'char_length(options::text) <= 1000');
select planner._add_check('job_lines', 'name_is_at_most_200_characters', 'char_length(name) <= 200');
