-- compat.sql: what a Supabase database already has, for a plain PostgreSQL 15.
--
-- The embedded database, the tests and the image built from Dockerfile.postgres
-- apply this file before the migrations; a real (self-hosted) Supabase never
-- gets it: its roles, the auth schema and GoTrue's auth.users are the real
-- ones. cluster.apply_schema and docker/initdb.sh apply it only where the
-- auth schema is absent or was made by this file. Idempotent.

-- ---------------------------------------------------------------- roles

-- The API roles PostgREST and Realtime switch to; service_role bypasses RLS as on Supabase.
do $roles$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  -- The login role of the API servers: it may switch to each API role, and holds nothing itself.
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
end
$roles$;
grant anon, authenticated, service_role to authenticator;

-- ---------------------------------------------------------------- schemas

create schema if not exists extensions;
comment on schema extensions is 'Extensions, as on Supabase (made by supabase/compat.sql).';
grant usage on schema extensions to anon, authenticated, service_role;

create schema if not exists auth;
comment on schema auth is 'Supabase Auth stand-in (made by supabase/compat.sql): users and the JWT claims.';
grant usage on schema auth to anon, authenticated, service_role;

-- GoTrue's table has many more columns; the planner needs only these.
create table if not exists auth.users (
  id    uuid primary key,
  email text
);
comment on table auth.users is 'Supabase Auth users, reduced to what the planner references (supabase/compat.sql).';

-- ---------------------------------------------------------------- the JWT, as Supabase reads it

-- PostgREST (and the planner-orchestration function) put the verified claims in request.jwt.claims.
create or replace function auth.jwt() returns jsonb
language sql stable set search_path = ''
as $$
  select coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;
comment on function auth.jwt() is 'The verified JWT claims of the request (request.jwt.claims), or {}.';

create or replace function auth.uid() returns uuid
language sql stable set search_path = ''
as $$
  select nullif(auth.jwt() ->> 'sub', '')::uuid
$$;
comment on function auth.uid() is 'The signed-in user''s id (the sub claim), or null.';

create or replace function auth.role() returns text
language sql stable set search_path = ''
as $$
  select nullif(auth.jwt() ->> 'role', '')
$$;
comment on function auth.role() is 'The role claim of the request (anon, authenticated, service_role), or null.';

grant execute on function auth.jwt(), auth.uid(), auth.role() to anon, authenticated, service_role;
