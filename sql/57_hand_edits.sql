-- 57_hand_edits.sql: planners change job lines by hand, and every change is recorded.
--
--   planner.assign_post(run, line_no, term, position_key)  a line holds another post in a term
--   planner.swap_posts(run, term, line_a, line_b)          two lines trade their posts in a term
--   planner.move_leave(run, line_no, from_week, to_week)   a leave block moves, keeping its length
--   planner.lock_line(run, line_no), unlock_line(...)      a locked line refuses every edit, and a
--                                                          re-solve with options.keep_locked keeps it
--
-- A verb keeps the tiling and refuses a change that breaks a structural rule the line or the run kept
-- before (planner._hand_edit_refuses); a change that breaks an accreditation or a local rule is made, and
-- planner.check_allocation_run and public.job_line_compliance show it with the rule's words (each verb
-- returns those findings too). Direct writes to job_lines and rotations stay possible (the policies
-- allow planners): a rotation's weeks must lie in its term at once, and the line must tile the period at
-- commit (planner._check_tiling). Every edit, by a verb or a direct write, lands in
-- public.job_line_edits with the line before and after; what a solve or a restore replaces goes to
-- job_lines_history as before.
--
-- The verbs are SECURITY DEFINER: they write job_line_edits, which no API role may write, and their
-- statements run as the owner, which is how the recording triggers tell them from direct writes. So they
-- check their caller themselves (planner._editable_run), as the policies would.

-- ---------------------------------------------------------------- who is editing

create or replace function planner._calling_role() returns text
language sql stable set search_path = pg_catalog
as $$
  -- SET ROLE (as PostgREST and the edge function do) lives in the setting "role", which a security
  -- definer function leaves alone, unlike current_user; without one the session's own role acts.
  select case when current_setting('role') = 'none' then session_user::text else current_setting('role') end
$$;
comment on function planner._calling_role() is
  'The role the caller acts as, also inside a security definer function: the role SET ROLE chose, else the '
  'session''s.';

create or replace function planner._caller_is_trusted() returns boolean
language sql stable set search_path = pg_catalog
as $$
  -- As planner._is_trusted, for the calling role rather than current_user (the definer, in here).
  select coalesce((select r.rolsuper or r.rolbypassrls or pg_has_role(r.oid, c.relowner, 'USAGE')
                     from pg_catalog.pg_roles r, pg_catalog.pg_class c
                    where r.rolname = planner._calling_role() and c.oid = 'public.orgs'::regclass), false)
$$;
comment on function planner._caller_is_trusted() is
  'Whether the calling role (planner._calling_role) is beyond RLS: superuser, bypassrls (service_role) or the '
  'tables'' owner.';

create or replace function planner._editable_run(allocation_run uuid) returns uuid
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  org uuid;
begin
  select a.org_id into org from public.allocation_runs a where a.id = _editable_run.allocation_run;
  if not planner._caller_is_trusted() then
    -- An outsider learns nothing: the same answer as planner.check_allocation_run gives for a made-up id.
    if org is null or org not in (select planner._my_orgs('viewer')) then
      org := null;
    elsif org not in (select planner._my_orgs('planner')) then
      raise exception 'allocation_run: permission denied: only planners and admins of its org edit the job lines '
                      'of allocation run %', allocation_run using errcode = 'insufficient_privilege';
    end if;
  end if;
  if org is null then
    raise exception 'allocation_run: no allocation run with id %', allocation_run using errcode = 'no_data_found';
  end if;
  -- One verb at a time per allocation run: a capacity judged here still holds when this one commits.
  perform 1 from public.allocation_runs a where a.id = _editable_run.allocation_run for no key update;
  return org;
end
$$;
comment on function planner._editable_run(uuid) is
  'The org of an allocation run whose job lines the caller may edit (planners and admins of its org, and '
  'trusted roles), with the run locked against other verbs until the commit; P0002 for anyone else, as for '
  'an id that does not exist, and 42501 for a viewer.';

