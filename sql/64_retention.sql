-- 64_retention.sql: what the planner keeps, and for how long. planner.prune() runs daily from pg_cron
-- (planner.schedule_workers installs the job): execution logs and the pg_cron run records of the
-- planner's own jobs older than log_retention_days go, and so do job-line snapshots beyond the newest
-- history_keep of each allocation run. Finished planner runs themselves, and the current lines, stay.

-- Added by name, so a database made before them gets them too.
alter table planner.settings add column if not exists log_retention_days int not null default 30
  constraint log_retention_days_between_1_and_3650 check (log_retention_days between 1 and 3650);
alter table planner.settings add column if not exists history_keep int not null default 20
  constraint history_keep_between_1_and_1000 check (history_keep between 1 and 1000);

create or replace function planner.prune() returns jsonb
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  settings planner.settings := planner._settings();
  cutoff   timestamptz := now() - make_interval(days => settings.log_retention_days);
  logs     int;
  cron_runs int;
  snapshots int;
begin
  delete from public.planner_execution_logs where created_at < cutoff;
  get diagnostics logs = row_count;
  -- only the planner's jobs: other users of pg_cron keep their records
  delete from cron.job_run_details d
   using cron.job j
   where j.jobid = d.jobid and j.jobname like 'planner-%' and d.end_time < cutoff;
  get diagnostics cron_runs = row_count;
  delete from public.job_lines_history h
   using (select id, row_number() over (partition by allocation_run_id order by created_at desc, id desc) as newest
            from public.job_lines_history) ranked
   where ranked.id = h.id and ranked.newest > settings.history_keep;
  get diagnostics snapshots = row_count;
  return jsonb_build_object('execution_logs', logs, 'cron_run_details', cron_runs, 'job_lines_history', snapshots);
end
$$;
comment on function planner.prune() is
  'Deletes execution logs and the pg_cron run records of the planner''s jobs older than '
  'planner.settings.log_retention_days (30), and job-line snapshots beyond the newest history_keep (20) of '
  'each allocation run; returns how many rows of each went. Runs daily from pg_cron (planner-prune).';
