-- Generated from sql/30_triggers.sql by `make migrations`: edit sql/30_triggers.sql, not this file.
-- 30_triggers.sql: rules a check constraint cannot state (they read another
-- row), and columns the caller must not set (org_id, updated_at).
--
-- Trigger functions are SECURITY DEFINER with a fixed search_path: they must
-- see parent rows whatever RLS shows the caller, and call private helpers the
-- caller has no EXECUTE on. Messages start with "table.column:".

-- ---------------------------------------------------------------- members only, before anything else

-- Invoker, so current_user is the caller and the parent is looked up under the caller's RLS.
-- The BEFORE triggers below run before a policy's WITH CHECK and read parent rows whatever RLS
-- shows, so their messages (a plan's name, a run's cohort, an active run's id) would tell an
-- outsider about another org. This gate fires first (triggers fire in name order) and answers
-- every outsider the same, whether the parent exists or not.
create or replace function planner._authorize_write() returns trigger
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  parent_table  text := tg_argv[0];  -- e.g. allocation_runs, or orgs for a row's own org_id
  parent_column text := tg_argv[1];  -- column of NEW holding the parent id
  at_least      text := tg_argv[2];  -- viewer, planner or admin
  parent_id     uuid;
  org           uuid;
begin
  if planner._is_trusted() then
    return new;
  end if;
  execute format('select ($1).%I', parent_column) into parent_id using new;
  if parent_table = 'orgs' then
    org := parent_id;
  else
    execute format('select org_id from public.%I where id = $1', parent_table) into org using parent_id;
  end if;
  if org is null or org not in (select planner._my_orgs(at_least)) then
    raise exception '%.%: permission denied: no % row % in an org where you are a%', tg_table_name,
        parent_column, parent_table, parent_id, case at_least when 'admin' then 'n admin' else ' ' || at_least end
      using errcode = 'insufficient_privilege';
  end if;
  return new;
end
$$;
comment on function planner._authorize_write() is
  'Trigger (first on insert and update): a caller bound by RLS must hold at least the role tg_argv[2] in the '
  'org of the parent row (args: parent table, parent id column, role); one message whether it exists or not.';

create or replace trigger authorize_write before insert or update on public.allocation_runs
  for each row execute function planner._authorize_write('orgs', 'org_id', 'admin');
create or replace trigger authorize_write before insert or update on public.allocation_run_posts
  for each row execute function planner._authorize_write('allocation_runs', 'allocation_run_id', 'admin');
create or replace trigger authorize_write before insert or update on public.allocation_run_pins
  for each row execute function planner._authorize_write('allocation_runs', 'allocation_run_id', 'planner');
create or replace trigger authorize_write before insert or update on public.allocation_planner_runs
  for each row execute function planner._authorize_write('allocation_runs', 'allocation_run', 'planner');
create or replace trigger authorize_write before insert or update on public.job_lines
  for each row execute function planner._authorize_write('allocation_runs', 'allocation_run_id', 'planner');
create or replace trigger authorize_write before insert or update on public.rotations
  for each row execute function planner._authorize_write('job_lines', 'job_line_id', 'planner');

-- ---------------------------------------------------------------- rows stay in their org

-- Named to fire after the gate and before the checks (triggers fire in name order).
create or replace function planner._keep_org() returns trigger
language plpgsql set search_path = pg_catalog
as $$
begin
  -- Moving a row to another org would leave its references (posts, runs, lines) in the old one.
  raise exception '%.org_id: a row cannot move to another org', tg_table_name
    using errcode = 'check_violation', hint = 'Create the row in the other org instead.';
end
$$;
comment on function planner._keep_org() is 'Trigger: org_id of an org''s own rows never changes.';

create or replace trigger block_org_change before update of org_id on public.teams
  for each row when (old.org_id is distinct from new.org_id) execute function planner._keep_org();
create or replace trigger block_org_change before update of org_id on public.positions
  for each row when (old.org_id is distinct from new.org_id) execute function planner._keep_org();
create or replace trigger block_org_change before update of org_id on public.affinity_profiles
  for each row when (old.org_id is distinct from new.org_id) execute function planner._keep_org();
create or replace trigger block_org_change before update of org_id on public.allocation_plans
  for each row when (old.org_id is distinct from new.org_id) execute function planner._keep_org();
create or replace trigger block_org_change before update of org_id on public.allocation_runs
  for each row when (old.org_id is distinct from new.org_id) execute function planner._keep_org();
create or replace trigger block_org_change before update of org_id on public.org_members
  for each row when (old.org_id is distinct from new.org_id) execute function planner._keep_org();

-- ---------------------------------------------------------------- org_id from the parent row

create or replace function planner._org_id_from_parent() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  parent_table  text := tg_argv[0];  -- e.g. allocation_runs
  parent_column text := tg_argv[1];  -- column of NEW holding the parent id
  parent_id     uuid;
  old_parent_id uuid;
  parent_org    uuid;
begin
  execute format('select ($1).%I', parent_column) into parent_id using new;
  if tg_op = 'UPDATE' then
    execute format('select ($1).%I', parent_column) into old_parent_id using old;
    if parent_id is distinct from old_parent_id then
      -- A line moved to another org's run would keep rotations (and their org_id) of the old one.
      raise exception '%.%: a row cannot move to another % row', tg_table_name, parent_column, parent_table
        using errcode = 'check_violation', hint = 'Create the row under the other parent instead.';
    end if;
  end if;
  execute format('select org_id from public.%I where id = $1', parent_table) into parent_org using parent_id;
  if parent_org is null and parent_id is not null then
    raise exception '%.%: no % row with id %', tg_table_name, parent_column, parent_table, parent_id
      using errcode = 'foreign_key_violation';
  end if;
  new.org_id := parent_org;
  return new;
end
$$;
comment on function planner._org_id_from_parent() is
  'Trigger: sets org_id from the parent row (args: parent table, parent id column); the caller''s value is '
  'ignored, and the parent never changes.';

create or replace trigger set_org_id before insert or update of org_id, allocation_run on public.allocation_planner_runs
  for each row execute function planner._org_id_from_parent('allocation_runs', 'allocation_run');
create or replace trigger set_org_id before insert or update of org_id, allocation_run_id on public.job_lines
  for each row execute function planner._org_id_from_parent('allocation_runs', 'allocation_run_id');
create or replace trigger set_org_id before insert or update of org_id, job_line_id on public.rotations
  for each row execute function planner._org_id_from_parent('job_lines', 'job_line_id');
create or replace trigger set_org_id before insert or update of org_id, allocation_run_id on public.job_lines_history
  for each row execute function planner._org_id_from_parent('allocation_runs', 'allocation_run_id');
create or replace trigger set_org_id before insert or update of org_id, planner_run_id on public.planner_execution_logs
  for each row execute function planner._org_id_from_parent('allocation_planner_runs', 'planner_run_id');

-- ---------------------------------------------------------------- updated_at

create or replace function planner._touch_updated_at() returns trigger
language plpgsql set search_path = pg_catalog
as $$
begin
  new.updated_at := clock_timestamp();  -- now() is the transaction's start: planner.work commits mid-call
  return new;
end
$$;
comment on function planner._touch_updated_at() is 'Trigger: keeps updated_at at the time of the last change.';

create or replace trigger touch_updated_at before update on public.allocation_planner_runs
  for each row execute function planner._touch_updated_at();

-- ---------------------------------------------------------------- plans and runs: terms tile the period

create or replace function planner._check_allocation_plan() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  total int := (select sum(w) from unnest(new.term_weeks) w);
  problem text := planner._leave_error(new.leave, new.term_weeks);
  run record;
  line_rule record;
begin
  if problem is not null then
    raise exception 'allocation_plans.%', problem using errcode = 'check_violation';
  end if;
  new.leave := planner._normal_leave(new.leave, new.term_weeks);
  if tg_op = 'UPDATE' then
    for run in select r.name, r.id, r.period_weeks, r.home_site_min_terms
                 from public.allocation_runs r where r.plan_id = new.id loop
      if run.period_weeks <> total then
        raise exception 'allocation_plans.term_weeks: term lengths sum to % weeks, not the period of % of allocation run "%"',
            total, run.period_weeks, coalesce(run.name, run.id::text) using errcode = 'check_violation';
      end if;
      if exists (select 1 from public.allocation_run_posts p
                 where p.allocation_run_id = run.id and p.term > cardinality(new.term_weeks)) then
        raise exception 'allocation_plans.term_weeks: allocation run "%" offers posts after term %',
            coalesce(run.name, run.id::text), cardinality(new.term_weeks) using errcode = 'check_violation';
      end if;
      -- The local rules count terms and placements of a line, which has one per term at most.
      if run.home_site_min_terms > cardinality(new.term_weeks) then
        raise exception 'allocation_plans.term_weeks: allocation run "%" keeps lines at one site for % terms, more than %',
            coalesce(run.name, run.id::text), run.home_site_min_terms, cardinality(new.term_weeks)
          using errcode = 'check_violation';
      end if;
      select lr.name, greatest(lr.min_placements, lr.max_placements) as bound into line_rule
        from public.allocation_run_line_rules lr
       where lr.allocation_run_id = run.id
         and greatest(lr.min_placements, lr.max_placements) > cardinality(new.term_weeks)
       order by lr.ordinal limit 1;
      if found then
        raise exception 'allocation_plans.term_weeks: line rule "%" of allocation run "%" counts % placements, more than % terms',
            line_rule.name, coalesce(run.name, run.id::text), line_rule.bound, cardinality(new.term_weeks)
          using errcode = 'check_violation';
      end if;
    end loop;
  end if;
  return new;
end
$$;
comment on function planner._check_allocation_plan() is
  'Trigger: validates and normalises leave (Python), and keeps the terms tiling the period of every run of the plan '
  'and holding every post, line rule bound and home-site rule of its runs.';

create or replace trigger check_allocation_plan before insert or update of term_weeks, leave
  on public.allocation_plans for each row execute function planner._check_allocation_plan();

-- A profile of another org is neither readable nor usable: shared (org_id null) or the org's own.
create or replace function planner._profile_is_usable(profile uuid, org uuid) returns boolean
language sql stable set search_path = pg_catalog, public
as $$
  select profile is null
      or exists (select 1 from public.affinity_profiles a where a.id = profile and (a.org_id is null or a.org_id = org))
$$;
comment on function planner._profile_is_usable(uuid, uuid) is
  'Whether an affinity profile (or none) may serve the org: a shared one or the org''s own.';

create or replace function planner._check_allocation_run() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  plan     record;
  total    int;
  siteless text;
begin
  -- Only a plan or profile of the run's own org is read: one answer for another org's and a made-up id.
  select p.name, p.term_weeks into plan from public.allocation_plans p
   where p.id = new.plan_id and p.org_id = new.org_id;
  if not found then
    raise exception 'allocation_runs.plan_id: no plan % in this org', new.plan_id
      using errcode = 'foreign_key_violation';
  end if;
  total := (select sum(w) from unnest(plan.term_weeks) w);
  if total <> new.period_weeks then
    raise exception 'allocation_runs.period_weeks: term lengths of plan "%" sum to % weeks, not the period of %',
        plan.name, total, new.period_weeks using errcode = 'check_violation';
  end if;
  if not planner._profile_is_usable(new.affinity_profile_id, new.org_id) then
    raise exception 'allocation_runs.affinity_profile_id: no affinity profile % for this org', new.affinity_profile_id
      using errcode = 'foreign_key_violation';
  end if;
  if new.home_site_min_terms > cardinality(plan.term_weeks) then
    raise exception 'allocation_runs.home_site_min_terms: must be at most %, the terms of plan "%"; got %',
        cardinality(plan.term_weeks), plan.name, new.home_site_min_terms using errcode = 'check_violation';
  end if;
  if new.home_site_min_terms is not null then
    -- The rule counts terms at a site: a post without one could not count toward any.
    select pos.key into siteless
      from public.allocation_run_posts post join public.positions pos on pos.id = post.position_id
     where post.allocation_run_id = new.id and pos.site is null
     order by pos.key collate "C" limit 1;
    if found then
      raise exception 'allocation_runs.home_site_min_terms: position % has no site; every post of a run that keeps '
                      'lines at one site needs one', siteless using errcode = 'check_violation';
    end if;
  end if;
  return new;
end
$$;
comment on function planner._check_allocation_run() is
  'Trigger: the plan is the org''s own and its term lengths sum to period_weeks; the affinity profile is '
  'shipped or the org''s own; home_site_min_terms fits the plan''s terms and every offered post has a site.';

create or replace trigger check_allocation_run
  before insert or update of plan_id, period_weeks, affinity_profile_id, org_id, home_site_min_terms
  on public.allocation_runs for each row execute function planner._check_allocation_run();

-- ---------------------------------------------------------------- posts: a term of the plan, a position of the org

create or replace function planner._check_allocation_run_post() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  n_terms   int;
  run_org   uuid;
  home_site int;
  pos       record;
begin
  select cardinality(p.term_weeks), r.org_id, r.home_site_min_terms into n_terms, run_org, home_site
    from public.allocation_runs r join public.allocation_plans p on p.id = r.plan_id
   where r.id = new.allocation_run_id;
  if not found then
    return new;  -- the foreign key reports a missing run
  end if;
  if new.term not between 1 and n_terms then
    raise exception 'allocation_run_posts.term: term % does not exist; the plan has % terms', new.term, n_terms
      using errcode = 'check_violation';
  end if;
  -- One answer for another org's position and a made-up id: never the other org's key.
  select p.key, p.span, p.site into pos from public.positions p where p.id = new.position_id and p.org_id = run_org;
  if not found then
    raise exception 'allocation_run_posts.position_id: no position % in the org of this allocation run',
      new.position_id using errcode = 'foreign_key_violation';
  end if;
  -- SPAN: a placement starting here must end inside the year (that its terms are offered is checked
  -- at commit, planner._check_placements); a one-term placement starts wherever the post is offered.
  if new.may_start and new.term + pos.span - 1 > n_terms then
    raise exception 'allocation_run_posts.may_start: a placement of position % lasts % terms, so it cannot start '
                    'in term % of %', pos.key, pos.span, new.term, n_terms using errcode = 'check_violation';
  end if;
  if not new.may_start and pos.span = 1 then
    raise exception 'allocation_run_posts.may_start: position % lasts one term, so a placement starts in every '
                    'term it is offered in', pos.key using errcode = 'check_violation';
  end if;
  if home_site is not null and pos.site is null then
    raise exception 'allocation_run_posts.position_id: position % has no site, and this allocation run keeps lines '
                    'at one site (home_site_min_terms)', pos.key using errcode = 'check_violation';
  end if;
  return new;
end
$$;
comment on function planner._check_allocation_run_post() is
  'Trigger: a post is offered in a term the plan has, for a position of the run''s org; a placement may start '
  'only where it ends inside the year (and always, for a one-term post); in a home-site run the post has a site.';

create or replace trigger check_allocation_run_post before insert or update
  on public.allocation_run_posts for each row execute function planner._check_allocation_run_post();

-- ---------------------------------------------------------------- planner runs: rulesets and options (Python)

create or replace function planner._check_planner_run() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  cohort  text;
  run_org uuid;
  problem text;
begin
  select p.cohort, r.org_id into cohort, run_org
    from public.allocation_runs r join public.allocation_plans p on p.id = r.plan_id
   where r.id = new.allocation_run;
  if not planner._profile_is_usable(new.affinity_profile_id, run_org) then
    raise exception 'allocation_planner_runs.affinity_profile_id: no affinity profile % for this org',
      new.affinity_profile_id using errcode = 'foreign_key_violation';
  end if;
  problem := planner._constraints_error(new.constraints, coalesce(cohort, 'PGY3+'));
  if problem is not null then
    raise exception 'allocation_planner_runs.constraints: %', problem using errcode = 'check_violation';
  end if;
  problem := planner._options_error(new.options);
  if problem is not null then
    raise exception 'allocation_planner_runs.options.%', problem using errcode = 'check_violation';
  end if;
  return new;
end
$$;
comment on function planner._check_planner_run() is
  'Trigger: constraints name known rulesets for the cohort (rules.resolve_rules); options pass instance.parse_request.';

create or replace trigger check_planner_run
  before insert or update of constraints, options, allocation_run, affinity_profile_id
  on public.allocation_planner_runs for each row execute function planner._check_planner_run();

-- ---------------------------------------------------------------- affinity profiles (Python)

create or replace function planner._check_affinity_profile() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  problem text;
begin
  if jsonb_typeof(new.weights) = 'object' then  -- else weights_is_an_object reports it
    problem := planner._affinity_error(new.version, new.source, new.weights);
    if problem is not null then
      raise exception '%', problem using errcode = 'check_violation';
    end if;
  end if;
  return new;
end
$$;
comment on function planner._check_affinity_profile() is
  'Trigger: weights are symmetric integers in -100..100 (instance.parse_affinity).';

create or replace trigger check_affinity_profile before insert or update of version, source, weights
  on public.affinity_profiles for each row execute function planner._check_affinity_profile();

-- ---------------------------------------------------------------- rotations: weeks inside the period, dates from weeks

create or replace function planner._check_rotation() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  run        record;
  week_start date;
  week_end   date;
begin
  select r.start_date, r.period_weeks, cardinality(p.term_weeks) as n_terms, j.org_id into run
    from public.job_lines j
    join public.allocation_runs r on r.id = j.allocation_run_id
    join public.allocation_plans p on p.id = r.plan_id
   where j.id = new.job_line_id;
  if not found then
    return new;  -- the foreign key reports a missing line
  end if;
  if new.term > run.n_terms then
    raise exception 'rotations.term: term % does not exist; the plan has % terms', new.term, run.n_terms
      using errcode = 'check_violation';
  end if;
  if new.position_id is not null
     and not exists (select 1 from public.positions pos where pos.id = new.position_id and pos.org_id = run.org_id) then
    raise exception 'rotations.position_id: no position % in the org of this job line', new.position_id
      using errcode = 'foreign_key_violation';
  end if;
  if new.end_week > run.period_weeks then
    raise exception 'rotations.end_week: week % is outside the period of % weeks', new.end_week, run.period_weeks
      using errcode = 'check_violation';
  end if;
  -- An update that moves the weeks but leaves the dates as they were asks for the dates to follow.
  if tg_op = 'UPDATE' then
    if new.start_week <> old.start_week and new.start_date is not distinct from old.start_date then
      new.start_date := null;
    end if;
    if new.end_week <> old.end_week and new.end_date is not distinct from old.end_date then
      new.end_date := null;
    end if;
  end if;
  -- Week w runs from start + 7(w-1) (a Monday) to start + 7w - 1 (a Sunday).
  week_start := run.start_date + 7 * (new.start_week - 1);
  week_end := run.start_date + 7 * new.end_week - 1;
  if new.start_date is distinct from week_start and new.start_date is not null then
    raise exception 'rotations.start_date: week % starts on %, not %', new.start_week, week_start, new.start_date
      using errcode = 'check_violation';
  end if;
  if new.end_date is distinct from week_end and new.end_date is not null then
    raise exception 'rotations.end_date: week % ends on %, not %', new.end_week, week_end, new.end_date
      using errcode = 'check_violation';
  end if;
  new.start_date := week_start;
  new.end_date := week_end;
  return new;
end
$$;
comment on function planner._check_rotation() is
  'Trigger: a rotation''s position is of its line''s org; its term and weeks lie in the run; its dates follow '
  'from the weeks (filled when omitted).';

create or replace trigger check_rotation before insert or update on public.rotations
  for each row execute function planner._check_rotation();

-- ---------------------------------------------------------------- rotations tile their line's period

-- Deferred to the commit: a line is written (or edited by hand) one rotation at a time, and only the
-- finished line must tile the period: weeks 1..P, each week in exactly one rotation.
create or replace function planner._check_tiling() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  line    uuid := coalesce(new.job_line_id, old.job_line_id);
  period  int;
  line_no int;
  fault   record;
  last    int;
begin
  select r.period_weeks, j.line_no into period, line_no
    from public.job_lines j join public.allocation_runs r on r.id = j.allocation_run_id where j.id = line;
  if not found then
    return null;  -- the line itself is gone
  end if;
  -- Each rotation must start the week after the one before it ends (the first in week 1).
  select ro.start_week, ro.previous_end into fault
    from (select r.start_week, coalesce(lag(r.end_week) over (order by r.start_week, r.end_week), 0) as previous_end
            from public.rotations r where r.job_line_id = line) ro
   where ro.start_week <> ro.previous_end + 1
   order by ro.start_week limit 1;
  if found then
    raise exception 'rotations: job line % does not tile the period: %', line_no,
        case when fault.start_week <= fault.previous_end
             then format('week %s is in two rotations', fault.start_week)
             else format('weeks %s to %s are in no rotation', fault.previous_end + 1, fault.start_week - 1) end
      using errcode = 'check_violation';
  end if;
  select max(r.end_week) into last from public.rotations r where r.job_line_id = line;
  if coalesce(last, 0) <> period then
    raise exception 'rotations: job line % does not tile the period: weeks % to % are in no rotation',
        line_no, coalesce(last, 0) + 1, period using errcode = 'check_violation';
  end if;
  return null;
end
$$;
comment on function planner._check_tiling() is
  'Constraint trigger, at commit: the rotations of a changed job line cover weeks 1..period_weeks with no '
  'gap and no overlap (TILING).';

-- A constraint trigger has no OR REPLACE.
drop trigger if exists check_tiling on public.rotations;
create constraint trigger check_tiling after insert or update or delete on public.rotations
  deferrable initially deferred for each row execute function planner._check_tiling();

-- ---------------------------------------------------------------- history: n_lines from the snapshot

create or replace function planner._count_history_lines() returns trigger
language plpgsql set search_path = pg_catalog
as $$
begin
  if new.n_lines is null and jsonb_typeof(new.snapshot -> 'lines') = 'array' then
    new.n_lines := jsonb_array_length(new.snapshot -> 'lines');
  end if;
  return new;
end
$$;
comment on function planner._count_history_lines() is 'Trigger: n_lines defaults to the number of lines in the snapshot.';

create or replace trigger count_history_lines before insert on public.job_lines_history
  for each row execute function planner._count_history_lines();
