-- 10-abuser-matrix.test.sql: who may do what, cell by cell.
--
-- Seven actors (anon; a signed-in user of no org; the viewer, planner and admin
-- of org A; the planner of org B; service_role) try every action on every table
-- and view in public, every verb in schema planner, and planner.settings. Every target
-- is a row of org A (or a shared affinity profile). A cell is "allow" when its
-- statement succeeds and touches or returns at least one such row, "deny" when
-- it fails or touches none. Each cell runs in its own subtransaction and is
-- rolled back, so no cell sees another's effect.
--
-- The expectations are the contract docs/security.md shows as a table;
-- tests/test_pgtap.py checks that the two agree cell by cell.

begin;
select plan(801);

-- ---------------------------------------------------------------- fixture: org A with a row in every table, org B beside it

insert into auth.users (id, email) values
  ('a1000000-0000-4000-8000-000000000001', 'admin@a.matrix.test'),
  ('a1000000-0000-4000-8000-000000000002', 'planner@a.matrix.test'),
  ('a1000000-0000-4000-8000-000000000003', 'viewer@a.matrix.test'),
  ('a1000000-0000-4000-8000-000000000004', 'member@a.matrix.test'),     -- the membership the cells change
  ('b1000000-0000-4000-8000-000000000002', 'planner@b.matrix.test'),
  ('c1000000-0000-4000-8000-000000000001', 'nobody@matrix.test'),       -- signed in, in no org
  ('c1000000-0000-4000-8000-000000000002', 'newcomer@matrix.test');     -- the user the cells add

insert into public.orgs (id, name) values
  ('a1000000-0000-4000-8000-000000000000', 'Matrix Org A'),
  ('b1000000-0000-4000-8000-000000000000', 'Matrix Org B');

-- Named values: a cell's statement says {name} and gets quote_literal(value)::type.
create temp table fixture (name text primary key, value text not null, type text not null default 'uuid');
create function pg_temp.id(key text) returns uuid language sql stable as $$
  select value::uuid from fixture where name = key $$;

insert into fixture (name, value) values
  ('org_a',               'a1000000-0000-4000-8000-000000000000'),
  ('admin_a',             'a1000000-0000-4000-8000-000000000001'),
  ('planner_a',           'a1000000-0000-4000-8000-000000000002'),
  ('viewer_a',            'a1000000-0000-4000-8000-000000000003'),
  ('member_a',            'a1000000-0000-4000-8000-000000000004'),
  ('run_a2',              'a1000000-0000-4000-8000-0000000000a2'),
  ('plan_spare',          'a1000000-0000-4000-8000-0000000000b1'),
  ('position_extra',      'a1000000-0000-4000-8000-0000000000c1'),
  ('profile_a',           'a1000000-0000-4000-8000-0000000000d1'),
  ('planner_run_done',    'a1000000-0000-4000-8000-0000000000e1'),
  ('planner_run_pending', 'a1000000-0000-4000-8000-0000000000e2'),
  ('line_1',              'a1000000-0000-4000-8000-0000000000f1'),
  ('line_2',              'a1000000-0000-4000-8000-0000000000f2'),
  ('line_4',              'a1000000-0000-4000-8000-0000000000f4'),
  ('rotation_1',          'a1000000-0000-4000-8000-0000000001a1'),
  ('rotation_2',          'a1000000-0000-4000-8000-0000000001a2'),
  ('history_a',           'a1000000-0000-4000-8000-0000000002a1'),
  ('org_b',               'b1000000-0000-4000-8000-000000000000'),
  ('planner_b',           'b1000000-0000-4000-8000-000000000002'),
  ('non_member',          'c1000000-0000-4000-8000-000000000001'),
  ('newcomer',            'c1000000-0000-4000-8000-000000000002'),
  ('profile_shared',      'd1000000-0000-4000-8000-000000000001');

insert into fixture (name, value, type) values
  ('doc_a', $doc${
     "format": "receptor-planner/instance@1", "org": {"name": "Matrix Org A"}, "cohort": "PGY3+",
     "start_date": "2027-01-04", "term_weeks": [26, 26], "leave": {"weeks": 0},
     "positions": [
       {"key": "MED", "name": "General Medicine", "team": "Medicine", "specialty": "General Medicine",
        "categories": ["A"], "capacity": 2},
       {"key": "SUR", "name": "General Surgery", "specialty": "General Surgery", "categories": ["D"], "capacity": 2},
       {"key": "ED", "name": "Emergency", "specialty": "Emergency Medicine", "categories": ["C"], "capacity": 2}],
     "pins": [{"line": 1, "term": 1, "position": "MED"}],
     "groups": {"core": ["MED", "SUR"], "spare": ["ED"]},
     "line_rules": [{"name": "core terms", "group": "core", "min": 1}],
     "links": [{"name": "ED with medicine", "if": "ED", "then": ["MED"]}]}$doc$, 'jsonb'),
  ('doc_b', $doc${
     "format": "receptor-planner/instance@1", "org": {"name": "Matrix Org B"}, "cohort": "PGY3+",
     "start_date": "2027-01-04", "term_weeks": [26, 26], "leave": {"weeks": 0},
     "positions": [
       {"key": "MED", "name": "General Medicine", "specialty": "General Medicine", "categories": ["A"], "capacity": 2}],
     "pins": []}$doc$, 'jsonb');

