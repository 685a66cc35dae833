-- Generated from sql/90_grants.sql by `make migrations`: edit sql/90_grants.sql, not this file.
-- 90_grants.sql: least privilege for Supabase's API roles.
--
-- anon: nothing. authenticated: reads every table (RLS picks the rows), writes
-- only the columns a user may set, and calls the few verbs meant for users.
-- service_role (bypassrls): the server side of the API; it also imports
-- instances and restores lines. Solving, the worker, the rescuer and the
-- schedule belong to the owner alone (pg_cron runs them as the owner).
-- Supabase grants every new table in public to anon and authenticated by
-- default; those grants are taken back here, table by table. Re-applied on
-- every schema load, so objects added above are covered too.

-- ---------------------------------------------------------------- tables

do $tables$
declare
  table_name text;
begin
  foreach table_name in array array[
      'orgs', 'org_members', 'teams', 'positions', 'affinity_profiles', 'allocation_plans', 'allocation_runs',
      'allocation_run_posts', 'allocation_run_pins', 'allocation_run_groups', 'allocation_run_group_members',
      'allocation_run_line_rules', 'allocation_run_links', 'allocation_run_link_targets', 'allocation_planner_runs',
      'job_lines', 'rotations', 'job_lines_history', 'planner_execution_logs'] loop
    execute format('revoke all on public.%I from public, anon, authenticated', table_name);
    execute format('grant select on public.%I to authenticated', table_name);
    execute format('grant select, insert, update, delete on public.%I to service_role', table_name);
  end loop;
end
$tables$;
grant usage on sequence public.planner_execution_logs_id_seq to service_role;
-- Views: read-only, and security_invoker, so the tables' RLS decides the rows.
revoke all on public.job_line_compliance from public, anon, authenticated, service_role;
grant select on public.job_line_compliance to authenticated, service_role;

-- What users write, column by column: never org_id (the triggers derive it), never an outcome.
grant update (name) on public.orgs to authenticated;
grant insert (org_id, user_id, role), update (role), delete on public.org_members to authenticated;
grant insert (org_id, name), update (name), delete on public.teams to authenticated;
grant insert (org_id, team_id, key, name, specialty, subspecialty, categories, service, nights, rural,
              non_clinical, excludable, site, span),
      update (team_id, key, name, specialty, subspecialty, categories, service, nights, rural, non_clinical,
              excludable, site, span),
      delete on public.positions to authenticated;
grant insert (org_id, name, version, source, weights), update (name, version, source, weights), delete
  on public.affinity_profiles to authenticated;
grant insert (org_id, name, cohort, term_weeks, leave), update (name, cohort, term_weeks, leave), delete
  on public.allocation_plans to authenticated;
grant insert (org_id, plan_id, name, start_date, period_weeks, affinity_profile_id, home_site_min_terms),
      update (plan_id, name, start_date, period_weeks, affinity_profile_id, home_site_min_terms), delete
  on public.allocation_runs to authenticated;
grant insert (allocation_run_id, position_id, term, capacity, min_fill, may_start),
      update (capacity, min_fill, may_start), delete
  on public.allocation_run_posts to authenticated;
-- A run's local rules: never moved to another run (allocation_run_id is set on insert only).
grant insert (allocation_run_id, name, ordinal), update (name, ordinal), delete
  on public.allocation_run_groups to authenticated;
grant insert (allocation_run_id, group_name, position_id, ordinal), update (position_id, ordinal), delete
  on public.allocation_run_group_members to authenticated;
grant insert (allocation_run_id, name, ordinal, group_name, min_placements, max_placements),
      update (name, ordinal, group_name, min_placements, max_placements), delete
  on public.allocation_run_line_rules to authenticated;
grant insert (allocation_run_id, name, ordinal, if_position_id), update (name, ordinal, if_position_id), delete
  on public.allocation_run_links to authenticated;
