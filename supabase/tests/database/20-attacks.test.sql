-- 20-attacks.test.sql: the attacks the matrix cannot name, with their exact answers.
--
-- Outsiders get one answer whether a row exists or not; a planner cannot write an
-- outcome, carry a row into another org, or break a line's tiling; a session
-- cannot point the server at code of its own. Org A and org B each have a small
-- service; the actors act as PostgREST makes them act (SET LOCAL ROLE and the
-- JWT claims).

begin;
select plan(52);

-- ---------------------------------------------------------------- actors

insert into auth.users (id, email) values
  ('a2000000-0000-4000-8000-000000000001', 'admin@a.attacks.test'),
  ('a2000000-0000-4000-8000-000000000002', 'planner@a.attacks.test'),
  ('a2000000-0000-4000-8000-000000000003', 'viewer@a.attacks.test'),
  ('b2000000-0000-4000-8000-000000000002', 'planner@b.attacks.test'),
  ('c2000000-0000-4000-8000-000000000001', 'nobody@attacks.test');
insert into public.orgs (id, name) values
  ('a2000000-0000-4000-8000-000000000000', 'Attacks Org A'),
  ('b2000000-0000-4000-8000-000000000000', 'Attacks Org B');

create temp table fixture (name text primary key, id uuid not null);
insert into fixture values
  ('org_a',               'a2000000-0000-4000-8000-000000000000'),
  ('admin_a',             'a2000000-0000-4000-8000-000000000001'),
  ('planner_a',           'a2000000-0000-4000-8000-000000000002'),
  ('viewer_a',            'a2000000-0000-4000-8000-000000000003'),
  ('run_a2',              'a2000000-0000-4000-8000-0000000000a2'),
  ('planner_run_pending', 'a2000000-0000-4000-8000-0000000000e2'),
  ('line_1',              'a2000000-0000-4000-8000-0000000000f1'),
  ('rotation_1',          'a2000000-0000-4000-8000-0000000001a1'),
  ('org_b',               'b2000000-0000-4000-8000-000000000000'),
  ('planner_b',           'b2000000-0000-4000-8000-000000000002'),
  ('profile_b',           'b2000000-0000-4000-8000-0000000000d1'),
  ('non_member',          'c2000000-0000-4000-8000-000000000001'),
  ('made_up',             'f2000000-0000-4000-8000-000000000000');
create function pg_temp.id(key text) returns uuid language sql stable as $$
  select id from fixture where name = key $$;

-- One statement as an actor (a user of the fixture, anon or service_role), as PostgREST runs it; then
-- the deferred checks a commit would make. Returns the statement's first value; an error is raised
-- again with its SQLSTATE and message, after the actor's role and claims are gone.
create function pg_temp.as_actor(actor text, statement text) returns text language plpgsql as $$
declare
  role_name text := case when actor in ('anon', 'service_role') then actor else 'authenticated' end;
  claims    text := jsonb_strip_nulls(jsonb_build_object('role', role_name, 'sub', pg_temp.id(actor)))::text;
  result    text;
  code      text;
  message   text;
begin
  begin
    execute format('set local role %I', role_name);
    perform set_config('request.jwt.claims', claims, true);
    execute statement into result;
    set constraints all immediate;
    reset role;
    perform set_config('request.jwt.claims', '', true);
  exception when others then
    get stacked diagnostics code = returned_sqlstate, message = message_text;
    set constraints all deferred;
    raise exception using errcode = code, message = message;
  end;
  set constraints all deferred;
  return result;
end
$$;

-- The answer to a statement that fails, with ids blanked: two answers that differ tell an outsider something.
create function pg_temp.answer_to(actor text, statement text) returns text language plpgsql as $$
begin
  perform pg_temp.as_actor(actor, statement);
  return 'no error';
