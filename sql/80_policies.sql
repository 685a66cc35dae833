-- 80_policies.sql: who may read and write what, row by row (RLS).
--
-- Every policy is for the role authenticated and asks one helper,
-- planner._my_orgs(role), which orgs the signed-in user holds that role in
-- (viewer < planner < admin). anon has no policy and no grant: it sees
-- nothing. service_role and the owner (the worker) bypass RLS. One policy per
-- table and command, so no two permissive policies are OR-ed together.
--
-- Re-applied on every schema load: each policy is dropped and created again.


-- ---------------------------------------------------------------- orgs and members

drop policy if exists "Orgs are visible to their members" on public.orgs;
create policy "Orgs are visible to their members" on public.orgs for select to authenticated
  using (id in (select planner._my_orgs('viewer')));
drop policy if exists "Admins rename their org" on public.orgs;
create policy "Admins rename their org" on public.orgs for update to authenticated
  using (id in (select planner._my_orgs('admin')))
  with check (id in (select planner._my_orgs('admin')));
drop policy if exists "Members see who else is in their org" on public.org_members;
create policy "Members see who else is in their org" on public.org_members for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Admins add members to their org" on public.org_members;
create policy "Admins add members to their org" on public.org_members for insert to authenticated
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins change members' roles in their org" on public.org_members;
create policy "Admins change members' roles in their org" on public.org_members for update to authenticated
  using (org_id in (select planner._my_orgs('admin')))
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins remove members from their org" on public.org_members;
create policy "Admins remove members from their org" on public.org_members for delete to authenticated
  using (org_id in (select planner._my_orgs('admin')));

-- ---------------------------------------------------------------- teams

drop policy if exists "Teams are visible to members of their org" on public.teams;
create policy "Teams are visible to members of their org" on public.teams for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Admins create teams in their org" on public.teams;
create policy "Admins create teams in their org" on public.teams for insert to authenticated
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins change teams of their org" on public.teams;
create policy "Admins change teams of their org" on public.teams for update to authenticated
  using (org_id in (select planner._my_orgs('admin')))
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins delete teams of their org" on public.teams;
create policy "Admins delete teams of their org" on public.teams for delete to authenticated
  using (org_id in (select planner._my_orgs('admin')));

-- ---------------------------------------------------------------- positions

drop policy if exists "Positions are visible to members of their org" on public.positions;
create policy "Positions are visible to members of their org" on public.positions for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Admins create positions in their org" on public.positions;
create policy "Admins create positions in their org" on public.positions for insert to authenticated
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins change positions of their org" on public.positions;
create policy "Admins change positions of their org" on public.positions for update to authenticated
  using (org_id in (select planner._my_orgs('admin')))
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins delete positions of their org" on public.positions;
create policy "Admins delete positions of their org" on public.positions for delete to authenticated
  using (org_id in (select planner._my_orgs('admin')));

-- ---------------------------------------------------------------- plans

drop policy if exists "Plans are visible to members of their org" on public.allocation_plans;
create policy "Plans are visible to members of their org" on public.allocation_plans for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Admins create plans in their org" on public.allocation_plans;
create policy "Admins create plans in their org" on public.allocation_plans for insert to authenticated
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins change plans of their org" on public.allocation_plans;
create policy "Admins change plans of their org" on public.allocation_plans for update to authenticated
  using (org_id in (select planner._my_orgs('admin')))
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins delete plans of their org" on public.allocation_plans;
create policy "Admins delete plans of their org" on public.allocation_plans for delete to authenticated
  using (org_id in (select planner._my_orgs('admin')));

-- ---------------------------------------------------------------- allocation runs

drop policy if exists "Allocation runs are visible to members of their org" on public.allocation_runs;
create policy "Allocation runs are visible to members of their org" on public.allocation_runs for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Admins create allocation runs in their org" on public.allocation_runs;
create policy "Admins create allocation runs in their org" on public.allocation_runs for insert to authenticated
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins change allocation runs of their org" on public.allocation_runs;
create policy "Admins change allocation runs of their org" on public.allocation_runs for update to authenticated
  using (org_id in (select planner._my_orgs('admin')))
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins delete allocation runs of their org" on public.allocation_runs;
create policy "Admins delete allocation runs of their org" on public.allocation_runs for delete to authenticated
  using (org_id in (select planner._my_orgs('admin')));

-- ---------------------------------------------------------------- affinity profiles: the shipped ones (org_id null) are read by all, written by none

