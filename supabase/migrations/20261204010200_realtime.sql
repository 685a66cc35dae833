-- Generated from sql/62_realtime.sql by `make migrations`: edit sql/62_realtime.sql, not this file.
-- 62_realtime.sql: Supabase Realtime broadcasts planner runs' status changes.
--
-- Realtime reads the publication supabase_realtime by logical replication. On
-- Supabase it exists already and the table is added to it; elsewhere it is
-- created. Each status change is committed on its own (planner.work), so each
-- arrives as its own change.

do $realtime$
begin
  if not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
  if not exists (select 1 from pg_catalog.pg_publication_tables
                  where pubname = 'supabase_realtime' and schemaname = 'public'
                    and tablename = 'allocation_planner_runs') then
    alter publication supabase_realtime add table public.allocation_planner_runs;
  end if;
end
$realtime$;