create or replace function planner._open_line(allocation_run uuid, line_no int, unlocked boolean default true)
returns public.job_lines
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  line public.job_lines;
begin
  select j.* into line from public.job_lines j
   where j.allocation_run_id = _open_line.allocation_run and j.line_no = _open_line.line_no
     for update;
  if not found then
    raise exception 'line_no: allocation run % has no job line %', allocation_run, line_no
      using errcode = 'invalid_parameter_value';
  end if;
  if unlocked and line.locked then
    raise exception 'line_no: job line % is locked; unlock it first (planner.unlock_line)', line_no
      using errcode = 'object_not_in_prerequisite_state';
  end if;
  return line;
end
$$;
comment on function planner._open_line(uuid, int, boolean) is
  'A job line of an allocation run, locked for the edit; an error when there is none, or when it is locked and '
  'the edit needs it unlocked.';

-- ---------------------------------------------------------------- the record

create or replace function planner._rotation_document(rotation public.rotations) returns jsonb
language sql stable set search_path = pg_catalog, public
as $$
  select jsonb_build_object('kind', rotation.kind, 'term', rotation.term,
                            'start_week', rotation.start_week, 'end_week', rotation.end_week)
         || case when rotation.position_id is null then '{}'::jsonb
                 else jsonb_build_object('position', (select p.key from public.positions p
                                                       where p.id = rotation.position_id)) end
$$;
comment on function planner._rotation_document(public.rotations) is
  'A rotation as the edit record shows it: kind, position key (clinical only), term, start and end week.';

create or replace function planner._line_document(line public.job_lines) returns jsonb
language sql stable set search_path = pg_catalog, public, planner
as $$
  select jsonb_build_object(
    'line_no', line.line_no, 'name', line.name, 'locked', line.locked,
    'rotations', coalesce((select jsonb_agg(planner._rotation_document(r) order by r.start_week, r.end_week)
                             from public.rotations r where r.job_line_id = line.id), '[]'::jsonb))
$$;
comment on function planner._line_document(public.job_lines) is
  'A job line as the edit record shows it: line_no, name, locked, and its rotations (as they are in the table).';

create or replace function planner._record_edit(line public.job_lines, verb text, before jsonb, after jsonb)
returns void
language sql set search_path = pg_catalog, public, planner
as $$
  insert into public.job_line_edits (org_id, allocation_run_id, job_line_id, line_no, verb, edited_by, edited_as,
                                     before, after)
  values (line.org_id, line.allocation_run_id, line.id, line.line_no, verb, auth.uid(), planner._calling_role(),
          before, after)
$$;
comment on function planner._record_edit(public.job_lines, text, jsonb, jsonb) is
  'Appends one hand edit of a line to job_line_edits: the signed-in user and the role they acted as, the verb, '
  'the line before and after.';

-- ---------------------------------------------------------------- structural rules hold for every verb

create or replace function planner._hand_edit_refuses() returns text[]
language sql immutable set search_path = pg_catalog
as $$
  -- The structural rules of docs/rules.md that one line, or a post's capacity, carries. MIN_FILL is
  -- not here: a staffing count across lines that a series of moves passes through (swap_posts keeps
  -- it); nor PIN, the planner's own instruction to the solver. Both are reported like the rest.
  select array['ONE_POSITION_PER_TERM', 'TILING', 'NO_REPEAT_POSITION', 'AVAILABILITY', 'CAPACITY',
               'LEAVE_WEEKS', 'LEAVE_PATTERN', 'LEAVE_GAP', 'LEAVE_WITHIN_TERM', 'LEAVE_MAX_CONCURRENT']
$$;
comment on function planner._hand_edit_refuses() is
  'The rule codes a hand-edit verb refuses to break (where the lines kept them before the edit).';

create or replace function planner._findings(allocation_run uuid) returns jsonb
language sql stable set search_path = pg_catalog, public, planner
as $$
  -- Without n: a finding keeps its identity when an edit adds others before it.
  select coalesce(jsonb_agg(to_jsonb(c) - 'n' order by c.n), '[]'::jsonb)
    from planner.check_allocation_run(_findings.allocation_run) with ordinality
         as c (rule, line, term, "position", message, n)
