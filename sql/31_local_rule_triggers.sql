-- 31_local_rule_triggers.sql: what the local rules' tables (14_local_rule_tables.sql) must hold that
-- a foreign key or a check constraint cannot say, so planner.export_instance always gives a document
-- the parser accepts. Written as 30_triggers.sql writes its own: SECURITY DEFINER with a fixed
-- search_path (they read rows whatever RLS shows the caller), the members-only gate first (triggers
-- fire in name order), messages that start with "table.column:" and never name another org's rows.
--
-- Checks that read several rows are constraint triggers deferred to the commit, so a rule can be
-- written in several statements (a group, then its positions) and is judged when it is whole.

-- ---------------------------------------------------------------- members only: admins define a run's rules

create or replace trigger authorize_write before insert or update on public.allocation_run_groups
  for each row execute function planner._authorize_write('allocation_runs', 'allocation_run_id', 'admin');
create or replace trigger authorize_write before insert or update on public.allocation_run_group_members
  for each row execute function planner._authorize_write('allocation_runs', 'allocation_run_id', 'admin');
create or replace trigger authorize_write before insert or update on public.allocation_run_line_rules
  for each row execute function planner._authorize_write('allocation_runs', 'allocation_run_id', 'admin');
create or replace trigger authorize_write before insert or update on public.allocation_run_links
  for each row execute function planner._authorize_write('allocation_runs', 'allocation_run_id', 'admin');
create or replace trigger authorize_write before insert or update on public.allocation_run_link_targets
  for each row execute function planner._authorize_write('allocation_runs', 'allocation_run_id', 'admin');

-- ---------------------------------------------------------------- a rule names posts its run offers

create or replace function planner._check_rule_position() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  position_column text := tg_argv[0];  -- column of NEW holding the position
  named           uuid;
  link            text;
  clash           text;
begin
  execute format('select ($1).%I', position_column) into named using new;
  -- Offered in the run, so of the run's org. One answer for another org's position and a made-up
  -- id: never the other org's key.
  if not exists (select 1 from public.allocation_run_posts post
                  where post.allocation_run_id = new.allocation_run_id and post.position_id = named) then
    raise exception '%.%: no position % offered in this allocation run', tg_table_name, position_column, named
      using errcode = 'foreign_key_violation';
  end if;
  -- A link never asks for the post it starts from: a target is not the link's start, a start not a target.
  if tg_table_name = 'allocation_run_link_targets' then
    execute 'select ($1).link_name' into link using new;
    select pos.key into clash
      from public.allocation_run_links l join public.positions pos on pos.id = l.if_position_id
     where l.allocation_run_id = new.allocation_run_id and l.name = link and l.if_position_id = named;
  elsif tg_table_name = 'allocation_run_links' then
    execute 'select ($1).name' into link using new;
    select pos.key into clash
      from public.allocation_run_link_targets t join public.positions pos on pos.id = t.position_id
     where t.allocation_run_id = new.allocation_run_id and t.link_name = link and t.position_id = named;
  end if;
  if clash is not null then
    raise exception '%.%: link "%" would start from and ask for the same post, %', tg_table_name, position_column,
        link, clash using errcode = 'check_violation';
  end if;
  return new;
end
$$;
comment on function planner._check_rule_position() is
  'Trigger (arg: the column holding a position): a group member, a link or a link target names a position '
  'the run offers in some term; a link never asks for the post it starts from.';

create or replace trigger check_rule_position before insert or update on public.allocation_run_group_members
  for each row execute function planner._check_rule_position('position_id');
create or replace trigger check_rule_position before insert or update on public.allocation_run_links
  for each row execute function planner._check_rule_position('if_position_id');
create or replace trigger check_rule_position before insert or update on public.allocation_run_link_targets
  for each row execute function planner._check_rule_position('position_id');

-- ---------------------------------------------------------------- line rules: bounds a line can meet