drop policy if exists "Affinity profiles are visible to members of their org, shared ones to all" on public.affinity_profiles;
create policy "Affinity profiles are visible to members of their org, shared ones to all" on public.affinity_profiles for select to authenticated
  using (org_id is null or org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Admins create affinity profiles in their org" on public.affinity_profiles;
create policy "Admins create affinity profiles in their org" on public.affinity_profiles for insert to authenticated
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins change affinity profiles of their org" on public.affinity_profiles;
create policy "Admins change affinity profiles of their org" on public.affinity_profiles for update to authenticated
  using (org_id in (select planner._my_orgs('admin')))
  with check (org_id in (select planner._my_orgs('admin')));
drop policy if exists "Admins delete affinity profiles of their org" on public.affinity_profiles;
create policy "Admins delete affinity profiles of their org" on public.affinity_profiles for delete to authenticated
  using (org_id in (select planner._my_orgs('admin')));

-- ---------------------------------------------------------------- posts (admins) and pins (planners), through their allocation run

drop policy if exists "Posts are visible to members of their org" on public.allocation_run_posts;
create policy "Posts are visible to members of their org" on public.allocation_run_posts for select to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('viewer'))));
drop policy if exists "Admins offer posts in their org's allocation runs" on public.allocation_run_posts;
create policy "Admins offer posts in their org's allocation runs" on public.allocation_run_posts for insert to authenticated
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins change posts of their org's allocation runs" on public.allocation_run_posts;
create policy "Admins change posts of their org's allocation runs" on public.allocation_run_posts for update to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))))
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins withdraw posts of their org's allocation runs" on public.allocation_run_posts;
create policy "Admins withdraw posts of their org's allocation runs" on public.allocation_run_posts for delete to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Pins are visible to members of their org" on public.allocation_run_pins;
create policy "Pins are visible to members of their org" on public.allocation_run_pins for select to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('viewer'))));
drop policy if exists "Planners pin placements in their org's allocation runs" on public.allocation_run_pins;
create policy "Planners pin placements in their org's allocation runs" on public.allocation_run_pins for insert to authenticated
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('planner'))));
drop policy if exists "Planners change pins of their org's allocation runs" on public.allocation_run_pins;
create policy "Planners change pins of their org's allocation runs" on public.allocation_run_pins for update to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('planner'))))
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('planner'))));
drop policy if exists "Planners remove pins of their org's allocation runs" on public.allocation_run_pins;
create policy "Planners remove pins of their org's allocation runs" on public.allocation_run_pins for delete to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('planner'))));

-- ---------------------------------------------------------------- local rules (admins), through their allocation run, as posts

drop policy if exists "Groups are visible to members of their org" on public.allocation_run_groups;
create policy "Groups are visible to members of their org" on public.allocation_run_groups for select to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('viewer'))));
drop policy if exists "Admins define groups in their org's allocation runs" on public.allocation_run_groups;
create policy "Admins define groups in their org's allocation runs" on public.allocation_run_groups for insert to authenticated
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins change groups of their org's allocation runs" on public.allocation_run_groups;
create policy "Admins change groups of their org's allocation runs" on public.allocation_run_groups for update to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))))
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins delete groups of their org's allocation runs" on public.allocation_run_groups;
create policy "Admins delete groups of their org's allocation runs" on public.allocation_run_groups for delete to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Group members are visible to members of their org" on public.allocation_run_group_members;
create policy "Group members are visible to members of their org" on public.allocation_run_group_members for select to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('viewer'))));
drop policy if exists "Admins add positions to their org's groups" on public.allocation_run_group_members;
create policy "Admins add positions to their org's groups" on public.allocation_run_group_members for insert to authenticated
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins change members of their org's groups" on public.allocation_run_group_members;
create policy "Admins change members of their org's groups" on public.allocation_run_group_members for update to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))))
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins take positions out of their org's groups" on public.allocation_run_group_members;
create policy "Admins take positions out of their org's groups" on public.allocation_run_group_members for delete to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Line rules are visible to members of their org" on public.allocation_run_line_rules;
create policy "Line rules are visible to members of their org" on public.allocation_run_line_rules for select to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('viewer'))));
drop policy if exists "Admins set line rules in their org's allocation runs" on public.allocation_run_line_rules;
create policy "Admins set line rules in their org's allocation runs" on public.allocation_run_line_rules for insert to authenticated
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins change line rules of their org's allocation runs" on public.allocation_run_line_rules;
create policy "Admins change line rules of their org's allocation runs" on public.allocation_run_line_rules for update to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))))
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins delete line rules of their org's allocation runs" on public.allocation_run_line_rules;
create policy "Admins delete line rules of their org's allocation runs" on public.allocation_run_line_rules for delete to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Links are visible to members of their org" on public.allocation_run_links;
create policy "Links are visible to members of their org" on public.allocation_run_links for select to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('viewer'))));
drop policy if exists "Admins link posts in their org's allocation runs" on public.allocation_run_links;
create policy "Admins link posts in their org's allocation runs" on public.allocation_run_links for insert to authenticated
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins change links of their org's allocation runs" on public.allocation_run_links;
create policy "Admins change links of their org's allocation runs" on public.allocation_run_links for update to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))))
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins delete links of their org's allocation runs" on public.allocation_run_links;
create policy "Admins delete links of their org's allocation runs" on public.allocation_run_links for delete to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Link targets are visible to members of their org" on public.allocation_run_link_targets;
create policy "Link targets are visible to members of their org" on public.allocation_run_link_targets for select to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('viewer'))));
drop policy if exists "Admins add link targets in their org's allocation runs" on public.allocation_run_link_targets;
create policy "Admins add link targets in their org's allocation runs" on public.allocation_run_link_targets for insert to authenticated
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins change link targets of their org's allocation runs" on public.allocation_run_link_targets;
create policy "Admins change link targets of their org's allocation runs" on public.allocation_run_link_targets for update to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))))
  with check (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));