grant insert (allocation_run_id, link_name, position_id, ordinal), update (position_id, ordinal), delete
  on public.allocation_run_link_targets to authenticated;
grant insert (allocation_run_id, line_no, term, position_id), update (position_id), delete
  on public.allocation_run_pins to authenticated;
-- A run is inserted as a request; status, attempt and the outcome are the worker's.
grant insert (allocation_run, n_job_lines, constraints, options, affinity_profile_id),
      update (status, finished_at, error)  -- the policy allows only status = 'CANCELLED'
  on public.allocation_planner_runs to authenticated;
grant insert (allocation_run_id, line_no, name), update (line_no, name), delete
  on public.job_lines to authenticated;
grant insert (job_line_id, kind, position_id, term, start_week, end_week, start_date, end_date),
      update (kind, position_id, term, start_week, end_week, start_date, end_date), delete
  on public.rotations to authenticated;

-- ---------------------------------------------------------------- schema planner

-- Settings and views are the DBA's (the owner's): no grant.
revoke all on schema planner from public, anon;
grant usage on schema planner to authenticated, service_role;
revoke all on all tables in schema planner from public, anon, authenticated, service_role;

-- routines: functions, procedures and aggregates alike. PostgreSQL grants EXECUTE on every new
-- function to PUBLIC; the untrusted plpython3u functions must not be.
revoke execute on all routines in schema planner from public, anon, authenticated, service_role;

-- No grant for the solver's own writes (52_run_state.sql: the fenced status write, the log, the lines):
-- solve_run and the worker run as the owner, restore_job_lines as its definer.
-- The policies' helpers run as the caller.
grant execute on function planner._my_orgs(text), planner._is_trusted() to authenticated, service_role;
-- Verbs for users: each checks its caller through RLS.
grant execute on function planner.cancel_run(uuid), planner.add_member(uuid, uuid, text),
  planner.remove_member(uuid, uuid), planner.export_instance(uuid), planner.export_solution(uuid),
  planner.check_allocation_run(uuid)
  to authenticated, service_role;
-- The checker on two documents, for check_allocation_run (which runs as the caller): it reads no table.
grant execute on function planner._check_documents(jsonb, jsonb) to authenticated, service_role;
-- The server side of the API: writes whole documents.
grant execute on function planner.import_instance(jsonb, uuid), planner.restore_job_lines(uuid) to service_role;

-- The PMCV-style workbook out (sql/43_export_xlsx.sql): export_xlsx runs as the caller, so RLS decides
-- which runs a member may export; the builder behind it reads no table.
grant execute on function planner.export_xlsx(uuid), planner._lines_workbook(jsonb, jsonb)
  to authenticated, service_role;

-- The service workbook in (sql/42_import_xlsx.sql): the same caller as import_instance, which it calls
-- as its definer; the reader behind it needs no grant.
grant execute on function planner.import_xlsx(bytea, uuid) to service_role;

-- The picture of the year (sql/44_report.sql): report_html runs as the caller, so RLS decides which runs
-- a member may draw; the drawing behind it reads no table.
grant execute on function planner.report_html(uuid), planner._report_page(jsonb, jsonb, jsonb)
  to authenticated, service_role;

-- Hand edits (sql/15_edit_tables.sql, sql/57_hand_edits.sql): the verbs check their caller themselves
-- (planners and admins of the run's org, and trusted roles) and write the edit record as its definer. The
-- record is read under RLS and written by nobody else, service_role included: a record anyone could
-- rewrite would record nothing. job_lines.locked has no column grant: only lock_line and unlock_line set it.
revoke all on public.job_line_edits from public, anon, authenticated, service_role;
grant select on public.job_line_edits to authenticated, service_role;
grant execute on function planner.assign_post(uuid, int, int, text), planner.swap_posts(uuid, int, int, int),
  planner.move_leave(uuid, int, int, int), planner.lock_line(uuid, int), planner.unlock_line(uuid, int)
  to authenticated, service_role;
