-- 11_plan_tables.sql: the problem a planner run solves: a plan (cohort, term
-- structure, leave), an allocation run (start date, period), the posts offered
-- per term and the pins the user fixed by hand.

create table if not exists public.allocation_plans (
  id         uuid primary key default gen_random_uuid(),
  org_id     uuid not null references public.orgs on delete cascade,
  name       text not null constraint name_is_not_blank check (btrim(name) <> ''),
  cohort     text not null constraint cohort_is_known check (cohort in ('PGY1', 'PGY2', 'PGY3+')),
  term_weeks int[] not null
    constraint term_weeks_has_1_to_13_terms
      check (array_ndims(term_weeks) = 1 and cardinality(term_weeks) between 1 and 13)
    constraint term_weeks_are_positive
      check (array_position(term_weeks, null) is null and 0 < all (term_weeks)),
  -- The instance document's leave object with every default filled in (a trigger normalises it).
  leave      jsonb not null constraint leave_is_an_object check (jsonb_typeof(leave) = 'object'),
  created_at timestamptz not null default now(),
  unique (id, org_id)  -- target of allocation_runs' same-org foreign key
);
comment on table public.allocation_plans is
  'A term structure and leave settings for a cohort: term_weeks in weeks, leave as in the instance document.';
alter table public.allocation_plans enable row level security;

create table if not exists public.allocation_runs (
  id                  uuid primary key default gen_random_uuid(),
  org_id              uuid not null references public.orgs on delete cascade,
  plan_id             uuid not null,
  name                text,
  start_date          date not null
    constraint start_date_is_a_monday check (extract(isodow from start_date) = 1),
  period_weeks        int not null default 52
    constraint period_weeks_between_1_and_104 check (period_weeks between 1 and 104),
  affinity_profile_id uuid references public.affinity_profiles,
  created_at          timestamptz not null default now(),
  constraint plan_is_of_the_same_org foreign key (plan_id, org_id)
    references public.allocation_plans (id, org_id)
);
comment on table public.allocation_runs is
  'One clinical year of one cohort at one org: a start Monday and a period that the plan''s terms tile.';
alter table public.allocation_runs enable row level security;
create index if not exists allocation_runs_plan_id_idx on public.allocation_runs (plan_id);

create table if not exists public.allocation_run_posts (
  allocation_run_id uuid not null references public.allocation_runs on delete cascade,
  -- Deferred: deleting an org cascades to positions before runs (and so posts); checked at commit, a
  -- position still offered cannot be deleted, but the whole org can.
  position_id       uuid not null references public.positions deferrable initially deferred,
  term              int not null constraint term_is_positive check (term >= 1),
  capacity          int not null constraint capacity_is_not_negative check (capacity >= 0),
  min_fill          int not null default 0 constraint min_fill_is_not_negative check (min_fill >= 0),
  constraint min_fill_at_most_capacity check (min_fill <= capacity),
  primary key (allocation_run_id, position_id, term)
);
comment on table public.allocation_run_posts is
  'A row means the position is offered in that term of the run, with its capacity (most lines) '
  'and min_fill (fewest lines).';
alter table public.allocation_run_posts enable row level security;
create index if not exists allocation_run_posts_position_id_idx on public.allocation_run_posts (position_id);

create table if not exists public.allocation_run_pins (
  allocation_run_id uuid not null references public.allocation_runs on delete cascade,
  line_no           int not null constraint line_no_between_1_and_2000 check (line_no between 1 and 2000),
  term              int not null,
  position_id       uuid not null,
  primary key (allocation_run_id, line_no, term),
  -- A pin can only hold a post the run offers in that term (and of the run's org).
  constraint pinned_position_is_offered_in_the_term foreign key (allocation_run_id, position_id, term)
    references public.allocation_run_posts (allocation_run_id, position_id, term)
);
comment on table public.allocation_run_pins is
  'Placements (line, term, position) fixed by hand that every solve must keep.';
alter table public.allocation_run_pins enable row level security;

-- Limits, as receptor_planner.instance's MAX_TITLE_CHARS and MAX_CAPACITY (tests/test_bad_input.py
-- checks that they agree): a plan or run name is made from an org name, a cohort and a year; a post
-- never holds more lines than a planner run can make. Added by name, so applying this file again, or
-- to a database made before a limit existed, adds only the missing ones.
select planner._add_check('allocation_plans', 'name_is_at_most_256_characters', 'char_length(name) <= 256');
select planner._add_check('allocation_runs', 'name_is_at_most_256_characters', 'char_length(name) <= 256');
select planner._add_check('allocation_run_posts', 'capacity_is_at_most_2000', 'capacity <= 2000');