create or replace function planner._check_line_rule() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  n_terms int;
begin
  select cardinality(p.term_weeks) into n_terms
    from public.allocation_runs r join public.allocation_plans p on p.id = r.plan_id
   where r.id = new.allocation_run_id;
  -- A line holds at most one placement per term.
  if new.min_placements > n_terms then
    raise exception 'allocation_run_line_rules.min_placements: must be at most %, the terms of a line; got %',
        n_terms, new.min_placements using errcode = 'check_violation';
  end if;
  if new.max_placements > n_terms then
    raise exception 'allocation_run_line_rules.max_placements: must be at most %, the terms of a line; got %',
        n_terms, new.max_placements using errcode = 'check_violation';
  end if;
  return new;
end
$$;
comment on function planner._check_line_rule() is
  'Trigger: a line rule''s bounds are at most the plan''s number of terms (a line''s most placements).';

create or replace trigger check_line_rule before insert or update of allocation_run_id, min_placements, max_placements
  on public.allocation_run_line_rules for each row execute function planner._check_line_rule();

-- ---------------------------------------------------------------- groups and links are never empty

create or replace function planner._check_not_empty() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  parent_table text := tg_argv[0];  -- allocation_run_groups or allocation_run_links
  child_table  text := tg_argv[1];  -- its members or targets
  child_column text := tg_argv[2];  -- the child's column naming the parent
  run          uuid;
  parent_name  text;
  empty        boolean;
begin
  if tg_table_name = parent_table then  -- a new or renamed group or link
    run := new.allocation_run_id;
    parent_name := new.name;
  else  -- a member or target gone, or moved
    run := old.allocation_run_id;
    execute format('select ($1).%I', child_column) into parent_name using old;
  end if;
  execute format('select exists (select 1 from public.%I p where p.allocation_run_id = $1 and p.name = $2) '
                 'and not exists (select 1 from public.%I c where c.allocation_run_id = $1 and c.%I = $2)',
                 parent_table, child_table, child_column)
    into empty using run, parent_name;
  if empty then
    raise exception '%: % "%" lists no positions; it needs at least one', parent_table,
        case parent_table when 'allocation_run_groups' then 'group' else 'link' end, parent_name
      using errcode = 'check_violation';
  end if;
  return null;
end
$$;
comment on function planner._check_not_empty() is
  'Constraint trigger, at commit (args: parent table, child table, the child''s column naming the parent): '
  'a group keeps at least one position, a link at least one target, as the instance document requires.';

-- A constraint trigger has no OR REPLACE.
drop trigger if exists check_not_empty on public.allocation_run_groups;
create constraint trigger check_not_empty after insert or update of allocation_run_id, name
  on public.allocation_run_groups
  deferrable initially deferred for each row
  execute function planner._check_not_empty('allocation_run_groups', 'allocation_run_group_members', 'group_name');
drop trigger if exists check_not_empty on public.allocation_run_group_members;
create constraint trigger check_not_empty after delete or update on public.allocation_run_group_members
  deferrable initially deferred for each row
  execute function planner._check_not_empty('allocation_run_groups', 'allocation_run_group_members', 'group_name');
drop trigger if exists check_not_empty on public.allocation_run_links;
create constraint trigger check_not_empty after insert or update of allocation_run_id, name
  on public.allocation_run_links
  deferrable initially deferred for each row
  execute function planner._check_not_empty('allocation_run_links', 'allocation_run_link_targets', 'link_name');
drop trigger if exists check_not_empty on public.allocation_run_link_targets;
create constraint trigger check_not_empty after delete or update on public.allocation_run_link_targets
  deferrable initially deferred for each row
  execute function planner._check_not_empty('allocation_run_links', 'allocation_run_link_targets', 'link_name');

-- ---------------------------------------------------------------- leave.preferred_groups names groups of every run of the plan

