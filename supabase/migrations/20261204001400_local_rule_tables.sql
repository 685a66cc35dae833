-- Generated from sql/14_local_rule_tables.sql by `make migrations`: edit sql/14_local_rule_tables.sql, not this file.
-- 14_local_rule_tables.sql: a service's own rules (domain.md, "Local rules of a service"): where a
-- post is and how many consecutive terms one placement of it lasts, named groups of positions, line
-- rules over a group, links between posts, and the home-site rule.
--
-- The columns on tables made earlier are added here with IF NOT EXISTS, so a database made before
-- the local rules gets them when the schema is applied again (and a Supabase project as a migration
-- of its own). Every rule row belongs to one allocation run, and every position it names is one the
-- run offers (31_local_rule_triggers.sql): a rule never reaches another run's or another org's posts.
-- Document order is kept in an ordinal column, so planner.export_instance gives the rules back as
-- they came in (groups as planner.import_instance's jsonb held them: a jsonb object keeps its keys
-- shortest first).

-- ---------------------------------------------------------------- on the post, the offer and the run

-- A post's site and span belong to the post, as its specialty does: the same in every run.
alter table public.positions
  add column if not exists site text,
  add column if not exists span int not null default 1;
comment on column public.positions.site is
  'Where the post is (hospital or campus), free text; null: not said. Every post of a run with '
  'home_site_min_terms has one.';
comment on column public.positions.span is
  'Consecutive terms one placement lasts (1: one term). A placement uses capacity in every term it covers.';

-- Per run and term: whether a placement may start there. A one-term post starts wherever it is
-- offered; a post of span s starting in t holds the post in t..t+s-1, each an offered term.
alter table public.allocation_run_posts
  add column if not exists may_start boolean not null default true;
comment on column public.allocation_run_posts.may_start is
  'Whether a placement may start in this term (always, for a post of span 1). A placement of span s '
  'starting in term t covers terms t..t+s-1, each of which has a row; capacity and min_fill apply in each.';

alter table public.allocation_runs
  add column if not exists home_site_min_terms int;
comment on column public.allocation_runs.home_site_min_terms is
  'HOME_SITE: every line spends at least this many terms at one site (null: no such rule).';

-- ---------------------------------------------------------------- groups of positions

create table if not exists public.allocation_run_groups (
  allocation_run_id uuid not null references public.allocation_runs on delete cascade,
  name              text not null constraint name_is_not_blank check (btrim(name) <> ''),
  ordinal           int not null,
  primary key (allocation_run_id, name),
  constraint groups_ordinal_is_unique_in_the_run unique (allocation_run_id, ordinal) deferrable initially deferred
);
comment on table public.allocation_run_groups is
  'Named sets of positions of an allocation run (the instance document''s groups), for line rules and '
  'leave.preferred_groups; ordinal is the group''s place in the document.';
alter table public.allocation_run_groups enable row level security;

create table if not exists public.allocation_run_group_members (
  allocation_run_id uuid not null,
  group_name        text not null,
  -- Deferred, as for posts: deleting an org cascades to positions before runs (and so members).
  position_id       uuid not null references public.positions deferrable initially deferred,
  ordinal           int not null,
  primary key (allocation_run_id, group_name, position_id),
  constraint group_members_ordinal_is_unique_in_the_group unique (allocation_run_id, group_name, ordinal)
    deferrable initially deferred,
  constraint group_is_of_the_run foreign key (allocation_run_id, group_name)
    references public.allocation_run_groups (allocation_run_id, name) on delete cascade on update cascade
);
comment on table public.allocation_run_group_members is
  'The positions of a group, each offered in the group''s run; ordinal is the position''s place in the group.';
alter table public.allocation_run_group_members enable row level security;
create index if not exists allocation_run_group_members_position_id_idx
  on public.allocation_run_group_members (position_id);

-- ---------------------------------------------------------------- line rules

create table if not exists public.allocation_run_line_rules (
  allocation_run_id uuid not null references public.allocation_runs on delete cascade,
  name              text not null constraint name_is_not_blank check (btrim(name) <> ''),
  ordinal           int not null,
  group_name        text not null,
  min_placements    int,
  max_placements    int,
  primary key (allocation_run_id, name),
  constraint line_rules_ordinal_is_unique_in_the_run unique (allocation_run_id, ordinal) deferrable initially deferred,
  -- A group a rule counts cannot be deleted; renaming it renames it here too.
  constraint group_is_of_the_run foreign key (allocation_run_id, group_name)
    references public.allocation_run_groups (allocation_run_id, name) on update cascade,
  constraint min_or_max_is_set check (min_placements is not null or max_placements is not null),
  constraint min_at_most_max check (min_placements <= max_placements)
);
comment on table public.allocation_run_line_rules is
  'LINE_RULE: every line of the run holds between min_placements and max_placements placements of the '
  'group''s posts (null: no bound on that side); name is what explanations call it.';
