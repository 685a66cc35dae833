-- 90_grants.sql: nothing in schema planner is callable by PUBLIC.
--
-- PostgreSQL grants EXECUTE on every new function to PUBLIC; the untrusted
-- plpython3u functions must not be. Roles (anon, authenticated, service_role
-- or the planner's own) get their grants in a later migration. Re-applied on
-- every schema load, so functions added above are covered too.

revoke all on schema planner from public;
-- routines: functions, procedures and aggregates alike
revoke execute on all routines in schema planner from public;