-- Leave belongs to the plan, groups to each run: the two meet here.
create or replace function planner._missing_preferred_group(run uuid) returns text
language sql stable set search_path = pg_catalog, public
as $$
  select format('allocation_plans.leave.preferred_groups: allocation run "%s" has no group %s',
                coalesce(r.name, r.id::text), to_jsonb(g.name))
    from public.allocation_runs r
    join public.allocation_plans p on p.id = r.plan_id
   cross join lateral jsonb_array_elements_text(
           case jsonb_typeof(p.leave -> 'preferred_groups') when 'array' then p.leave -> 'preferred_groups'
                else '[]' end) with ordinality as g(name, ordinal)
   where r.id = run
     and not exists (select 1 from public.allocation_run_groups grp where grp.allocation_run_id = r.id and grp.name = g.name)
   order by g.ordinal
   limit 1
$$;
comment on function planner._missing_preferred_group(uuid) is
  'The "field: reason" of the first group the run''s plan prefers for leave that the run does not have, or null.';

create or replace function planner._check_preferred_groups() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  fault text;
begin
  if tg_table_name = 'allocation_plans' then
    select planner._missing_preferred_group(r.id) into fault
      from public.allocation_runs r where r.plan_id = new.id and planner._missing_preferred_group(r.id) is not null
     limit 1;
  elsif tg_table_name = 'allocation_runs' then
    fault := planner._missing_preferred_group(new.id);
  else  -- a group deleted or renamed
    fault := planner._missing_preferred_group(old.allocation_run_id);
  end if;
  if fault is not null then
    raise exception '%', fault using errcode = 'check_violation';
  end if;
  return null;
end
$$;
comment on function planner._check_preferred_groups() is
  'Constraint trigger, at commit: every group a plan''s leave.preferred_groups names is a group of each of the '
  'plan''s runs (on a plan''s leave, a run''s plan, a group deleted or renamed).';

drop trigger if exists check_preferred_groups on public.allocation_plans;
create constraint trigger check_preferred_groups after update of leave on public.allocation_plans
  deferrable initially deferred for each row execute function planner._check_preferred_groups();
drop trigger if exists check_preferred_groups on public.allocation_runs;
create constraint trigger check_preferred_groups after insert or update of plan_id on public.allocation_runs
  deferrable initially deferred for each row execute function planner._check_preferred_groups();
drop trigger if exists check_preferred_groups on public.allocation_run_groups;
create constraint trigger check_preferred_groups after delete or update of allocation_run_id, name
  on public.allocation_run_groups
  deferrable initially deferred for each row execute function planner._check_preferred_groups();

-- ---------------------------------------------------------------- posts: whole placements, and what the rules name stays offered

-- The first fault of one position's posts in one run, or null: a placement that may start in t covers
-- t..t+span-1, each an offered term; every offered term is covered by a placement that may start; a
-- position no longer offered is named by no group or link of the run.
create or replace function planner._placement_fault(run uuid, post_position uuid) returns text
language plpgsql stable set search_path = pg_catalog, public
as $$
declare
  pos       record;
  naming    record;
  gap       record;
  uncovered int;
