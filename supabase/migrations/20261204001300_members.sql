-- Generated from sql/13_members.sql by `make migrations`: edit sql/13_members.sql, not this file.
-- 13_members.sql: who belongs to which org, and in what role.
--
-- Roles rank viewer < planner < admin: a viewer reads the org's rows, a
-- planner also starts and cancels planner runs and edits job lines, an admin
-- also manages posts, plans, members and affinity profiles. Every RLS policy
-- asks planner._my_orgs(role); the membership functions are the only way
-- members are added or removed by users.

create table if not exists public.org_members (
  org_id     uuid not null references public.orgs on delete cascade,
  user_id    uuid not null references auth.users on delete cascade,
  role       text not null constraint role_is_viewer_planner_or_admin check (role in ('viewer', 'planner', 'admin')),
  created_at timestamptz not null default now(),
  primary key (org_id, user_id)
);
comment on table public.org_members is
  'A user''s role in an org: viewer (reads), planner (also runs the planner, edits lines), admin (also manages '
  'posts, plans, members and affinity profiles).';
alter table public.org_members enable row level security;
-- The policies look members up by user.
create index if not exists org_members_user_id_idx on public.org_members (user_id, org_id);

-- ---------------------------------------------------------------- the membership helper of every policy

-- Security definer: a policy on org_members that read org_members as the caller would recurse.
create or replace function planner._my_orgs(at_least text default 'viewer') returns setof uuid
language sql stable security definer set search_path = pg_catalog, public
as $$
  select m.org_id
    from public.org_members m
   where m.user_id = (select auth.uid())
     and array_position(array['viewer', 'planner', 'admin'], m.role)
         >= array_position(array['viewer', 'planner', 'admin'], at_least)
$$;
comment on function planner._my_orgs(text) is
  'The orgs in which the signed-in user (auth.uid()) holds at least the given role (viewer < planner < admin). '
  'Policies use it as `org_id in (select planner._my_orgs(...))`, evaluated once per query.';

-- Invoker: current_user is the caller.
create or replace function planner._is_trusted() returns boolean
language sql stable set search_path = pg_catalog
as $$
  -- Superusers, bypassrls roles (service_role) and the tables' owner (the pg_cron worker, the
  -- migrations) are not bound by the policies; the checks that stand in front of them skip these too.
  select r.rolsuper or r.rolbypassrls or pg_has_role(current_user, c.relowner, 'USAGE')
    from pg_catalog.pg_roles r, pg_catalog.pg_class c
   where r.rolname = current_user and c.oid = 'public.orgs'::regclass
$$;
comment on function planner._is_trusted() is
  'Whether the calling role is beyond RLS (superuser, bypassrls such as service_role, or the tables'' owner).';

-- ---------------------------------------------------------------- managing members

-- Without an admin nobody but service_role could manage the org again. A trigger, so direct
-- writes to org_members (which the policies allow admins) are held to it too.
create or replace function planner._keep_an_admin() returns trigger
language plpgsql security definer set search_path = pg_catalog, public
as $$
begin
  if old.role = 'admin'
     and exists (select 1 from public.orgs o where o.id = old.org_id)  -- not when the org itself goes
     and not exists (select 1 from public.org_members m where m.org_id = old.org_id and m.role = 'admin') then
    raise exception 'org_members.role: the last admin of org % cannot be removed or demoted', old.org_id
      using errcode = 'check_violation', hint = 'Make another member an admin first.';
  end if;
  return null;
end
$$;
comment on function planner._keep_an_admin() is
  'Trigger: an org keeps at least one admin when an admin is removed or demoted.';

create or replace trigger keep_an_admin after update of role or delete on public.org_members
  for each row execute function planner._keep_an_admin();

-- Invoker functions: RLS on org_members decides (admins of the org; service_role bypasses it).
create or replace function planner.add_member(org uuid, user_id uuid, role text) returns text
language plpgsql set search_path = pg_catalog, public, planner
as $$
begin
  if role is null or role not in ('viewer', 'planner', 'admin') then
    raise exception 'role: must be viewer, planner or admin, not %', coalesce(quote_literal(role), 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if not planner._is_trusted() and org not in (select planner._my_orgs('admin')) then
    raise exception 'org: permission denied: you are not an admin of org %', org
      using errcode = 'insufficient_privilege';
  end if;
  if not exists (select 1 from public.orgs o where o.id = org) then
    raise exception 'org: no org with id %', org using errcode = 'invalid_parameter_value';
  end if;
  begin
    insert into public.org_members as m (org_id, user_id, role) values (org, user_id, add_member.role)
    on conflict on constraint org_members_pkey do update set role = excluded.role;
  exception when foreign_key_violation then  -- auth.users is not the caller's to read: the key tells
    raise exception 'user_id: no user with id %', user_id using errcode = 'invalid_parameter_value';
  end;
  return add_member.role;
end
$$;
comment on function planner.add_member(uuid, uuid, text) is
  'Makes a user a viewer, planner or admin of an org (or changes their role). Admins of the org and '
  'service_role only. Returns the role.';

create or replace function planner.remove_member(org uuid, user_id uuid) returns boolean
language plpgsql set search_path = pg_catalog, public, planner
as $$
begin
  if not planner._is_trusted() and org not in (select planner._my_orgs('admin')) then
    raise exception 'org: permission denied: you are not an admin of org %', org
      using errcode = 'insufficient_privilege';
  end if;
  delete from public.org_members m where m.org_id = org and m.user_id = remove_member.user_id;
  return found;
end
$$;
comment on function planner.remove_member(uuid, uuid) is
  'Removes a user from an org. Admins of the org and service_role only. Returns whether they were a member.';