-- The blank service workbook of `planner template` (its example rows make a two-post service), for
-- planner.import_xlsx.
create function pg_temp.service_workbook_template() returns bytea language plpython3u as $py$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.service_workbook import template_bytes
return template_bytes()
$py$;
insert into fixture (name, value, type)
  values ('workbook_a', '\x' || encode(pg_temp.service_workbook_template(), 'hex'), 'bytea');

-- Each org a service of its own: team, positions, plan, allocation run, posts (and org A a pin and
-- local rules: groups, a line rule, a link).
insert into fixture (name, value) values
  ('run_a', planner.import_instance((select value::jsonb from fixture where name = 'doc_a'), pg_temp.id('org_a'))),
  ('run_b', planner.import_instance((select value::jsonb from fixture where name = 'doc_b'), pg_temp.id('org_b')));
insert into fixture (name, value)
select 'position_' || lower(key), id from public.positions where org_id = pg_temp.id('org_a') and key <> 'EXTRA'
union all select 'team_a', id from public.teams where org_id = pg_temp.id('org_a')
union all select 'plan_a', plan_id from public.allocation_runs where id = pg_temp.id('run_a')
union all select 'position_b', id from public.positions where org_id = pg_temp.id('org_b');

-- What import_instance does not make: rows the cells delete without touching others, a second
-- allocation run (its pending planner run is what the cells cancel), affinity profiles, members.
insert into public.positions (id, org_id, key, name, specialty, categories)
  values (pg_temp.id('position_extra'), pg_temp.id('org_a'), 'EXTRA', 'Extra post', 'General Medicine', '{A}');
insert into public.allocation_plans (id, org_id, name, cohort, term_weeks, leave)
  values (pg_temp.id('plan_spare'), pg_temp.id('org_a'), 'Spare plan', 'PGY3+', '{26,26}', '{"weeks": 0}');
insert into public.allocation_runs (id, org_id, plan_id, name, start_date, period_weeks)
  values (pg_temp.id('run_a2'), pg_temp.id('org_a'), pg_temp.id('plan_a'), 'Next year', '2028-01-03', 52);
insert into public.affinity_profiles (id, org_id, name, version, source, weights) values
  (pg_temp.id('profile_a'), pg_temp.id('org_a'), 'Matrix profile', '1', 'pgTAP fixture', '{}'),
  (pg_temp.id('profile_shared'), null, 'Matrix shared profile', '1', 'pgTAP fixture', '{}');

-- Planner runs: one finished (it wrote line 1), one queued on the second allocation run.
insert into public.allocation_planner_runs (id, allocation_run, n_job_lines) values
  (pg_temp.id('planner_run_done'), pg_temp.id('run_a'), 2),
  (pg_temp.id('planner_run_pending'), pg_temp.id('run_a2'), 2);
update public.allocation_planner_runs set status = 'COMPLETED', finished_at = now()
 where id = pg_temp.id('planner_run_done');
insert into public.planner_execution_logs (planner_run_id, event, message)
  values (pg_temp.id('planner_run_done'), 'completed', 'pgTAP fixture');

-- Line 1 tiles the 52 weeks; the history row keeps it as a solution document; line 2 is still empty.
insert into public.job_lines (id, allocation_run_id, planner_run_id, line_no)
  values (pg_temp.id('line_1'), pg_temp.id('run_a'), pg_temp.id('planner_run_done'), 1);
insert into public.rotations (id, job_line_id, kind, position_id, term, start_week, end_week) values
  (pg_temp.id('rotation_1'), pg_temp.id('line_1'), 'clinical', pg_temp.id('position_med'), 1, 1, 26),
  (pg_temp.id('rotation_2'), pg_temp.id('line_1'), 'clinical', pg_temp.id('position_sur'), 2, 27, 52);
insert into public.job_lines_history (id, allocation_run_id, written_by, snapshot)
  values (pg_temp.id('history_a'), pg_temp.id('run_a'), pg_temp.id('planner_run_done'),
          planner.export_solution(pg_temp.id('run_a')));
insert into public.job_lines (id, allocation_run_id, line_no) values (pg_temp.id('line_2'), pg_temp.id('run_a'), 2);
-- Hand edits (57_hand_edits.sql): line 4, whose post of term 1 line 1 can swap for its own and whose
-- leave can move; a lock taken and given back, so the edit record has rows.
insert into public.job_lines (id, allocation_run_id, planner_run_id, line_no)
  values (pg_temp.id('line_4'), pg_temp.id('run_a'), pg_temp.id('planner_run_done'), 4);