exception when others then
  return sqlstate || ' ' || regexp_replace(sqlerrm, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
end
$$;

-- ---------------------------------------------------------------- a session cannot choose the server's code

-- First, before anything in this session has loaded the solver's package: a user sets the path to a
-- folder of their own and reaches the Python loader through a trigger (the affinity weights' check).
select throws_like(
  $q$select pg_temp.as_actor('non_member', $$
     with planted as (select set_config('planner.python_path', '/tmp/planted', true))
     insert into public.affinity_profiles (org_id, name, version, source, weights)
     select null, 'Planted', '1', 'planted', '{}' from planted returning id$$)$q$,
  '%planner.python_path: this session''s value ''/tmp/planted'' is refused; the server imports only the path of its configuration%',
  'a session''s SET of planner.python_path is refused by the loader');
select is(current_setting('planner.python_path', true) = '/tmp/planted', false,
          'the refused value did not outlive the statement');

-- ---------------------------------------------------------------- the services

select is(planner.import_instance($doc${
    "format": "receptor-planner/instance@1", "org": {"name": "Attacks Org A"}, "cohort": "PGY3+",
    "start_date": "2027-01-04", "term_weeks": [26, 26], "leave": {"weeks": 0},
    "positions": [
      {"key": "MED", "name": "General Medicine", "specialty": "General Medicine", "categories": ["A"], "capacity": 2},
      {"key": "SUR", "name": "General Surgery", "specialty": "General Surgery", "categories": ["D"], "capacity": 2}],
    "pins": [],
    "groups": {"core": ["MED"]},
    "links": [{"name": "surgery with medicine", "if": "SUR", "then": ["MED"]}]}$doc$, pg_temp.id('org_a')) is not null,
  true, 'org A imports its service');
select is(planner.import_instance($doc${
    "format": "receptor-planner/instance@1", "org": {"name": "Attacks Org B"}, "cohort": "PGY3+",
    "start_date": "2027-01-04", "term_weeks": [26, 26], "leave": {"weeks": 0},
    "positions": [
      {"key": "SECRET", "name": "B's own post", "specialty": "General Medicine", "categories": ["A"], "capacity": 2},
      {"key": "SECRET2", "name": "B's other post", "specialty": "Surgery", "categories": ["D"], "capacity": 2}],
    "pins": [],
    "groups": {"secret group": ["SECRET"]},
    "line_rules": [{"name": "secret rule", "group": "secret group", "max": 1}],
    "links": [{"name": "secret link", "if": "SECRET", "then": ["SECRET2"]}]}$doc$, pg_temp.id('org_b')) is not null,
  true, 'org B imports its service, with local rules');
insert into fixture
select 'run_a', id from public.allocation_runs where org_id = pg_temp.id('org_a')
union all select 'run_b', id from public.allocation_runs where org_id = pg_temp.id('org_b')
union all select 'position_med', id from public.positions where org_id = pg_temp.id('org_a') and key = 'MED'
union all select 'position_sur', id from public.positions where org_id = pg_temp.id('org_a') and key = 'SUR'
union all select 'position_b', id from public.positions where org_id = pg_temp.id('org_b') and key = 'SECRET'
union all select 'plan_a', plan_id from public.allocation_runs where org_id = pg_temp.id('org_a')
union all select 'plan_b', plan_id from public.allocation_runs where org_id = pg_temp.id('org_b');

insert into public.allocation_runs (id, org_id, plan_id, name, start_date, period_weeks)
select pg_temp.id('run_a2'), org_id, plan_id, 'Next year', '2028-01-03', 52
  from public.allocation_runs where id = pg_temp.id('run_a');
insert into public.affinity_profiles (id, org_id, name, version, source, weights)
  values (pg_temp.id('profile_b'), pg_temp.id('org_b'), 'B''s profile', '1', 'pgTAP fixture', '{}');
insert into public.allocation_planner_runs (id, allocation_run, n_job_lines)
  values (pg_temp.id('planner_run_pending'), pg_temp.id('run_a2'), 2);
insert into public.job_lines (id, allocation_run_id, line_no) values (pg_temp.id('line_1'), pg_temp.id('run_a'), 1);
insert into public.rotations (id, job_line_id, kind, position_id, term, start_week, end_week) values
  (pg_temp.id('rotation_1'), pg_temp.id('line_1'), 'clinical', pg_temp.id('position_med'), 1, 1, 26),
  (gen_random_uuid(), pg_temp.id('line_1'), 'clinical', pg_temp.id('position_sur'), 2, 27, 52);
do $members$ begin
  perform planner.add_member(pg_temp.id(org), pg_temp.id(member), role)
     from (values ('org_a', 'admin_a', 'admin'), ('org_a', 'planner_a', 'planner'), ('org_a', 'viewer_a', 'viewer'),
                 ('org_b', 'planner_b', 'planner')) as m (org, member, role);
end $members$;
set constraints all immediate;  -- the fixture's lines tile
set constraints all deferred;

-- ---------------------------------------------------------------- outsiders learn nothing

select throws_ok(
  format($q$select pg_temp.as_actor('planner_b', $$insert into public.allocation_planner_runs
            (allocation_run, n_job_lines, constraints) values (%L, 4, '{FOO}') returning id$$)$q$, pg_temp.id('run_a')),
  '42501',
  format('allocation_planner_runs.allocation_run: permission denied: no allocation_runs row %s in an org where you are a planner',
         pg_temp.id('run_a')),
  'another org''s planner queuing a run for org A''s allocation run: the members-only gate');
select throws_ok(
  format($q$select pg_temp.as_actor('planner_b', $$insert into public.allocation_planner_runs
            (allocation_run, n_job_lines, constraints) values (%L, 4, '{FOO}') returning id$$)$q$, pg_temp.id('made_up')),
  '42501',
  format('allocation_planner_runs.allocation_run: permission denied: no allocation_runs row %s in an org where you are a planner',
         pg_temp.id('made_up')),
  'the same answer for an allocation run that does not exist');
select throws_ok(
  format($q$select pg_temp.as_actor('viewer_a', $$insert into public.allocation_planner_runs
            (allocation_run, n_job_lines, constraints) values (%L, 4, '{FOO}') returning id$$)$q$, pg_temp.id('run_a')),
  '42501',
  format('allocation_planner_runs.allocation_run: permission denied: no allocation_runs row %s in an org where you are a planner',
         pg_temp.id('run_a')),
  'the same answer for a viewer of the org, before the ruleset check that would name the cohort');
select throws_ok(
  format($q$select pg_temp.as_actor('planner_b', $$select planner.cancel_run(%L)$$)$q$, pg_temp.id('planner_run_pending')),
  '22023', format('run_id: no planner run with id %s', pg_temp.id('planner_run_pending')),
  'another org''s planner cancelling org A''s run is told there is no such run');
select throws_ok(
  format($q$select pg_temp.as_actor('planner_b', $$select planner.cancel_run(%L)$$)$q$, pg_temp.id('made_up')),
  '22023', format('run_id: no planner run with id %s', pg_temp.id('made_up')),
  'as for a run that does not exist');
select throws_ok(
  format($q$select pg_temp.as_actor('viewer_a', $$select planner.cancel_run(%L)$$)$q$, pg_temp.id('planner_run_pending')),
  '42501', format('run_id: permission denied: only planners of its org may cancel planner run %s',
                  pg_temp.id('planner_run_pending')),
  'a viewer, who sees the run, may not cancel it');
select throws_ok(
  format($q$select pg_temp.as_actor('planner_a', $$insert into public.allocation_planner_runs
            (allocation_run, n_job_lines, affinity_profile_id) values (%L, 2, %L) returning id$$)$q$,
         pg_temp.id('run_a'), pg_temp.id('profile_b')),
  '23503', format('allocation_planner_runs.affinity_profile_id: no affinity profile %s for this org', pg_temp.id('profile_b')),
  'a planner cannot use another org''s affinity profile');
select throws_ok(
  format($q$select pg_temp.as_actor('planner_a', $$insert into public.allocation_planner_runs
            (allocation_run, n_job_lines, affinity_profile_id) values (%L, 2, %L) returning id$$)$q$,
         pg_temp.id('run_a'), pg_temp.id('made_up')),
  '23503', format('allocation_planner_runs.affinity_profile_id: no affinity profile %s for this org', pg_temp.id('made_up')),
  'the same answer for a profile that does not exist');
select throws_ok($q$select pg_temp.as_actor('anon', $$select count(*) from public.job_lines$$)$q$,
  '42501', 'permission denied for table job_lines', 'anon reads no table');
select throws_ok(
  format($q$select pg_temp.as_actor('anon', $$select planner.cancel_run(%L)$$)$q$, pg_temp.id('planner_run_pending')),
  '42501', 'permission denied for schema planner', 'anon calls no planner verb');

-- ---------------------------------------------------------------- a run is born PENDING; its outcome is the worker's

select throws_ok(
  format($q$select pg_temp.as_actor('planner_a', $$insert into public.allocation_planner_runs
            (allocation_run, n_job_lines, status, result_metadata) values (%L, 2, 'COMPLETED', '{}') returning id$$)$q$,
         pg_temp.id('run_a')),
  '42501', 'permission denied for table allocation_planner_runs',
  'a planner inserting a run as COMPLETED: no column grant for status');
select throws_ok(
  format($q$select pg_temp.as_actor('service_role', $$insert into public.allocation_planner_runs
            (allocation_run, n_job_lines, status) values (%L, 2, 'COMPLETED') returning id$$)$q$, pg_temp.id('run_a')),
  '23514', 'allocation_planner_runs.status: a new planner run is PENDING with no outcome yet, not COMPLETED',
  'not even service_role inserts a finished run');
select throws_ok(
  format($q$select pg_temp.as_actor('planner_a', $$update public.allocation_planner_runs set status = 'COMPLETED'
            where id = %L returning id$$)$q$, pg_temp.id('planner_run_pending')),
  '42501', 'new row violates row-level security policy for table "allocation_planner_runs"',
  'a planner may update an active run only to cancel it');
-- The solver's own writes (sql/52_run_state.sql) are the owner's: no API role may call them.
select throws_ok(
  format($q$select pg_temp.as_actor('planner_a', $$select planner._finish_run(%L, 'PENDING', 0, 'COMPLETED', '{}',
            null, null)$$)$q$, pg_temp.id('planner_run_pending')),
  '42501', 'permission denied for function _finish_run',
  'a planner cannot write an outcome through the solver''s fenced status write');
select throws_ok(
  format($q$select pg_temp.as_actor('service_role', $$select planner._replace_lines(%L, '[]', null, null)$$)$q$,
         pg_temp.id('run_a')),
  '42501', 'permission denied for function _replace_lines',
  'nor can service_role replace lines but through a solve or a restore');

-- ---------------------------------------------------------------- rows stay in their org

select throws_ok(
  format($q$select pg_temp.as_actor('planner_a', $$update public.allocation_planner_runs set allocation_run = %L
            where id = %L returning id$$)$q$, pg_temp.id('run_b'), pg_temp.id('planner_run_pending')),
  '42501', 'permission denied for table allocation_planner_runs',
  'a planner cannot forge allocation_run on a run row: no column grant');
select throws_ok(
  format($q$select pg_temp.as_actor('service_role', $$update public.allocation_planner_runs set allocation_run = %L
            where id = %L returning id$$)$q$, pg_temp.id('run_b'), pg_temp.id('planner_run_pending')),
  '23514', 'allocation_planner_runs.allocation_run: a row cannot move to another allocation_runs row',
  'nor can service_role: a run never changes its allocation run');
select is(pg_temp.as_actor('service_role', format($$update public.allocation_planner_runs set org_id = %L
            where id = %L returning org_id$$, pg_temp.id('org_b'), pg_temp.id('planner_run_pending'))),
          pg_temp.id('org_a')::text, 'a forged org_id on a run row is replaced by its allocation run''s org');
select throws_ok(
  format($q$select pg_temp.as_actor('planner_a', $$update public.job_lines set allocation_run_id = %L
            where id = %L returning id$$)$q$, pg_temp.id('run_b'), pg_temp.id('line_1')),
  '42501', 'permission denied for table job_lines',
  'a planner cannot carry a job line into another org''s allocation run: no column grant');
select throws_ok(
  format($q$select pg_temp.as_actor('service_role', $$update public.job_lines set allocation_run_id = %L
            where id = %L returning id$$)$q$, pg_temp.id('run_b'), pg_temp.id('line_1')),
  '23514', 'job_lines.allocation_run_id: a row cannot move to another allocation_runs row',
  'nor can service_role: a line''s rotations would keep the old org');
select throws_ok(
  format($q$select pg_temp.as_actor('planner_a', $$update public.rotations set position_id = %L
            where id = %L returning id$$)$q$, pg_temp.id('position_b'), pg_temp.id('rotation_1')),
  '23503', format('rotations.position_id: no position %s in the org of this job line', pg_temp.id('position_b')),
  'a planner cannot give a rotation another org''s position');
select throws_ok(
  format($q$select pg_temp.as_actor('service_role', $$update public.rotations set position_id = %L
            where id = %L returning id$$)$q$, pg_temp.id('position_b'), pg_temp.id('rotation_1')),
  '23503', format('rotations.position_id: no position %s in the org of this job line', pg_temp.id('position_b')),
  'nor can service_role');
select throws_ok(
  format($q$select pg_temp.as_actor('admin_a', $$insert into public.allocation_run_posts
            (allocation_run_id, position_id, term, capacity) values (%L, %L, 1, 1) returning term$$)$q$,
         pg_temp.id('run_a'), pg_temp.id('position_b')),
  null, null, 'an admin cannot offer another org''s position in their allocation run');
select throws_ok(
  format($q$select pg_temp.as_actor('admin_a', $$insert into public.org_members (org_id, user_id, role)
            values (%L, %L, 'admin') returning role$$)$q$, pg_temp.id('org_b'), pg_temp.id('admin_a')),
  '42501', 'new row violates row-level security policy for table "org_members"',
  'an admin cannot make themselves a member of another org');
select throws_ok(
  format($q$select pg_temp.as_actor('admin_a', $$update public.org_members set org_id = %L
            where user_id = %L returning role$$)$q$, pg_temp.id('org_b'), pg_temp.id('viewer_a')),
  '42501', 'permission denied for table org_members', 'an admin cannot move a member to another org');

-- ---------------------------------------------------------------- an admin holding another org's ids learns nothing

-- The checks behind posts and allocation runs read only the run's own org: the same answer for another
-- org's row as for a made-up id.
select is(
  pg_temp.answer_to('admin_a', format($$insert into public.allocation_run_posts (allocation_run_id, position_id, term, capacity)
                                       values (%L, %L, 1, 1) returning term$$, pg_temp.id('run_a'), pg_temp.id('position_b'))),
  pg_temp.answer_to('admin_a', format($$insert into public.allocation_run_posts (allocation_run_id, position_id, term, capacity)
                                       values (%L, %L, 1, 1) returning term$$, pg_temp.id('run_a'), pg_temp.id('made_up'))),
  'offering another org''s position is answered as for a made-up one (not with its key)');
select is(
  pg_temp.answer_to('admin_a', format($$insert into public.allocation_runs (org_id, plan_id, start_date, period_weeks)
                                       values (%L, %L, '2029-01-01', 51) returning id$$, pg_temp.id('org_a'), pg_temp.id('plan_b'))),
  pg_temp.answer_to('admin_a', format($$insert into public.allocation_runs (org_id, plan_id, start_date, period_weeks)
                                       values (%L, %L, '2029-01-01', 51) returning id$$, pg_temp.id('org_a'), pg_temp.id('made_up'))),
  'an allocation run on another org''s plan is answered as for a made-up plan (not with its name and weeks)');
select is(
  pg_temp.answer_to('admin_a', format($$insert into public.allocation_runs (org_id, plan_id, start_date, period_weeks,
                                       affinity_profile_id) values (%L, %L, '2029-01-01', 52, %L) returning id$$,
                                       pg_temp.id('org_a'), pg_temp.id('plan_a'), pg_temp.id('profile_b'))),
  pg_temp.answer_to('admin_a', format($$insert into public.allocation_runs (org_id, plan_id, start_date, period_weeks,
                                       affinity_profile_id) values (%L, %L, '2029-01-01', 52, %L) returning id$$,
                                       pg_temp.id('org_a'), pg_temp.id('plan_a'), pg_temp.id('made_up'))),
  'an allocation run with another org''s affinity profile is answered as for a made-up profile');

-- ---------------------------------------------------------------- local rules stay in their org

-- Org B's group, its member, its line rule, its link and the link's target: five rows.
create function pg_temp.local_rule_rows(run uuid) returns text language sql as $$
  select format($q$select (select count(*) from public.allocation_run_groups where allocation_run_id = %1$L)
                        + (select count(*) from public.allocation_run_group_members where allocation_run_id = %1$L)
                        + (select count(*) from public.allocation_run_line_rules where allocation_run_id = %1$L)
                        + (select count(*) from public.allocation_run_links where allocation_run_id = %1$L)
                        + (select count(*) from public.allocation_run_link_targets where allocation_run_id = %1$L)$q$,
                run) $$;
select is(pg_temp.as_actor('planner_b', pg_temp.local_rule_rows(pg_temp.id('run_b'))), '5',
          'org B''s planner reads org B''s groups, line rules and links');
select is(pg_temp.as_actor('admin_a', pg_temp.local_rule_rows(pg_temp.id('run_b'))), '0',
          'org A''s admin reads none of them');
select throws_ok(
  format($q$select pg_temp.as_actor('admin_a', $$insert into public.allocation_run_groups (allocation_run_id, name, ordinal)
            values (%L, 'mine', 2) returning name$$)$q$, pg_temp.id('run_b')),
  '42501',
  format('allocation_run_groups.allocation_run_id: permission denied: no allocation_runs row %s in an org where you are an admin',
         pg_temp.id('run_b')),
  'org A''s admin cannot add a group to org B''s allocation run');
select throws_ok(
  format($q$select pg_temp.as_actor('admin_a', $$insert into public.allocation_run_line_rules (allocation_run_id, name,
            ordinal, group_name, max_placements) values (%L, 'mine', 2, 'secret group', 0) returning name$$)$q$,
         pg_temp.id('run_b')),
  '42501',
  format('allocation_run_line_rules.allocation_run_id: permission denied: no allocation_runs row %s in an org where you are an admin',
         pg_temp.id('run_b')),
  'nor a line rule over org B''s group');
select throws_ok(
  format($q$select pg_temp.as_actor('admin_a', $$insert into public.allocation_run_link_targets (allocation_run_id,
            link_name, position_id, ordinal) values (%L, 'secret link', %L, 2) returning link_name$$)$q$,
         pg_temp.id('run_b'), pg_temp.id('position_b')),
  '42501',
  format('allocation_run_link_targets.allocation_run_id: permission denied: no allocation_runs row %s in an org where you are an admin',
         pg_temp.id('run_b')),
  'nor a target to org B''s link');
select is(pg_temp.as_actor('admin_a', format($$with changed as (update public.allocation_run_groups set name = 'mine'
            where allocation_run_id = %L returning 1) select count(*) from changed$$, pg_temp.id('run_b'))),
          '0', 'org A''s admin renames none of org B''s groups');
select is(pg_temp.as_actor('admin_a', format($$with changed as (update public.allocation_run_line_rules set max_placements = 2
            where allocation_run_id = %L returning 1) select count(*) from changed$$, pg_temp.id('run_b'))),
          '0', 'changes none of org B''s line rules');
select is(pg_temp.as_actor('admin_a', format($$with changed as (update public.allocation_run_links set name = 'mine'
            where allocation_run_id = %L returning 1) select count(*) from changed$$, pg_temp.id('run_b'))),
          '0', 'renames none of org B''s links');
select is(pg_temp.as_actor('admin_a', format($$with gone as (delete from public.allocation_run_line_rules
            where allocation_run_id = %L returning 1) select count(*) from gone$$, pg_temp.id('run_b'))),
          '0', 'deletes none of org B''s line rules');
select is(pg_temp.as_actor('admin_a', format($$with gone as (delete from public.allocation_run_groups
            where allocation_run_id = %L returning 1) select count(*) from gone$$, pg_temp.id('run_b'))),
          '0', 'deletes none of org B''s groups');
select is(pg_temp.as_actor('planner_b', pg_temp.local_rule_rows(pg_temp.id('run_b'))), '5',
          'org B''s local rules are all still there');
-- Org A's rules may name only posts org A's run offers: another org's post is answered as a made-up one.
select is(
  pg_temp.answer_to('admin_a', format($$insert into public.allocation_run_group_members (allocation_run_id, group_name,
                                       position_id, ordinal) values (%L, 'core', %L, 2) returning ordinal$$,
                                       pg_temp.id('run_a'), pg_temp.id('position_b'))),
  '23503 allocation_run_group_members.position_id: no position <id> offered in this allocation run',
  'org A''s admin cannot put org B''s post in org A''s group');
select is(
  pg_temp.answer_to('admin_a', format($$insert into public.allocation_run_group_members (allocation_run_id, group_name,
                                       position_id, ordinal) values (%L, 'core', %L, 2) returning ordinal$$,
                                       pg_temp.id('run_a'), pg_temp.id('made_up'))),
  '23503 allocation_run_group_members.position_id: no position <id> offered in this allocation run',
  'the same answer for a post that does not exist');
select is(
  pg_temp.answer_to('admin_a', format($$insert into public.allocation_run_links (allocation_run_id, name, ordinal,
                                       if_position_id) values (%L, 'to B', 2, %L) returning name$$,
                                       pg_temp.id('run_a'), pg_temp.id('position_b'))),
  '23503 allocation_run_links.if_position_id: no position <id> offered in this allocation run',
  'nor start a link from org B''s post');
select is(pg_temp.as_actor('admin_a', format($$insert into public.allocation_run_group_members (allocation_run_id,
            group_name, position_id, ordinal) values (%L, 'core', %L, 2) returning group_name$$,
            pg_temp.id('run_a'), pg_temp.id('position_sur'))),
          'core', 'the same statement with a post org A''s run offers adds it to the group');

-- ---------------------------------------------------------------- hand edits keep the tiling

select throws_ok(
  format($q$select pg_temp.as_actor('planner_a', $$update public.rotations set end_week = 25
            where id = %L returning id$$)$q$, pg_temp.id('rotation_1')),
  '23514', 'rotations: job line 1 does not tile the period: weeks 26 to 26 are in no rotation',
  'a planner''s edit that leaves a week uncovered is refused');
select is(pg_temp.as_actor('planner_a', format($$update public.rotations set position_id = %L
            where id = %L returning term$$, pg_temp.id('position_sur'), pg_temp.id('rotation_1'))),
          '1', 'a planner swaps the post of a rotation in their org');

-- ---------------------------------------------------------------- what a planner may do

select is(pg_temp.as_actor('planner_a', format($$insert into public.allocation_planner_runs (allocation_run, n_job_lines)
            values (%L, 2) returning status$$, pg_temp.id('run_a'))),
          'PENDING', 'a planner queues a run and reads its status back (RETURNING needs the select policy)');
select is(pg_temp.as_actor('planner_a', format($$select planner.cancel_run(%L)$$, pg_temp.id('planner_run_pending'))),
          'CANCELLED', 'a planner cancels their org''s queued run');
select is((select error from public.allocation_planner_runs where id = pg_temp.id('planner_run_pending')),
          format('cancelled by user %s', pg_temp.id('planner_a')), 'the run says who cancelled it');

select * from finish();
rollback;
