-- Generated from sql/10_org_tables.sql by `make migrations`: edit sql/10_org_tables.sql, not this file.
-- 10_org_tables.sql: the tenant (org) and what it owns across years:
-- teams, positions, affinity profiles.
--
-- Check constraints are named after the rule they keep, so a rejected insert
-- says which field is wrong and why.

create table if not exists public.orgs (
  id         uuid primary key default gen_random_uuid(),
  name       text not null constraint name_is_not_blank check (btrim(name) <> ''),
  created_at timestamptz not null default now()
);
comment on table public.orgs is 'A health service that employs junior doctors: the tenant boundary.';
alter table public.orgs enable row level security;

create table if not exists public.teams (
  id         uuid primary key default gen_random_uuid(),
  org_id     uuid not null references public.orgs on delete cascade,
  name       text not null constraint name_is_not_blank check (btrim(name) <> ''),
  created_at timestamptz not null default now(),
  unique (org_id, name),
  unique (id, org_id)  -- target of positions' same-org foreign key
);
comment on table public.teams is 'A clinical team of an org; positions may belong to one.';
alter table public.teams enable row level security;

create table if not exists public.positions (
  id           uuid primary key default gen_random_uuid(),
  org_id       uuid not null references public.orgs on delete cascade,
  team_id      uuid,
  key          text not null constraint key_is_not_blank check (btrim(key) <> ''),
  name         text not null constraint name_is_not_blank check (btrim(name) <> ''),
  specialty    text not null constraint specialty_is_not_blank check (btrim(specialty) <> ''),
  subspecialty text constraint subspecialty_is_null_or_not_blank check (btrim(subspecialty) <> ''),
  categories   text[] not null default '{}'
    constraint categories_are_at_most_two_of_a_b_c_d
      check (categories <@ '{A,B,C,D}' and cardinality(categories) <= 2)
    constraint categories_are_distinct
      check (cardinality(categories) < 2 or categories[1] <> categories[2]),
  service      boolean not null default false,
  nights       boolean not null default false,
  rural        boolean not null default false,
  non_clinical boolean not null default false,
  excludable   boolean not null default false,
  created_at   timestamptz not null default now(),
  constraint non_clinical_has_no_categories check (not non_clinical or cardinality(categories) = 0),
  constraint clinical_position_has_a_category check (non_clinical or cardinality(categories) >= 1),
  unique (org_id, key),
  -- A team of another org is refused; deleting a team leaves its positions teamless.
  constraint team_is_of_the_same_org foreign key (team_id, org_id)
    references public.teams (id, org_id) on delete set null (team_id)
);
comment on table public.positions is
  'A post a doctor holds for a term. Categories (1 or 2 of A-D, none when non_clinical) are local input, '
  'never inferred from the name. Capacity and min_fill are per allocation run: allocation_run_posts.';
alter table public.positions enable row level security;

create table if not exists public.affinity_profiles (
  id         uuid primary key default gen_random_uuid(),
  org_id     uuid references public.orgs on delete cascade,  -- null: shipped for every org
  name       text not null constraint name_is_not_blank check (btrim(name) <> ''),
  version    text not null constraint version_is_not_blank check (btrim(version) <> ''),
  source     text not null constraint source_is_not_blank check (btrim(source) <> ''),
  weights    jsonb not null constraint weights_is_an_object check (jsonb_typeof(weights) = 'object'),
  created_at timestamptz not null default now(),
  -- nulls not distinct: two shipped profiles of one name and version would be ambiguous.
  constraint affinity_profiles_org_id_name_version_key unique nulls not distinct (org_id, name, version)
);
comment on table public.affinity_profiles is
  'Versioned specialty-pair weights (symmetric integers -100..100) for the affinity objective; '
  'source says honestly where the numbers come from.';
alter table public.affinity_profiles enable row level security;

-- Length limits, as receptor_planner.instance's MAX_*_CHARS, and no control characters in what the
-- instance document carries, which the solver reads back through it (tests/test_bad_input.py checks
-- that they agree). Added by name, so applying this file again, or to a database made before a limit
-- existed, adds only the missing ones.
select planner._add_check('orgs', 'name_is_at_most_200_characters', 'char_length(name) <= 200');
select planner._add_check('teams', 'name_is_at_most_200_characters', 'char_length(name) <= 200');
select planner._add_check('positions', 'key_is_at_most_64_characters', 'char_length(key) <= 64');
select planner._add_check('positions', 'name_is_at_most_200_characters', 'char_length(name) <= 200');
select planner._add_check('positions', 'specialty_is_at_most_200_characters', 'char_length(specialty) <= 200');
select planner._add_check('positions', 'subspecialty_is_at_most_200_characters', 'char_length(subspecialty) <= 200');
select planner._add_check('affinity_profiles', 'name_is_at_most_200_characters', 'char_length(name) <= 200');
select planner._add_check('affinity_profiles', 'version_is_at_most_64_characters', 'char_length(version) <= 64');
select planner._add_check('affinity_profiles', 'source_is_at_most_2000_characters', 'char_length(source) <= 2000');
select planner._add_check('orgs', 'name_has_no_control_characters', 'name !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('teams', 'name_has_no_control_characters', 'name !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('positions', 'key_has_no_control_characters', 'key !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('positions', 'name_has_no_control_characters', 'name !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('positions', 'specialty_has_no_control_characters', 'specialty !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('positions', 'subspecialty_has_no_control_characters', 'subspecialty !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('affinity_profiles', 'version_has_no_control_characters', 'version !~ ''[\x01-\x1f\x7f-\x9f]''');
-- a paragraph: tabs and line breaks allowed
select planner._add_check('affinity_profiles', 'source_has_no_control_characters', 'source !~ ''[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]''');