$$;
comment on function planner._findings(uuid) is
  'planner.check_allocation_run as one jsonb list of {rule, line, term, position, message}, in its order.';

create or replace function planner._refuse_new_breaks(verb text, before jsonb, after jsonb) returns void
language plpgsql immutable set search_path = pg_catalog, planner
as $$
declare
  broken jsonb;
begin
  -- Only what the edit broke: a line or a post that broke a rule before keeps it broken, and an edit
  -- elsewhere is not held up by it.
  select f into broken
    from jsonb_array_elements(after) f
   where f ->> 'rule' = any(planner._hand_edit_refuses()) and not before @> jsonb_build_array(f)
   limit 1;
  if broken is not null then
    raise exception '%: refused: the edit would break %: %', verb, broken ->> 'rule', broken ->> 'message'
      using errcode = 'check_violation',
            hint = 'A hand edit keeps the structural rules (capacity, availability, one post per term, no post '
                   'twice, tiling, leave); an accreditation or local rule it breaks is shown by '
                   'planner.check_allocation_run.';
  end if;
end
$$;
comment on function planner._refuse_new_breaks(text, jsonb, jsonb) is
  'Raises (23514, "verb: refused: the edit would break RULE: message") when the findings after an edit hold a '
  'structural one (_hand_edit_refuses) the findings before did not.';

create or replace function planner._edit_outcome(allocation_run uuid, verb text, line_nos int[], findings jsonb)
returns jsonb
language sql stable set search_path = pg_catalog, public, planner
as $$
  select jsonb_build_object(
    'verb', verb,
    'allocation_run', allocation_run,
    'lines', (select coalesce(jsonb_agg(planner._line_document(j) order by j.line_no), '[]'::jsonb)
                from public.job_lines j
               where j.allocation_run_id = _edit_outcome.allocation_run and j.line_no = any(line_nos)),
    -- What the planner should look at now: the findings naming the edited lines, and those naming none.
    'violations', (select coalesce(jsonb_agg(f), '[]'::jsonb) from jsonb_array_elements(findings) f
                    where f ->> 'line' is null or (f ->> 'line')::int = any(line_nos)))
$$;
comment on function planner._edit_outcome(uuid, text, int[], jsonb) is
  'What a verb returns: {verb, allocation_run, lines (as they are now), violations (findings of the edited '
  'lines and findings naming no line)}.';

-- ---------------------------------------------------------------- reading a line's posts

create or replace function planner._term_bounds(allocation_run uuid, term int, out first_week int, out last_week int)
language sql stable set search_path = pg_catalog, public
as $$
  select 1 + coalesce((select sum(w) from unnest(p.term_weeks[1:term - 1]) w), 0)::int,
         coalesce((select sum(w) from unnest(p.term_weeks[1:term]) w), 0)::int
    from public.allocation_runs r join public.allocation_plans p on p.id = r.plan_id
   where r.id = allocation_run
$$;
comment on function planner._term_bounds(uuid, int) is 'The first and last week of a term of an allocation run.';

create or replace function planner._term_count(allocation_run uuid) returns int
language sql stable set search_path = pg_catalog, public
as $$
  select cardinality(p.term_weeks)
    from public.allocation_runs r join public.allocation_plans p on p.id = r.plan_id
   where r.id = allocation_run
$$;
comment on function planner._term_count(uuid) is 'The number of terms of an allocation run''s plan.';

create or replace function planner._check_term(allocation_run uuid, term int) returns void
language plpgsql stable set search_path = pg_catalog, public, planner
as $$
declare
  n_terms int := planner._term_count(allocation_run);