begin
  select p.key, p.span, exists (select 1 from public.allocation_run_posts o
                                 where o.allocation_run_id = run and o.position_id = p.id) as offered
    into pos from public.positions p where p.id = post_position;
  if not found then
    return null;  -- the position is gone: the posts' foreign key speaks for it
  end if;
  if not pos.offered then
    select named.kind, named.name into naming
      from (select 'group' as kind, m.group_name as name from public.allocation_run_group_members m
             where m.allocation_run_id = run and m.position_id = post_position
            union all
            select 'link', l.name from public.allocation_run_links l
             where l.allocation_run_id = run and l.if_position_id = post_position
            union all
            select 'link', t.link_name from public.allocation_run_link_targets t
             where t.allocation_run_id = run and t.position_id = post_position) named
     limit 1;
    if found then
      return format('allocation_run_posts: position %s is no longer offered in this allocation run, but %s "%s" '
                    'names it', pos.key, naming.kind, naming.name);
    end if;
    return null;
  end if;
  if pos.span = 1 then
    return null;  -- each offered term is a placement of its own (planner._check_allocation_run_post)
  end if;
  select s.term as start, c.term as covered into gap
    from public.allocation_run_posts s
   cross join generate_series(s.term, s.term + pos.span - 1) as c(term)
   where s.allocation_run_id = run and s.position_id = post_position and s.may_start
     and not exists (select 1 from public.allocation_run_posts o
                      where o.allocation_run_id = run and o.position_id = post_position and o.term = c.term)
   order by s.term, c.term limit 1;
  if found then
    return format('allocation_run_posts: a placement of position %s starting in term %s covers term %s, which is '
                  'not offered', pos.key, gap.start, gap.covered);
  end if;
  select o.term into uncovered
    from public.allocation_run_posts o
   where o.allocation_run_id = run and o.position_id = post_position
     and not exists (select 1 from public.allocation_run_posts s
                      where s.allocation_run_id = run and s.position_id = post_position and s.may_start
                        and s.term between o.term - pos.span + 1 and o.term)
   order by o.term limit 1;
  if found then
    return format('allocation_run_posts: position %s is offered in term %s, but no placement of its %s terms that '
                  'may start covers it', pos.key, uncovered, pos.span);
  end if;
  return null;
end
$$;
comment on function planner._placement_fault(uuid, uuid) is
  'The first fault of a position''s posts in a run (SPAN: whole placements; group and link positions stay '
  'offered), as "table: reason", or null.';

create or replace function planner._check_placements() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  fault text;
begin
  if tg_op <> 'DELETE' then
    fault := planner._placement_fault(new.allocation_run_id, new.position_id);
  end if;
  if tg_op <> 'INSERT' and fault is null then
    fault := planner._placement_fault(old.allocation_run_id, old.position_id);
  end if;
  if fault is not null then
    raise exception '%', fault using errcode = 'check_violation';
  end if;
  return null;
end
$$;
comment on function planner._check_placements() is
  'Constraint trigger, at commit: the posts of a changed (run, position) make whole placements, and a position '
  'no longer offered is named by no group or link of the run (planner._placement_fault).';

drop trigger if exists check_placements on public.allocation_run_posts;
create constraint trigger check_placements after insert or update or delete on public.allocation_run_posts
  deferrable initially deferred for each row execute function planner._check_placements();

-- ---------------------------------------------------------------- a post's span and site, while runs offer it

create or replace function planner._check_position_change() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  run_name text;
begin
  if new.span <> old.span then
    -- Its posts' starts were written for the old span.
    select coalesce(r.name, r.id::text) into run_name
      from public.allocation_run_posts post join public.allocation_runs r on r.id = post.allocation_run_id
     where post.position_id = new.id
     order by r.created_at limit 1;
    if found then
      raise exception 'positions.span: position % is offered in allocation run "%"; its span cannot change while '
                      'a run offers it', new.key, run_name
        using errcode = 'check_violation', hint = 'Withdraw its posts first, or make a new position.';
    end if;
  end if;
  if new.site is null and old.site is not null then
    select coalesce(r.name, r.id::text) into run_name
      from public.allocation_run_posts post join public.allocation_runs r on r.id = post.allocation_run_id
     where post.position_id = new.id and r.home_site_min_terms is not null
     order by r.created_at limit 1;
    if found then
      raise exception 'positions.site: position % is offered in allocation run "%", which keeps lines at one site; '
                      'it needs a site', new.key, run_name using errcode = 'check_violation';
    end if;
  end if;
  return new;
end
$$;
comment on function planner._check_position_change() is
  'Trigger: a position''s span does not change while a run offers it, and it keeps a site while a home-site '
  'run offers it.';

create or replace trigger check_position_change before update of span, site on public.positions
  for each row execute function planner._check_position_change();
