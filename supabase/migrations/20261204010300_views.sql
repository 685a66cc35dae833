-- Generated from sql/63_views.sql by `make migrations`: edit sql/63_views.sql, not this file.
-- 63_views.sql: the queue at a glance, for DBAs.

create or replace view planner.queue_overview as
  select s.status,
         count(r.id)                                                  as runs,
         min(r.created_at)                                            as oldest_created_at,
         max(now() - r.created_at) filter (where s.status = 'PENDING') as oldest_pending_wait
    from (values ('PENDING'), ('GENERATING'), ('COMPLETED'), ('INFEASIBLE'), ('FAILED'), ('CANCELLED')) s(status)
    left join public.allocation_planner_runs r on r.status = s.status
   group by s.status;
comment on view planner.queue_overview is
  'Planner runs by status: how many, the oldest, and how long the oldest PENDING run has waited.';

create or replace view planner.running_solves as
  select r.id, r.org_id, r.allocation_run, r.attempt, r.worker_pid, r.started_at,
         now() - r.started_at                                as elapsed,
         coalesce((r.options ->> 'max_seconds')::numeric, 60) as max_seconds,
         a.state                                             as backend_state,
         a.pid is not null                                   as backend_alive
    from public.allocation_planner_runs r
    left join pg_catalog.pg_stat_activity a on a.pid = r.worker_pid
   where r.status = 'GENERATING'
   order by r.started_at;
comment on view planner.running_solves is
  'GENERATING runs with elapsed time, the solving backend''s pid and whether that backend is alive.';