insert into public.rotations (job_line_id, kind, position_id, term, start_week, end_week) values
  (pg_temp.id('line_4'), 'clinical', pg_temp.id('position_ed'), 1, 1, 26),
  (pg_temp.id('line_4'), 'clinical', pg_temp.id('position_sur'), 2, 27, 50),
  (pg_temp.id('line_4'), 'leave', null, 2, 51, 52);
do $edits$ begin
  perform planner.lock_line(pg_temp.id('run_a'), 4);
  perform planner.unlock_line(pg_temp.id('run_a'), 4);
end $edits$;

do $members$ begin
  perform planner.add_member(pg_temp.id(org), pg_temp.id(member), role)
     from (values ('org_a', 'admin_a', 'admin'), ('org_a', 'planner_a', 'planner'), ('org_a', 'viewer_a', 'viewer'),
                 ('org_a', 'member_a', 'viewer'), ('org_b', 'planner_b', 'planner')) as m (org, member, role);
end $members$;

-- The deferred checks (tiling, the position keys of posts and rotations) of the fixture, now; then
-- deferred again, as they are declared (every deferrable constraint here is initially deferred).
set constraints all immediate;
set constraints all deferred;

-- ---------------------------------------------------------------- the actors

create temp table actors (actor text primary key, ord int not null, role_name text not null, user_key text);
insert into actors values
  ('anon',         1, 'anon',          null),
  ('non_member',   2, 'authenticated', 'non_member'),
  ('viewer_a',     3, 'authenticated', 'viewer_a'),
  ('planner_a',    4, 'authenticated', 'planner_a'),
  ('admin_a',      5, 'authenticated', 'admin_a'),
  ('planner_b',    6, 'authenticated', 'planner_b'),
  ('service_role', 7, 'service_role',  null);

-- ---------------------------------------------------------------- the expectations (docs/security.md shows this grid)

create temp table expectations (
  ord serial, target text, action text,
  anon text, non_member text, viewer_a text, planner_a text, admin_a text, planner_b text, service_role text,
  primary key (target, action));
