-- Generated from sql/05_schema_helpers.sql by `make migrations`: edit sql/05_schema_helpers.sql, not this file.
-- 05_schema_helpers.sql: what the schema files use to change a table that may already exist.
--
-- The files are applied again to existing databases (every `planner db start`, every upgrade), and
-- PostgreSQL has no ADD CONSTRAINT IF NOT EXISTS.

create or replace function planner._add_check(table_name text, constraint_name text, check_expression text)
returns void
language plpgsql set search_path = pg_catalog
as $$
begin
  -- By name: a constraint already there is kept as it is (to change one, drop it first).
  if not exists (select 1 from pg_catalog.pg_constraint
                  where conrelid = format('public.%I', table_name)::regclass and conname = constraint_name) then
    execute format('alter table public.%I add constraint %I check (%s)', table_name, constraint_name,
                   check_expression);
  end if;
end
$$;
comment on function planner._add_check(text, text, text) is
  'Adds a named CHECK constraint to a table of public unless one of that name exists.';