begin
  if term is null or term not between 1 and n_terms then
    raise exception 'term: must be a term of the allocation run, 1 to %; got %', n_terms, coalesce(term::text, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
end
$$;
comment on function planner._check_term(uuid, int) is 'Raises 22023 unless term is a term of the allocation run.';

create or replace function planner._post_in_term(line public.job_lines, term int) returns uuid
language plpgsql stable set search_path = pg_catalog, public, planner
as $$
declare
  posts uuid[];
begin
  select array_agg(distinct r.position_id) into posts
    from public.rotations r where r.job_line_id = line.id and r.term = _post_in_term.term and r.kind = 'clinical';
  if posts is null then
    raise exception 'term: job line % holds no post in term %', line.line_no, term
      using errcode = 'invalid_parameter_value';
  end if;
  if cardinality(posts) > 1 then
    raise exception 'term: job line % holds % posts in term % (%); a hand edit needs one post per term',
        line.line_no, cardinality(posts), term,
        (select string_agg(p.key, ', ' order by p.key collate "C") from public.positions p where p.id = any(posts))
      using errcode = 'invalid_parameter_value',
            hint = 'Give the term one post with a direct edit of its rotations first.';
  end if;
  return posts[1];
end
$$;
comment on function planner._post_in_term(public.job_lines, int) is
  'The one post a job line holds in a term; 22023 when it holds none or several.';

create or replace function planner._post_of_run(allocation_run uuid, org uuid, position_key text) returns uuid
language plpgsql stable set search_path = pg_catalog, public, planner
as $$
declare
  post uuid;
begin
  select p.id into post from public.positions p
   where p.org_id = org and p.key = position_key
     and exists (select 1 from public.allocation_run_posts o
                  where o.allocation_run_id = _post_of_run.allocation_run and o.position_id = p.id);
  if post is null then
    raise exception 'position_key: allocation run % offers no post %', allocation_run,
        coalesce(quote_literal(position_key), 'null') using errcode = 'invalid_parameter_value';
  end if;
  return post;
end
$$;
comment on function planner._post_of_run(uuid, uuid, text) is
  'The position with this key that the allocation run offers in some term (whether it is offered in a given '
  'term is AVAILABILITY''s business); 22023 when there is none.';

-- ---------------------------------------------------------------- the verbs

create or replace function planner.assign_post(allocation_run uuid, line_no int, term int, position_key text)
returns jsonb
language plpgsql security definer
set search_path = pg_catalog, public, planner
as $$
declare
  org      uuid := planner._editable_run(allocation_run);
  line     public.job_lines := planner._open_line(allocation_run, line_no);
  post     uuid;
  before   jsonb;
  findings jsonb;
begin
  perform planner._check_term(allocation_run, term);
  post := planner._post_of_run(allocation_run, org, position_key);
  if planner._post_in_term(line, term) = post then  -- already so: nothing to change or record
    return planner._edit_outcome(allocation_run, 'assign_post', array[line_no], planner._findings(allocation_run));
  end if;
  before := planner._line_document(line);
  findings := planner._findings(allocation_run);
  -- Every clinical rotation of the term (leave may split it): the rows keep their ids and weeks.
  update public.rotations r set position_id = post
   where r.job_line_id = line.id and r.term = assign_post.term and r.kind = 'clinical';
  return planner._finish_edit(allocation_run, 'assign_post', array[line], array[before], findings);
end
$$;
comment on function planner.assign_post(uuid, int, int, text) is
  'Job line line_no holds the post position_key in term (every clinical rotation of the term; leave stays). '
  'Refused (23514) when that breaks a structural rule the lines kept (capacity, availability, a post twice in a '
  'line, ...); made when it breaks an accreditation or local rule, which the result''s violations show. A '
  'locked line is refused (55000). Recorded in job_line_edits. Planners and admins of the run''s org.';

create or replace function planner.swap_posts(allocation_run uuid, term int, line_a int, line_b int)
returns jsonb
language plpgsql security definer
set search_path = pg_catalog, public, planner
as $$
declare
  one        public.job_lines;
  other      public.job_lines;
  one_post   uuid;
  other_post uuid;
  before     jsonb[];
  findings   jsonb;
begin
  perform planner._editable_run(allocation_run);
  perform planner._check_term(allocation_run, term);
  if line_a = line_b then
    raise exception 'line_b: job line % cannot swap with itself', line_b using errcode = 'invalid_parameter_value';
  end if;
  one := planner._open_line(allocation_run, line_a);
  other := planner._open_line(allocation_run, line_b);
  one_post := planner._post_in_term(one, term);
  other_post := planner._post_in_term(other, term);
  if one_post = other_post then
    return planner._edit_outcome(allocation_run, 'swap_posts', array[one.line_no, other.line_no],
                                 planner._findings(allocation_run));
  end if;
  before := array[planner._line_document(one), planner._line_document(other)];
  findings := planner._findings(allocation_run);
  update public.rotations r set position_id = case r.job_line_id when one.id then other_post else one_post end
   where r.job_line_id in (one.id, other.id) and r.term = swap_posts.term and r.kind = 'clinical';
  return planner._finish_edit(allocation_run, 'swap_posts', array[one, other], before, findings);
end
$$;
comment on function planner.swap_posts(uuid, int, int, int) is
  'Job lines line_a and line_b trade their posts in term (each keeps its leave). Refused (23514) when that '
  'breaks a structural rule the lines kept (a post twice in a line, ...); made when it breaks an accreditation '
  'or local rule, which the result''s violations show. Locked lines are refused (55000). Recorded in '
  'job_line_edits, one row per line. Planners and admins of the run''s org.';

create or replace function planner.move_leave(allocation_run uuid, line_no int, from_week int, to_week int)
returns jsonb
language plpgsql security definer
set search_path = pg_catalog, public, planner
as $$
declare
  line            public.job_lines;
  weeks_in_period int;
  posts           uuid[];
  leave_weeks     int[];
  block           int4range;
  moved           int4range;
  before          jsonb;
  findings        jsonb;
begin
  perform planner._editable_run(allocation_run);
  line := planner._open_line(allocation_run, line_no);
  select r.period_weeks into weeks_in_period from public.allocation_runs r where r.id = move_leave.allocation_run;
  if from_week is null or from_week not between 1 and weeks_in_period then
    raise exception 'from_week: must be a week of the period, 1 to %; got %', weeks_in_period,
        coalesce(from_week::text, 'null') using errcode = 'invalid_parameter_value';
  end if;
  select array_agg(w order by w) into leave_weeks
    from public.rotations r cross join generate_series(r.start_week, r.end_week) w
   where r.job_line_id = line.id and r.kind = 'leave';
  if not from_week = any(coalesce(leave_weeks, '{}')) then
    raise exception 'from_week: job line % is not on leave in week %', line_no, from_week
      using errcode = 'invalid_parameter_value';
  end if;
  -- The block: the run of consecutive leave weeks holding from_week (a block may span two rotations).
  block := (select int4range(min(w), max(w), '[]')
              from (select w, w - row_number() over (order by w)::int as island from unnest(leave_weeks) w) weeks
             group by island having bool_or(w = from_week));
  moved := int4range(to_week, to_week + (upper(block) - lower(block)));
  if to_week is null or to_week < 1 or upper(moved) - 1 > weeks_in_period then
    raise exception 'to_week: a block of % weeks must start in week 1 to %; got %', upper(block) - lower(block),
        weeks_in_period - (upper(block) - lower(block)) + 1, coalesce(to_week::text, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if moved = block then
    return planner._edit_outcome(allocation_run, 'move_leave', array[line_no], planner._findings(allocation_run));
  end if;
  -- The line is written again from its post in every term and its new leave weeks.
  posts := array(select planner._post_in_term(line, t) from generate_series(1, planner._term_count(allocation_run)) t);
  leave_weeks := array(select w from unnest(leave_weeks) w where not w <@ block
                       union select w from generate_series(lower(moved), upper(moved) - 1) w order by 1);
  before := planner._line_document(line);
  findings := planner._findings(allocation_run);
  perform planner._write_line(line, posts, leave_weeks);
  return planner._finish_edit(allocation_run, 'move_leave', array[line], array[before], findings);
end
$$;
comment on function planner.move_leave(uuid, int, int, int) is
  'Moves the leave block of job line line_no that holds from_week (its run of consecutive leave weeks) to start '
  'in to_week, keeping its length; the line''s rotations are written again around it, each term keeping its '
  'post. Refused (23514) when that breaks a structural rule the lines kept (the leave patterns, the gap between '
  'blocks, leave within a term, the most lines on leave in a week, ...); made when it breaks a local rule such '
  'as a blocked week, which the result''s violations show. A locked line is refused (55000). Recorded in '
  'job_line_edits. Planners and admins of the run''s org.';

create or replace function planner.lock_line(allocation_run uuid, line_no int) returns jsonb
language plpgsql security definer
set search_path = pg_catalog, public, planner
as $$
begin
  return planner._set_lock(allocation_run, line_no, true);
end
$$;
comment on function planner.lock_line(uuid, int) is
  'Locks job line line_no: every hand edit of it is refused until planner.unlock_line, and a re-solve whose '
  'options say keep_locked keeps it exactly. Recorded in job_line_edits. Planners and admins of the run''s org.';

create or replace function planner.unlock_line(allocation_run uuid, line_no int) returns jsonb
language plpgsql security definer
set search_path = pg_catalog, public, planner
as $$
begin
  return planner._set_lock(allocation_run, line_no, false);
end
$$;
comment on function planner.unlock_line(uuid, int) is
  'Unlocks job line line_no (planner.lock_line). Recorded in job_line_edits. Planners and admins of the run''s org.';

-- ---------------------------------------------------------------- what the verbs share

create or replace function planner._set_lock(allocation_run uuid, line_no int, locked boolean) returns jsonb
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  line   public.job_lines;
  before jsonb;
begin
  perform planner._editable_run(allocation_run);
  line := planner._open_line(allocation_run, line_no, unlocked => false);
  if line.locked is distinct from _set_lock.locked then
    before := planner._line_document(line);
    update public.job_lines j set locked = _set_lock.locked where j.id = line.id returning j.* into line;
    perform planner._record_edit(line, case when locked then 'lock_line' else 'unlock_line' end,
                                 before, planner._line_document(line));
  end if;
  return jsonb_build_object('verb', case when locked then 'lock_line' else 'unlock_line' end,
                            'allocation_run', allocation_run, 'lines', jsonb_build_array(planner._line_document(line)));
end
$$;
comment on function planner._set_lock(uuid, int, boolean) is
  'Does the work of planner.lock_line and planner.unlock_line (a line already so is left as it is, unrecorded).';

create or replace function planner._finish_edit(allocation_run uuid, verb text, lines public.job_lines[],
                                                before jsonb[], findings_before jsonb)
returns jsonb
language plpgsql set search_path = pg_catalog, public, planner
as $$
declare
  findings jsonb := planner._findings(allocation_run);
begin
  perform planner._refuse_new_breaks(verb, findings_before, findings);  -- raising undoes the edit
  for i in 1 .. cardinality(lines) loop
    perform planner._record_edit(lines[i], verb, before[i], planner._line_document(lines[i]));
  end loop;
  return planner._edit_outcome(allocation_run, verb, array(select l.line_no from unnest(lines) l), findings);
end
$$;
comment on function planner._finish_edit(uuid, text, public.job_lines[], jsonb[], jsonb) is
  'After a verb changed its lines: refuses a new structural break, records each line before and after, and '
  'returns the verb''s outcome.';

create or replace function planner._write_line(line public.job_lines, posts uuid[], leave_weeks int[]) returns void
language plpgsql set search_path = pg_catalog, public, planner
as $$
begin
  delete from public.rotations r where r.job_line_id = line.id;
  -- Week by week: each term's post, split around leave, as receptor_planner.solution.rotations writes a line.
  insert into public.rotations (job_line_id, kind, position_id, term, start_week, end_week)
  with terms as (
    select t as term, (planner._term_bounds(line.allocation_run_id, t)).*
      from generate_series(1, cardinality(posts)) t
  ), weeks as (
    select w, terms.term, w = any(leave_weeks) as on_leave
      from terms cross join generate_series(terms.first_week, terms.last_week) w
  ), islands as (
    select w, term, on_leave, w - row_number() over (partition by term, on_leave order by w) as island from weeks
  )
  select line.id, case when on_leave then 'leave' else 'clinical' end,
         case when on_leave then null else posts[term] end, term, min(w), max(w)
    from islands
   group by term, on_leave, island;
end
$$;
comment on function planner._write_line(public.job_lines, uuid[], int[]) is
  'Writes a job line''s rotations again from its post in every term (posts[t]) and its leave weeks.';

-- ---------------------------------------------------------------- direct writes: a rotation lies in its term

create or replace function planner._check_rotation_term() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  run   uuid;
  bound record;
begin
  select j.allocation_run_id into run from public.job_lines j where j.id = new.job_line_id;
  if not found or new.term > planner._term_count(run) then
    return new;  -- the foreign key, or planner._check_rotation, reports it
  end if;
  select * into bound from planner._term_bounds(run, new.term);
  -- The checker reads a rotation's term from its weeks: a row saying otherwise would be read as another term.
  if new.start_week < bound.first_week or new.end_week > bound.last_week then
    raise exception 'rotations.term: weeks % to % do not lie in term %, which is weeks % to %',
        new.start_week, new.end_week, new.term, bound.first_week, bound.last_week
      using errcode = 'check_violation', hint = 'A rotation lies in one term: split it at the term''s end.';
  end if;
  return new;
end
$$;
comment on function planner._check_rotation_term() is
  'Trigger: a rotation''s weeks lie in the term it names (after planner._check_rotation, by name).';

create or replace trigger check_rotation_term before insert or update of term, start_week, end_week, job_line_id
  on public.rotations for each row execute function planner._check_rotation_term();

-- ---------------------------------------------------------------- direct writes: locked lines, and the record

-- Two triggers, last of all (triggers fire in name order), one straight after the other. The first runs as
-- whoever runs the statement, so it can tell a user or service_role writing rows (a direct edit) from the
-- owner (a verb, a solve, a restore, a cascade), and passes that on in a transaction-local setting. The
-- second, a security definer, refuses an edit of a locked line and writes the record, which no API role
-- may write. A caller who sets the setting first gains nothing: the first trigger always sets it again.
create or replace function planner._note_editor() returns trigger
language plpgsql set search_path = pg_catalog
as $$
begin
  perform set_config('planner.direct_edit',
                     case when exists (select 1 from pg_catalog.pg_roles r, pg_catalog.pg_class c
                                        where r.rolname = current_user and c.oid = 'public.orgs'::regclass
                                          and (r.rolsuper or pg_has_role(current_user, c.relowner, 'USAGE')))
                          then 'no' else 'yes' end, true);
  return coalesce(new, old);
end
$$;
comment on function planner._note_editor() is
  'Trigger (invoker, before planner._record_direct_*_edit): notes whether this row is a direct edit, i.e. written '
  'by a role other than the owner (a user, service_role).';

create or replace function planner._record_direct_line_edit() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
begin
  if coalesce(current_setting('planner.direct_edit', true), '') <> 'yes' then
    return coalesce(new, old);
  end if;
  perform set_config('planner.direct_edit', '', true);
  -- Locked before and after: unlocking is the one change a locked line takes.
  if tg_op <> 'INSERT' and old.locked and (tg_op = 'DELETE' or new.locked) then
    raise exception 'job_lines: job line % is locked; unlock it first (planner.unlock_line)', old.line_no
      using errcode = 'object_not_in_prerequisite_state';
  end if;
  perform planner._record_edit(coalesce(new, old), 'direct edit',
                               case when tg_op <> 'INSERT' then planner._line_document(old) end,
                               case when tg_op <> 'DELETE' then planner._line_document(new) end);
  return coalesce(new, old);
end
$$;
comment on function planner._record_direct_line_edit() is
  'Trigger on job_lines: a direct edit (planner._note_editor) of a locked line is refused (55000), unless it '
  'unlocks it; any other is recorded in job_line_edits as ''direct edit'', the line before and after.';

create or replace function planner._record_direct_rotation_edit() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, planner
as $$
declare
  line public.job_lines;
begin
  if coalesce(current_setting('planner.direct_edit', true), '') <> 'yes' then
    return coalesce(new, old);
  end if;
  perform set_config('planner.direct_edit', '', true);
  select j.* into line from public.job_lines j where j.id = coalesce(new.job_line_id, old.job_line_id);
  if not found then
    return coalesce(new, old);  -- the foreign key reports a missing line
  end if;
  if line.locked then
    raise exception 'rotations: job line % is locked; unlock it first (planner.unlock_line)', line.line_no
      using errcode = 'object_not_in_prerequisite_state';
  end if;
  perform planner._record_edit(line, 'direct edit',
                               case when tg_op <> 'INSERT' then jsonb_build_object('id', old.id)
                                                                || planner._rotation_document(old) end,
                               case when tg_op <> 'DELETE' then jsonb_build_object('id', new.id)
                                                                || planner._rotation_document(new) end);
  return coalesce(new, old);
end
$$;
comment on function planner._record_direct_rotation_edit() is
  'Trigger on rotations: a direct edit (planner._note_editor) of a locked line''s rotation is refused (55000); '
  'any other is recorded in job_line_edits as ''direct edit'', the rotation (with its id) before and after.';

create or replace trigger z_hand_edit_1_note_editor before insert or update or delete on public.job_lines
  for each row execute function planner._note_editor();
create or replace trigger z_hand_edit_2_record before insert or update or delete on public.job_lines
  for each row execute function planner._record_direct_line_edit();
create or replace trigger z_hand_edit_1_note_editor before insert or update or delete on public.rotations
  for each row execute function planner._note_editor();
create or replace trigger z_hand_edit_2_record before insert or update or delete on public.rotations
  for each row execute function planner._record_direct_rotation_edit();

-- ---------------------------------------------------------------- a re-solve keeps the locked lines

create or replace function planner._locked_lines(allocation_run uuid) returns jsonb
language sql stable set search_path = pg_catalog, public
as $$
  select coalesce(jsonb_agg(jsonb_build_object('line', j.line_no, 'rotations', rot.list) order by j.line_no),
                  '[]'::jsonb)
    from public.job_lines j
    cross join lateral (
      -- As planner.export_solution writes a rotation: a leave rotation has no position key.
      select coalesce(jsonb_agg(jsonb_build_object('kind', r.kind, 'term', r.term, 'start_week', r.start_week,
                                                   'end_week', r.end_week, 'start_date', r.start_date,
                                                   'end_date', r.end_date)
                                || case when r.kind = 'clinical' then jsonb_build_object('position', p.key)
                                        else '{}'::jsonb end
                                order by r.start_week, r.end_week), '[]'::jsonb) as list
        from public.rotations r left join public.positions p on p.id = r.position_id
       where r.job_line_id = j.id
    ) rot
   where j.allocation_run_id = _locked_lines.allocation_run and j.locked
$$;
comment on function planner._locked_lines(uuid) is
  'The locked job lines of an allocation run, for a solve with options.keep_locked: [{line, rotations}], '
  'rotations as in a solution document (receptor_planner.locks reads them).';

create or replace function planner._relock_lines(allocation_run uuid, line_nos int[]) returns void
language sql set search_path = pg_catalog, public
as $$
  update public.job_lines j set locked = true
   where j.allocation_run_id = _relock_lines.allocation_run and j.line_no = any(line_nos)
$$;
comment on function planner._relock_lines(uuid, int[]) is
  'Locks again the lines a solve with options.keep_locked kept (the solve writes every line anew).';