drop policy if exists "Admins remove link targets of their org's allocation runs" on public.allocation_run_link_targets;
create policy "Admins remove link targets of their org's allocation runs" on public.allocation_run_link_targets for delete to authenticated
  using (allocation_run_id in (select r.id from public.allocation_runs r where r.org_id in (select planner._my_orgs('admin'))));

-- ---------------------------------------------------------------- planner runs: planners queue and cancel them; the worker writes the outcome

drop policy if exists "Planner runs are visible to members of their org" on public.allocation_planner_runs;
create policy "Planner runs are visible to members of their org" on public.allocation_planner_runs for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Planners queue planner runs for their org" on public.allocation_planner_runs;
create policy "Planners queue planner runs for their org" on public.allocation_planner_runs for insert to authenticated
  with check (org_id in (select planner._my_orgs('planner')) and status = 'PENDING');
drop policy if exists "Planners cancel their org's active planner runs" on public.allocation_planner_runs;
create policy "Planners cancel their org's active planner runs" on public.allocation_planner_runs for update to authenticated
  using (org_id in (select planner._my_orgs('planner')) and status in ('PENDING', 'GENERATING'))
  with check (org_id in (select planner._my_orgs('planner')) and status = 'CANCELLED');

-- ---------------------------------------------------------------- job lines and rotations: planners edit them by hand (tiling is still checked at commit)

drop policy if exists "Job lines are visible to members of their org" on public.job_lines;
create policy "Job lines are visible to members of their org" on public.job_lines for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Planners add job lines in their org" on public.job_lines;
create policy "Planners add job lines in their org" on public.job_lines for insert to authenticated
  with check (org_id in (select planner._my_orgs('planner')));
drop policy if exists "Planners edit job lines of their org" on public.job_lines;
create policy "Planners edit job lines of their org" on public.job_lines for update to authenticated
  using (org_id in (select planner._my_orgs('planner')))
  with check (org_id in (select planner._my_orgs('planner')));
drop policy if exists "Planners delete job lines of their org" on public.job_lines;
create policy "Planners delete job lines of their org" on public.job_lines for delete to authenticated
  using (org_id in (select planner._my_orgs('planner')));
drop policy if exists "Rotations are visible to members of their org" on public.rotations;
create policy "Rotations are visible to members of their org" on public.rotations for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Planners add rotations in their org" on public.rotations;
create policy "Planners add rotations in their org" on public.rotations for insert to authenticated
  with check (org_id in (select planner._my_orgs('planner')));
drop policy if exists "Planners edit rotations of their org" on public.rotations;
create policy "Planners edit rotations of their org" on public.rotations for update to authenticated
  using (org_id in (select planner._my_orgs('planner')))
  with check (org_id in (select planner._my_orgs('planner')));
drop policy if exists "Planners delete rotations of their org" on public.rotations;
create policy "Planners delete rotations of their org" on public.rotations for delete to authenticated
  using (org_id in (select planner._my_orgs('planner')));

-- ---------------------------------------------------------------- what the solver wrote: read only

drop policy if exists "Job line history is visible to members of its org" on public.job_lines_history;
create policy "Job line history is visible to members of its org" on public.job_lines_history for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
drop policy if exists "Execution logs are visible to members of their org" on public.planner_execution_logs;
create policy "Execution logs are visible to members of their org" on public.planner_execution_logs for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));

-- ---------------------------------------------------------------- hand edits: their record is read like the lines, written by the verbs and triggers only (57_hand_edits.sql)

drop policy if exists "Job line edits are visible to members of their org" on public.job_line_edits;
create policy "Job line edits are visible to members of their org" on public.job_line_edits for select to authenticated
  using (org_id in (select planner._my_orgs('viewer')));
