-- 15_edit_tables.sql: what hand edits of job lines need in the tables: a lock on a line, and the
-- record of every edit (57_hand_edits.sql writes both).
--
-- The column on job_lines is added with IF NOT EXISTS, so a database made before hand edits gets it
-- when the schema is applied again (and a Supabase project as a migration of its own).

-- ---------------------------------------------------------------- a locked line

-- Changed only through planner.lock_line and planner.unlock_line (no column grant), which record it.
-- A locked line refuses every edit until it is unlocked; a re-solve with options.keep_locked keeps it.
alter table public.job_lines
  add column if not exists locked boolean not null default false;
comment on column public.job_lines.locked is
  'Whether a planner locked the line (planner.lock_line): no hand edit changes it, and a re-solve with '
  'options.keep_locked keeps it exactly (its posts become pins of the solve).';

-- ---------------------------------------------------------------- the record of hand edits

create table if not exists public.job_line_edits (
  id                bigint generated always as identity primary key,
  org_id            uuid not null references public.orgs on delete cascade,
  allocation_run_id uuid not null references public.allocation_runs on delete cascade,
  -- No foreign key: the record outlives the line (a solve or a restore replaces every line).
  job_line_id       uuid not null,
  line_no           int not null,
  verb              text not null
    constraint verb_is_known
      check (verb in ('assign_post', 'swap_posts', 'move_leave', 'lock_line', 'unlock_line', 'direct edit')),
  edited_by         uuid,  -- auth.uid() of the signed-in user; null for service_role
  -- The database role the edit was made as (authenticated, service_role, ...): a role name.
  edited_as         text not null constraint edited_as_is_a_role_name check (char_length(edited_as) <= 63),
  edited_at         timestamptz not null default clock_timestamp(),
  before            jsonb,
  after             jsonb,
  constraint before_or_after_is_given check (before is not null or after is not null)
);
comment on table public.job_line_edits is
  'Every hand edit of a job line: who (edited_by, edited_as), when, which line, the verb (a planner.* verb, or '
  '''direct edit'' for a row written to job_lines or rotations), and the line before and after: for a verb '
  'and a direct edit of job_lines, {line_no, name, locked, rotations}; for a direct edit of rotations, the '
  'rotation row. Null before: a row inserted; null after: deleted. Written only by the hand-edit verbs and '
  'triggers (57_hand_edits.sql); the lines a solve or a restore replaces are kept in job_lines_history.';
alter table public.job_line_edits enable row level security;
create index if not exists job_line_edits_allocation_run_id_idx
  on public.job_line_edits (allocation_run_id, id);