insert into expectations (target, action, anon, non_member, viewer_a, planner_a, admin_a, planner_b, service_role) values
  -- target                         action      anon    non_member viewer_a planner_a admin_a planner_b service_role
  ('orgs',                         'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('orgs',                         'insert',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('orgs',                         'update',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('orgs',                         'delete',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('org_members',                  'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('org_members',                  'insert',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('org_members',                  'update',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('org_members',                  'delete',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('teams',                        'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('teams',                        'insert',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('teams',                        'update',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('teams',                        'delete',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('positions',                    'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('positions',                    'insert',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('positions',                    'update',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('positions',                    'delete',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('affinity_profiles',            'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('affinity_profiles',            'insert',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('affinity_profiles',            'update',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('affinity_profiles',            'delete',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('affinity_profiles (shared)',   'select',   'deny', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow'),
  ('affinity_profiles (shared)',   'insert',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('affinity_profiles (shared)',   'update',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('affinity_profiles (shared)',   'delete',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('allocation_plans',             'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_plans',             'insert',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_plans',             'update',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_plans',             'delete',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_runs',              'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_runs',              'insert',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_runs',              'update',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_runs',              'delete',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_posts',         'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_posts',         'insert',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_posts',         'update',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_posts',         'delete',   'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_pins',          'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_pins',          'insert',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_pins',          'update',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_pins',          'delete',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_groups',         'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_groups',         'insert',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_groups',         'update',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_groups',         'delete',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_group_members',  'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_group_members',  'insert',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_group_members',  'update',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_group_members',  'delete',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_line_rules',     'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_line_rules',     'insert',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_line_rules',     'update',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_line_rules',     'delete',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_links',          'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_links',          'insert',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_links',          'update',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_links',          'delete',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_link_targets',   'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_run_link_targets',   'insert',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_link_targets',   'update',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_run_link_targets',   'delete',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('allocation_planner_runs',      'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('allocation_planner_runs',      'insert',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('allocation_planner_runs',      'update',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('allocation_planner_runs',      'delete',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('job_lines',                    'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('job_lines',                    'insert',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('job_lines',                    'update',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('job_lines',                    'delete',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('rotations',                    'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('rotations',                    'insert',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('rotations',                    'update',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('rotations',                    'delete',   'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('job_lines_history',            'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('job_lines_history',            'insert',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('job_lines_history',            'update',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('job_lines_history',            'delete',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('planner_execution_logs',       'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('planner_execution_logs',       'insert',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('planner_execution_logs',       'update',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('planner_execution_logs',       'delete',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('job_line_edits',               'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('job_line_edits',               'insert',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('job_line_edits',               'update',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('job_line_edits',               'delete',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('job_line_compliance',          'select',   'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('job_line_compliance',          'insert',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('job_line_compliance',          'update',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('job_line_compliance',          'delete',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('planner.cancel_run',           'execute',  'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('planner.add_member',           'execute',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('planner.remove_member',        'execute',  'deny', 'deny', 'deny',  'deny',  'allow', 'deny', 'allow'),
  ('planner.export_instance',      'execute',  'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('planner.export_solution',      'execute',  'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('planner.check_allocation_run', 'execute',  'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('planner.report_html',          'execute',  'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('planner.export_xlsx',          'execute',  'deny', 'deny', 'allow', 'allow', 'allow', 'deny', 'allow'),
  ('planner.assign_post',          'execute',  'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('planner.swap_posts',           'execute',  'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('planner.move_leave',           'execute',  'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('planner.lock_line',            'execute',  'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('planner.unlock_line',          'execute',  'deny', 'deny', 'deny',  'allow', 'allow', 'deny', 'allow'),
  ('planner.import_instance',      'execute',  'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('planner.import_xlsx',          'execute',  'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('planner.restore_job_lines',    'execute',  'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'allow'),
  ('planner.solve_run',            'execute',  'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('planner.rescue',               'execute',  'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('planner.prune',                'execute',  'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('planner.schedule_workers',     'execute',  'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('planner.unschedule_workers',   'execute',  'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('planner.worker_statement',     'execute',  'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('planner.worker_statement',     'do',       'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('planner.settings',             'select',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny'),
  ('planner.settings',             'update',   'deny', 'deny', 'deny',  'deny',  'deny',  'deny', 'deny');

-- ---------------------------------------------------------------- what each cell runs (the same for every actor)

create temp table statements (target text, action text, statement text not null, primary key (target, action));
insert into statements values
  ('orgs', 'select', $$select 1 from public.orgs where id = {org_a}$$),
  ('orgs', 'insert', $$insert into public.orgs (name) values ('Matrix Org C')$$),
  ('orgs', 'update', $$update public.orgs set name = 'Renamed' where id = {org_a}$$),
  ('orgs', 'delete', $$delete from public.orgs where id = {org_a}$$),
  ('org_members', 'select', $$select 1 from public.org_members where org_id = {org_a} and user_id = {member_a}$$),
  ('org_members', 'insert', $$insert into public.org_members (org_id, user_id, role) values ({org_a}, {newcomer}, 'viewer')$$),
  ('org_members', 'update', $$update public.org_members set role = 'planner' where org_id = {org_a} and user_id = {member_a}$$),
  ('org_members', 'delete', $$delete from public.org_members where org_id = {org_a} and user_id = {member_a}$$),
  ('teams', 'select', $$select 1 from public.teams where id = {team_a}$$),
  ('teams', 'insert', $$insert into public.teams (org_id, name) values ({org_a}, 'Surgery')$$),
  ('teams', 'update', $$update public.teams set name = 'Renamed' where id = {team_a}$$),
  ('teams', 'delete', $$delete from public.teams where id = {team_a}$$),
  ('positions', 'select', $$select 1 from public.positions where id = {position_med}$$),
  ('positions', 'insert', $$insert into public.positions (org_id, key, name, specialty, categories)
                            values ({org_a}, 'NEW', 'New post', 'General Medicine', '{A}')$$),
  ('positions', 'update', $$update public.positions set name = 'Renamed' where id = {position_med}$$),
  ('positions', 'delete', $$delete from public.positions where id = {position_extra}$$),
  ('affinity_profiles', 'select', $$select 1 from public.affinity_profiles where id = {profile_a}$$),
  ('affinity_profiles', 'insert', $$insert into public.affinity_profiles (org_id, name, version, source, weights)
                                    values ({org_a}, 'Another profile', '1', 'pgTAP', '{}')$$),
  ('affinity_profiles', 'update', $$update public.affinity_profiles set source = 'Revised' where id = {profile_a}$$),
  ('affinity_profiles', 'delete', $$delete from public.affinity_profiles where id = {profile_a}$$),
  ('affinity_profiles (shared)', 'select', $$select 1 from public.affinity_profiles where id = {profile_shared}$$),
  ('affinity_profiles (shared)', 'insert', $$insert into public.affinity_profiles (org_id, name, version, source, weights)
                                             values (null, 'Another shared profile', '1', 'pgTAP', '{}')$$),
  ('affinity_profiles (shared)', 'update', $$update public.affinity_profiles set source = 'Revised' where id = {profile_shared}$$),
  ('affinity_profiles (shared)', 'delete', $$delete from public.affinity_profiles where id = {profile_shared}$$),
  ('allocation_plans', 'select', $$select 1 from public.allocation_plans where id = {plan_a}$$),
  ('allocation_plans', 'insert', $$insert into public.allocation_plans (org_id, name, cohort, term_weeks, leave)
                                   values ({org_a}, 'New plan', 'PGY3+', '{26,26}', '{}')$$),
  ('allocation_plans', 'update', $$update public.allocation_plans set name = 'Renamed' where id = {plan_spare}$$),
  ('allocation_plans', 'delete', $$delete from public.allocation_plans where id = {plan_spare}$$),
  ('allocation_runs', 'select', $$select 1 from public.allocation_runs where id = {run_a}$$),
  ('allocation_runs', 'insert', $$insert into public.allocation_runs (org_id, plan_id, name, start_date, period_weeks)
                                  values ({org_a}, {plan_a}, 'Another year', '2029-01-01', 52)$$),
  ('allocation_runs', 'update', $$update public.allocation_runs set name = 'Renamed' where id = {run_a}$$),
  ('allocation_runs', 'delete', $$delete from public.allocation_runs where id = {run_a2}$$),
  ('allocation_run_posts', 'select', $$select 1 from public.allocation_run_posts where allocation_run_id = {run_a}$$),
  ('allocation_run_posts', 'insert', $$insert into public.allocation_run_posts (allocation_run_id, position_id, term, capacity)
                                       values ({run_a}, {position_extra}, 1, 1)$$),
  ('allocation_run_posts', 'update', $$update public.allocation_run_posts set capacity = 3
                                        where allocation_run_id = {run_a} and position_id = {position_med} and term = 1$$),
  ('allocation_run_posts', 'delete', $$delete from public.allocation_run_posts
                                        where allocation_run_id = {run_a} and position_id = {position_ed} and term = 2$$),
  ('allocation_run_pins', 'select', $$select 1 from public.allocation_run_pins where allocation_run_id = {run_a}$$),
  ('allocation_run_pins', 'insert', $$insert into public.allocation_run_pins (allocation_run_id, line_no, term, position_id)
                                      values ({run_a}, 2, 1, {position_med})$$),
  ('allocation_run_pins', 'update', $$update public.allocation_run_pins set position_id = {position_sur}
                                       where allocation_run_id = {run_a} and line_no = 1 and term = 1$$),
  ('allocation_run_pins', 'delete', $$delete from public.allocation_run_pins where allocation_run_id = {run_a}$$),
  ('allocation_run_groups', 'select', $$select 1 from public.allocation_run_groups where allocation_run_id = {run_a}$$),
  -- A group lists at least one position (checked at commit): the group and its member in one statement.
  ('allocation_run_groups', 'insert', $$with g as (insert into public.allocation_run_groups (allocation_run_id, name, ordinal)
                                                   values ({run_a}, 'new group', 9) returning allocation_run_id, name)
                                        insert into public.allocation_run_group_members (allocation_run_id, group_name,
                                                                                         position_id, ordinal)
                                        select allocation_run_id, name, {position_ed}, 1 from g$$),
  -- Renaming a group renames it in its members and line rules too.
  ('allocation_run_groups', 'update', $$update public.allocation_run_groups set name = 'core renamed'
                                        where allocation_run_id = {run_a} and name = 'core'$$),
  ('allocation_run_groups', 'delete', $$delete from public.allocation_run_groups
                                        where allocation_run_id = {run_a} and name = 'spare'$$),
  ('allocation_run_group_members', 'select', $$select 1 from public.allocation_run_group_members
                                               where allocation_run_id = {run_a}$$),
  ('allocation_run_group_members', 'insert', $$insert into public.allocation_run_group_members
                                               (allocation_run_id, group_name, position_id, ordinal)
                                               values ({run_a}, 'spare', {position_med}, 2)$$),
  ('allocation_run_group_members', 'update', $$update public.allocation_run_group_members set ordinal = 3
                                               where allocation_run_id = {run_a} and group_name = 'core'
                                                 and position_id = {position_sur}$$),
  ('allocation_run_group_members', 'delete', $$delete from public.allocation_run_group_members
                                               where allocation_run_id = {run_a} and group_name = 'core'
                                                 and position_id = {position_sur}$$),
  ('allocation_run_line_rules', 'select', $$select 1 from public.allocation_run_line_rules where allocation_run_id = {run_a}$$),
  ('allocation_run_line_rules', 'insert', $$insert into public.allocation_run_line_rules
                                            (allocation_run_id, name, ordinal, group_name, min_placements, max_placements)
                                            values ({run_a}, 'at most one core term', 2, 'core', null, 1)$$),
  ('allocation_run_line_rules', 'update', $$update public.allocation_run_line_rules set max_placements = 2
                                            where allocation_run_id = {run_a} and name = 'core terms'$$),
  ('allocation_run_line_rules', 'delete', $$delete from public.allocation_run_line_rules
                                            where allocation_run_id = {run_a} and name = 'core terms'$$),
  ('allocation_run_links', 'select', $$select 1 from public.allocation_run_links where allocation_run_id = {run_a}$$),
  -- A link asks for at least one post (checked at commit): the link and its target in one statement.
  ('allocation_run_links', 'insert', $$with l as (insert into public.allocation_run_links (allocation_run_id, name, ordinal,
                                                                                         if_position_id)
                                                  values ({run_a}, 'surgery with ED', 2, {position_sur})
                                                  returning allocation_run_id, name)
                                       insert into public.allocation_run_link_targets (allocation_run_id, link_name,
                                                                                       position_id, ordinal)
                                       select allocation_run_id, name, {position_ed}, 1 from l$$),
  ('allocation_run_links', 'update', $$update public.allocation_run_links set name = 'ED with general medicine'
                                       where allocation_run_id = {run_a} and name = 'ED with medicine'$$),
  ('allocation_run_links', 'delete', $$delete from public.allocation_run_links
                                       where allocation_run_id = {run_a} and name = 'ED with medicine'$$),
  ('allocation_run_link_targets', 'select', $$select 1 from public.allocation_run_link_targets
                                              where allocation_run_id = {run_a}$$),
  ('allocation_run_link_targets', 'insert', $$insert into public.allocation_run_link_targets
                                              (allocation_run_id, link_name, position_id, ordinal)
                                              values ({run_a}, 'ED with medicine', {position_sur}, 2)$$),
  ('allocation_run_link_targets', 'update', $$update public.allocation_run_link_targets set ordinal = 2
                                              where allocation_run_id = {run_a} and link_name = 'ED with medicine'$$),
  -- The link keeps a target (checked at commit): its only one is swapped for another.
  ('allocation_run_link_targets', 'delete', $$with gone as (delete from public.allocation_run_link_targets
                                                             where allocation_run_id = {run_a}
                                                               and link_name = 'ED with medicine'
                                                            returning allocation_run_id, link_name, ordinal)
                                              insert into public.allocation_run_link_targets (allocation_run_id,
                                                                                              link_name, position_id, ordinal)
                                              select allocation_run_id, link_name, {position_sur}, ordinal from gone$$),
  ('allocation_planner_runs', 'select', $$select 1 from public.allocation_planner_runs where id = {planner_run_done}$$),
  ('allocation_planner_runs', 'insert', $$insert into public.allocation_planner_runs (allocation_run, n_job_lines)
                                          values ({run_a}, 2)$$),
  -- The one update a user may make: cancelling an active run.
  ('allocation_planner_runs', 'update', $$update public.allocation_planner_runs set status = 'CANCELLED'
                                           where id = {planner_run_pending}$$),
  ('allocation_planner_runs', 'delete', $$delete from public.allocation_planner_runs where id = {planner_run_done}$$),
  ('job_lines', 'select', $$select 1 from public.job_lines where id = {line_1}$$),
  ('job_lines', 'insert', $$insert into public.job_lines (allocation_run_id, line_no) values ({run_a}, 3)$$),
  ('job_lines', 'update', $$update public.job_lines set name = 'Renamed' where id = {line_1}$$),
  ('job_lines', 'delete', $$delete from public.job_lines where id = {line_1}$$),
  ('rotations', 'select', $$select 1 from public.rotations where id = {rotation_1}$$),
  -- Rotation edits that keep the weeks tiled, as a commit demands: line 2 filled in one statement,
  -- a post swapped, a rotation deleted and written again.
  ('rotations', 'insert', $$insert into public.rotations (job_line_id, kind, position_id, term, start_week, end_week)
                            values ({line_2}, 'clinical', {position_med}, 1, 1, 26),
                                   ({line_2}, 'clinical', {position_ed}, 2, 27, 52)$$),
  ('rotations', 'update', $$update public.rotations set position_id = {position_ed} where id = {rotation_1}$$),
  ('rotations', 'delete', $$with gone as (delete from public.rotations where id = {rotation_2}
                                           returning job_line_id, kind, position_id, term, start_week, end_week)
                            insert into public.rotations (job_line_id, kind, position_id, term, start_week, end_week)
                            select * from gone$$),
  ('job_lines_history', 'select', $$select 1 from public.job_lines_history where id = {history_a}$$),
  ('job_lines_history', 'insert', $$insert into public.job_lines_history (allocation_run_id, snapshot)
                                    values ({run_a}, '{"format": "receptor-planner/solution@1", "lines": []}')$$),
  ('job_lines_history', 'update', $$update public.job_lines_history set n_lines = 0 where id = {history_a}$$),
  ('job_lines_history', 'delete', $$delete from public.job_lines_history where id = {history_a}$$),
  ('planner_execution_logs', 'select', $$select 1 from public.planner_execution_logs where planner_run_id = {planner_run_done}$$),
  ('planner_execution_logs', 'insert', $$insert into public.planner_execution_logs (planner_run_id, event)
                                         values ({planner_run_done}, 'forged')$$),
  ('planner_execution_logs', 'update', $$update public.planner_execution_logs set message = 'forged'
                                          where planner_run_id = {planner_run_done}$$),
  ('planner_execution_logs', 'delete', $$delete from public.planner_execution_logs where planner_run_id = {planner_run_done}$$),
  -- The record of hand edits: read like the lines, written by the verbs and triggers alone.
  ('job_line_edits', 'select', $$select 1 from public.job_line_edits where allocation_run_id = {run_a}$$),
  ('job_line_edits', 'insert', $$insert into public.job_line_edits (org_id, allocation_run_id, job_line_id, line_no,
                                                                  verb, edited_as, after)
                                 values ({org_a}, {run_a}, {line_1}, 1, 'direct edit', 'forged', '{}')$$),
  ('job_line_edits', 'update', $$update public.job_line_edits set verb = 'direct edit' where allocation_run_id = {run_a}$$),
  ('job_line_edits', 'delete', $$delete from public.job_line_edits where allocation_run_id = {run_a}$$),
  -- A view: read-only for everyone (a join, so PostgreSQL cannot write through it).
  ('job_line_compliance', 'select', $$select 1 from public.job_line_compliance where job_line_id = {line_1}$$),
  ('job_line_compliance', 'insert', $$insert into public.job_line_compliance (allocation_run_id, line_no)
                                      values ({run_a}, 3)$$),
  ('job_line_compliance', 'update', $$update public.job_line_compliance set line_no = 9 where job_line_id = {line_1}$$),
  ('job_line_compliance', 'delete', $$delete from public.job_line_compliance where job_line_id = {line_1}$$),
  -- Verbs: each raises rather than return nothing, except remove_member (false when no one was removed).
  ('planner.cancel_run', 'execute', $$select planner.cancel_run({planner_run_pending})$$),
  ('planner.add_member', 'execute', $$select planner.add_member({org_a}, {newcomer}, 'viewer')$$),
  ('planner.remove_member', 'execute', $$select 1 where planner.remove_member({org_a}, {member_a})$$),
  ('planner.export_instance', 'execute', $$select planner.export_instance({run_a})$$),
  ('planner.export_solution', 'execute', $$select 1 where planner.export_solution({run_a}) -> 'lines' <> '[]'$$),
  -- Line 2, without rotations, breaks rules: a reader gets rows.
  ('planner.check_allocation_run', 'execute', $$select 1 from planner.check_allocation_run({run_a})$$),
  -- The page of line 1 and the empty line 2: a grid row per line.
  ('planner.report_html', 'execute', $$select 1 where planner.report_html({run_a}) like '%<tr class="line" id="line-2"%'$$),
  -- The workbook of line 1 and the empty line 2: an .xlsx file is a zip archive (PK).
  ('planner.export_xlsx', 'execute', $$select 1 where substr(planner.export_xlsx({run_a}), 1, 2) = 'PK'::bytea$$),
  -- Hand edits that keep every structural rule: line 1 takes ED in term 2, or swaps term 1 with line 4
  -- (MED for ED); line 4's leave moves within term 2; line 2 is locked; line 4 (unlocked) stays so.
  ('planner.assign_post', 'execute', $$select planner.assign_post({run_a}, 1, 2, 'ED')$$),
  ('planner.swap_posts', 'execute', $$select planner.swap_posts({run_a}, 1, 1, 4)$$),
  ('planner.move_leave', 'execute', $$select planner.move_leave({run_a}, 4, 51, 40)$$),
  ('planner.lock_line', 'execute', $$select planner.lock_line({run_a}, 2)$$),
  ('planner.unlock_line', 'execute', $$select planner.unlock_line({run_a}, 4)$$),
  ('planner.import_instance', 'execute', $$select planner.import_instance({doc_a}, {org_a})$$),
  ('planner.import_xlsx', 'execute', $$select planner.import_xlsx({workbook_a}, {org_a})$$),
  ('planner.restore_job_lines', 'execute', $$select planner.restore_job_lines({history_a})$$),
  ('planner.solve_run', 'execute', $$select planner.solve_run({planner_run_pending})$$),
  ('planner.rescue', 'execute', $$select planner.rescue()$$),
  ('planner.prune', 'execute', $$select planner.prune()$$),
  ('planner.schedule_workers', 'execute', $$select planner.schedule_workers()$$),
  ('planner.unschedule_workers', 'execute', $$select planner.unschedule_workers()$$),
  ('planner.worker_statement', 'execute', $$select planner.worker_statement(1, 0)$$),
  ('planner.settings', 'select', $$select 1 from planner.settings$$),
  ('planner.settings', 'update', $$update planner.settings set max_queued_per_org = 1$$);
-- The worker itself: the DO block that pg_cron runs, for no time at all.
insert into statements select 'planner.worker_statement', 'do', planner.worker_statement(1, 0);

-- ---------------------------------------------------------------- running a cell

-- As the actor (SET LOCAL ROLE and the JWT claims, as PostgREST does), in a subtransaction that a
-- private exception always rolls back: the cell's effect never reaches the next cell.
create function pg_temp.run_cell(role_name text, user_id uuid, statement text, out outcome text, out detail text)
language plpgsql as $$
declare
  affected bigint;
  code     text;
  message  text;
begin
  begin
    execute format('set local role %I', role_name);
    perform set_config('request.jwt.claims',
                       jsonb_strip_nulls(jsonb_build_object('role', role_name, 'sub', user_id))::text, true);
    execute statement;
    get diagnostics affected = row_count;
    -- What a commit would check next: a cell must leave the data as a commit takes it.
    set constraints all immediate;
    if statement ~* '^\s*do\s' then
      affected := 1;  -- a DO block returns no rows: getting to run it is the privilege
    end if;
    raise exception using errcode = 'RB001', message = affected::text;  -- RB001: this file's own
  exception
    when sqlstate 'RB001' then
      get stacked diagnostics message = message_text;
      outcome := case when message::bigint > 0 then 'allow' else 'deny' end;
      detail := format('ran, %s row(s)', message);
    when others then
      get stacked diagnostics code = returned_sqlstate, message = message_text;
      outcome := 'deny';
      detail := format('%s %s', code, message);
  end;
  set constraints all deferred;  -- as declared, for the next cell
end
$$;

create function pg_temp.with_fixture(statement text) returns text language plpgsql as $$
declare
  named record;
begin
  for named in select name, value, type from fixture loop
    statement := replace(statement, '{' || named.name || '}', quote_literal(named.value) || '::' || named.type);
  end loop;
  if statement ~ '\{[a-z_0-9]+\}' then
    raise exception 'matrix: unknown fixture name in %', statement;
  end if;
  return statement;
end
$$;

create temp table results as
select e.ord, a.ord as actor_ord, a.actor, e.target, e.action,
       (to_jsonb(e) ->> a.actor) as expected, null::text as actual, null::text as detail,
       pg_temp.with_fixture(s.statement) as statement, a.role_name, pg_temp.id(a.user_key) as user_id
  from expectations e
  join statements s using (target, action)
  cross join actors a;

do $run$
declare
  cell record;
  ran  record;
begin
  for cell in select * from results order by ord, actor_ord loop
    select * into ran from pg_temp.run_cell(cell.role_name, cell.user_id, cell.statement);
    update results set actual = ran.outcome, detail = ran.detail
     where ord = cell.ord and actor = cell.actor;
  end loop;
end
$run$;

-- ---------------------------------------------------------------- the matrix is whole

select set_eq(
  $$select split_part(target, ' ', 1) from expectations where target not like 'planner.%'$$,
  $$select tablename::text from pg_tables where schemaname = 'public'
    union select viewname::text from pg_views where schemaname = 'public'$$,
  'the matrix covers every table and view in public');
select set_eq(
  $$select target from expectations where target like 'planner.%' and target <> 'planner.settings'$$,
  $$select 'planner.' || p.proname from pg_proc p
     where p.pronamespace = 'planner'::regnamespace and p.proname !~ '^_'$$,
  'the matrix covers every verb in schema planner');
select is((select count(*)::int from expectations e left join statements s using (target, action) where s.statement is null),
          0, 'every expectation has a statement');
select is((select count(*)::int from statements s left join expectations e using (target, action) where e.target is null),
          0, 'every statement has an expectation');
select is((select count(*)::int from results where actual is null), 0, 'every cell ran');
select is((select count(*)::int from (select target from expectations where target not like 'planner.%'
                                        group by target
                                       having array_agg(action order by action) <> '{delete,insert,select,update}') odd),
          0, 'every table and view is tried with select, insert, update and delete');

-- ---------------------------------------------------------------- the cells

select is(actual, expected, format('%s %s %s', actor, action, target))
  from results order by ord, actor_ord;
-- What went differently, for whoever reads a failure.
select diag(format('%s %s %s: expected %s, got %s (%s)', actor, action, target, expected, actual, detail))
  from results where actual is distinct from expected order by ord, actor_ord;

-- ---------------------------------------------------------------- no cell disturbed another

select is((select name from public.orgs where id = pg_temp.id('org_a')), 'Matrix Org A', 'org A kept its name');
select is((select status from public.allocation_planner_runs where id = pg_temp.id('planner_run_pending')), 'PENDING',
          'the queued planner run is still queued');
select is((select role from public.org_members where org_id = pg_temp.id('org_a') and user_id = pg_temp.id('member_a')),
          'viewer', 'the member the cells change is still a viewer');
select is((select count(*)::int from public.rotations where job_line_id = pg_temp.id('line_1')), 2,
          'line 1 still has its two rotations');

select * from finish();
rollback;