alter table public.allocation_run_line_rules enable row level security;
-- A group's rename or deletion looks up the rules that count it.
create index if not exists allocation_run_line_rules_group_idx
  on public.allocation_run_line_rules (allocation_run_id, group_name);

-- ---------------------------------------------------------------- links

create table if not exists public.allocation_run_links (
  allocation_run_id uuid not null references public.allocation_runs on delete cascade,
  name              text not null constraint name_is_not_blank check (btrim(name) <> ''),
  ordinal           int not null,
  if_position_id    uuid not null references public.positions deferrable initially deferred,
  primary key (allocation_run_id, name),
  constraint links_ordinal_is_unique_in_the_run unique (allocation_run_id, ordinal) deferrable initially deferred
);
comment on table public.allocation_run_links is
  'LINK: a line of the run holding the post if_position_id also holds one of the link''s targets; name is '
  'what explanations call it.';
alter table public.allocation_run_links enable row level security;
create index if not exists allocation_run_links_if_position_id_idx on public.allocation_run_links (if_position_id);

create table if not exists public.allocation_run_link_targets (
  allocation_run_id uuid not null,
  link_name         text not null,
  position_id       uuid not null references public.positions deferrable initially deferred,
  ordinal           int not null,
  primary key (allocation_run_id, link_name, position_id),
  constraint link_targets_ordinal_is_unique_in_the_link unique (allocation_run_id, link_name, ordinal)
    deferrable initially deferred,
  constraint link_is_of_the_run foreign key (allocation_run_id, link_name)
    references public.allocation_run_links (allocation_run_id, name) on delete cascade on update cascade
);
comment on table public.allocation_run_link_targets is
  'The posts a link asks for (the instance document''s "then"), each offered in the link''s run and none '
  'the link starts from; ordinal is the post''s place in the list.';
alter table public.allocation_run_link_targets enable row level security;
create index if not exists allocation_run_link_targets_position_id_idx
  on public.allocation_run_link_targets (position_id);

-- ---------------------------------------------------------------- limits, as the parser's

-- As receptor_planner.instance (tests/test_bad_input.py checks that they agree): a site is a name
-- (MAX_NAME_CHARS), a span and a line rule's bounds fit in a year of at most MAX_TERMS terms, a
-- group name is a key (MAX_KEY_CHARS), rule and link names are names; a document lists at most
-- MAX_POSITIONS groups, members of a group, line rules, links and targets of a link, which the
-- ordinals bound (they are unique). Bounds that depend on the plan's terms are checked by triggers.
-- Added by name, so applying this file again adds only the missing ones.
select planner._add_check('positions', 'site_is_null_or_not_blank', 'btrim(site) <> ''''');
select planner._add_check('positions', 'site_is_at_most_200_characters', 'char_length(site) <= 200');
select planner._add_check('positions', 'site_has_no_control_characters', 'site !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('positions', 'span_between_1_and_13', 'span between 1 and 13');
select planner._add_check('allocation_runs', 'home_site_min_terms_between_1_and_13',
                          'home_site_min_terms between 1 and 13');
select planner._add_check('allocation_run_groups', 'name_is_at_most_64_characters', 'char_length(name) <= 64');
select planner._add_check('allocation_run_groups', 'name_has_no_control_characters',
                          'name !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('allocation_run_groups', 'ordinal_between_1_and_2000', 'ordinal between 1 and 2000');
select planner._add_check('allocation_run_group_members', 'group_name_is_at_most_64_characters',
                          'char_length(group_name) <= 64');
select planner._add_check('allocation_run_group_members', 'ordinal_between_1_and_2000',
                          'ordinal between 1 and 2000');
select planner._add_check('allocation_run_line_rules', 'name_is_at_most_200_characters', 'char_length(name) <= 200');
select planner._add_check('allocation_run_line_rules', 'name_has_no_control_characters',
                          'name !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('allocation_run_line_rules', 'group_name_is_at_most_64_characters',
                          'char_length(group_name) <= 64');
select planner._add_check('allocation_run_line_rules', 'ordinal_between_1_and_2000', 'ordinal between 1 and 2000');
select planner._add_check('allocation_run_line_rules', 'min_placements_between_0_and_13',
                          'min_placements between 0 and 13');
select planner._add_check('allocation_run_line_rules', 'max_placements_between_0_and_13',
                          'max_placements between 0 and 13');
select planner._add_check('allocation_run_links', 'name_is_at_most_200_characters', 'char_length(name) <= 200');
select planner._add_check('allocation_run_links', 'name_has_no_control_characters',
                          'name !~ ''[\x01-\x1f\x7f-\x9f]''');
select planner._add_check('allocation_run_links', 'ordinal_between_1_and_2000', 'ordinal between 1 and 2000');
select planner._add_check('allocation_run_link_targets', 'link_name_is_at_most_200_characters',
                          'char_length(link_name) <= 200');
select planner._add_check('allocation_run_link_targets', 'ordinal_between_1_and_2000', 'ordinal between 1 and 2000');
