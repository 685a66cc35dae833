-- Generated from sql/40_documents.sql by `make migrations`: edit sql/40_documents.sql, not this file.
-- 40_documents.sql: the two JSON documents of domain.md in and out of the tables.
--
--   planner.import_instance(doc, org)   instance document -> tables, returns the allocation run id
--   planner.export_instance(run)        tables -> instance document (what the solver reads)
--   planner.export_solution(run)        current job lines -> solution document

create or replace function planner._import_instance(doc jsonb, org uuid,
                                                    out allocation_run uuid, out error text)
language plpython3u
set search_path = pg_catalog, public, planner
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.instance import InvalidDocument
from receptor_planner.pg import import_instance
try:
    return import_instance(plpy, doc, org), None
except InvalidDocument as e:  # only our own validation errors: SPI errors are never caught
    return None, str(e)
$$;
comment on function planner._import_instance(jsonb, uuid) is
  'Does the work of planner.import_instance; returns the run id, or the "field: reason" of an invalid document '
  '(the caller must raise it, which undoes any rows already written).';

-- Security definer: service_role calls it without EXECUTE on the plpython3u functions behind it.
create or replace function planner.import_instance(doc jsonb, org uuid default null) returns uuid
language plpgsql security definer
set search_path = pg_catalog, public, planner
as $$
declare
  result record;
begin
  result := planner._import_instance(doc, org);
  if result.error is not null then
    -- Raised here, not in Python, so the message is exactly "field: reason".
    raise exception '%', result.error using errcode = 'invalid_parameter_value';
  end if;
  return result.allocation_run;
end
$$;
comment on function planner.import_instance(jsonb, uuid) is
  'Validates an instance document (receptor_planner.instance.parse_instance; an error is "field: reason", '
  'SQLSTATE 22023) and writes org (unless given), teams, positions, affinity profile, plan, allocation run, '
  'posts, pins and the local rules (groups, line rules, links). Positions already in the org must match '
  'exactly. Returns the allocation run id; all or nothing.';

create or replace function planner.export_instance(allocation_run uuid) returns jsonb
language plpgsql stable
set search_path = pg_catalog, public, planner
as $$
declare
  doc jsonb;
begin
  select jsonb_build_object(
      'format', 'receptor-planner/instance@1',
      'org', jsonb_build_object('name', o.name),
      'cohort', p.cohort,
      'start_date', r.start_date,
      'period_weeks', r.period_weeks,
      'term_weeks', to_jsonb(p.term_weeks),
      'leave', p.leave,
      'positions', coalesce(positions.list, '[]'),
      'pins', coalesce(pins.list, '[]'),
      'affinity', (select jsonb_build_object('version', a.version, 'source', a.source, 'weights', a.weights)
                     from public.affinity_profiles a where a.id = r.affinity_profile_id),
      -- The local rules, in document order (groups in jsonb's own key order: an object keeps no other).
      'groups', coalesce(grouped.doc, '{}'),
      'line_rules', coalesce(line_rules.list, '[]'),
      'links', coalesce(links.list, '[]'),
      'home_site_min_terms', r.home_site_min_terms)
    into doc
    from public.allocation_runs r
    join public.allocation_plans p on p.id = r.plan_id
    join public.orgs o on o.id = r.org_id
    cross join lateral (
      -- Positions the run offers in some term, by key (a stable order; the document's order is not kept).
      select jsonb_agg(jsonb_build_object(
               'key', pos.key, 'name', pos.name, 'team', t.name,
               'specialty', pos.specialty, 'subspecialty', pos.subspecialty,
               'categories', to_jsonb(pos.categories),
               'capacity', offer.capacity, 'min_fill', offer.min_fill, 'terms', offer.terms,
               'service', pos.service, 'nights', pos.nights, 'rural', pos.rural,
               'non_clinical', pos.non_clinical, 'excludable', pos.excludable,
               'site', pos.site, 'span', pos.span)
             order by pos.key collate "C") as list
        from public.positions pos
        left join public.teams t on t.id = pos.team_id
        cross join lateral (
          -- Per term; a term without a post row is not offered and holds 0. terms lists where a
          -- placement may start (for a one-term post, where it is offered): null when it may start
          -- wherever a placement of its span fits.
          select jsonb_agg(coalesce(post.capacity, 0) order by n) as capacity,
                 jsonb_agg(coalesce(post.min_fill, 0) order by n) as min_fill,
                 case when count(post.term) filter (where post.may_start) = cardinality(p.term_weeks) - pos.span + 1
                      then null
                      else coalesce(jsonb_agg(n order by n) filter (where post.may_start), '[]') end as terms
            from generate_series(1, cardinality(p.term_weeks)) n
            left join public.allocation_run_posts post
              on post.allocation_run_id = r.id and post.position_id = pos.id and post.term = n
        ) offer
       where pos.id in (select post.position_id from public.allocation_run_posts post
                         where post.allocation_run_id = r.id)
    ) positions
    cross join lateral (
      select jsonb_agg(jsonb_build_object('line', pin.line_no, 'term', pin.term, 'position', pos.key)
                       order by pin.line_no, pin.term) as list
        from public.allocation_run_pins pin
        join public.positions pos on pos.id = pin.position_id
       where pin.allocation_run_id = r.id
    ) pins
    cross join lateral (
      select jsonb_object_agg(g.name, members.list order by g.ordinal) as doc
        from public.allocation_run_groups g
        cross join lateral (
          select jsonb_agg(pos.key order by m.ordinal) as list
            from public.allocation_run_group_members m
            join public.positions pos on pos.id = m.position_id
           where m.allocation_run_id = g.allocation_run_id and m.group_name = g.name
        ) members
       where g.allocation_run_id = r.id
    ) grouped
    cross join lateral (
      select jsonb_agg(jsonb_build_object('name', lr.name, 'group', lr.group_name,
                                          'min', lr.min_placements, 'max', lr.max_placements)
                       order by lr.ordinal) as list
        from public.allocation_run_line_rules lr
       where lr.allocation_run_id = r.id
    ) line_rules
    cross join lateral (
      select jsonb_agg(jsonb_build_object('name', l.name, 'if', start.key, 'then', targets.list)
                       order by l.ordinal) as list
        from public.allocation_run_links l
        join public.positions start on start.id = l.if_position_id
        cross join lateral (
          select jsonb_agg(pos.key order by t.ordinal) as list
            from public.allocation_run_link_targets t
            join public.positions pos on pos.id = t.position_id
           where t.allocation_run_id = l.allocation_run_id and t.link_name = l.name
        ) targets
       where l.allocation_run_id = r.id
    ) links
   where r.id = export_instance.allocation_run;
  if doc is null then
    raise exception 'allocation_run: no allocation run with id %', export_instance.allocation_run
      using errcode = 'no_data_found';
  end if;
  return doc;
end
$$;
comment on function planner.export_instance(uuid) is
  'The instance document (receptor-planner/instance@1) of an allocation run, rebuilt from the tables: '
  'capacity and min_fill as per-term lists (0 where not offered), terms the start terms (null when a placement '
  'may start wherever it fits), and the local rules (groups, line_rules, links, home_site_min_terms). '
  'The solver reads its problem through this function.';

create or replace function planner.export_solution(allocation_run uuid) returns jsonb
language plpgsql stable
set search_path = pg_catalog, public, planner
as $$
declare
  run_id uuid;
  writer public.allocation_planner_runs;
  lines  jsonb;
begin
  select r.id into run_id from public.allocation_runs r where r.id = export_solution.allocation_run;
  if not found then
    raise exception 'allocation_run: no allocation run with id %', export_solution.allocation_run
      using errcode = 'no_data_found';
  end if;
  -- The planner run that wrote the current lines (the latest, should several have written some).
  select pr.* into writer
    from public.job_lines jl join public.allocation_planner_runs pr on pr.id = jl.planner_run_id
   where jl.allocation_run_id = run_id
   order by pr.created_at desc, pr.id
   limit 1;
  select coalesce(jsonb_agg(jsonb_build_object('name', coalesce(jl.name, 'Line ' || jl.line_no),
                                               'rotations', rot.list)
                            order by jl.line_no), '[]')
    into lines
    from public.job_lines jl
    cross join lateral (
      select coalesce(jsonb_agg(
               -- a leave rotation has no position key at all (domain.md)
               jsonb_build_object('kind', ro.kind, 'term', ro.term,
                                  'start_week', ro.start_week, 'end_week', ro.end_week,
                                  'start_date', ro.start_date, 'end_date', ro.end_date)
               || case when ro.kind = 'clinical' then jsonb_build_object('position', pos.key) else '{}' end
               order by ro.start_week, ro.end_week), '[]') as list
        from public.rotations ro
        left join public.positions pos on pos.id = ro.position_id
       where ro.job_line_id = jl.id
    ) rot
   where jl.allocation_run_id = run_id;
  return jsonb_build_object(
    'format', 'receptor-planner/solution@1',
    -- Lines are only ever written as a completed set, whichever run wrote them (or by hand).
    'status', case when jsonb_array_length(lines) > 0 then 'COMPLETED' end,
    -- Always an object (the checker requires one). Option defaults are receptor_planner.instance.Request's;
    -- hand-made lines read as an UNRESTRICTED request for as many lines as there are.
    'request', jsonb_build_object(
                 'n_job_lines', coalesce(writer.n_job_lines, jsonb_array_length(lines)),
                 'constraints', coalesce(to_jsonb(writer.constraints), '["UNRESTRICTED"]'),
                 'allow_partial', coalesce(writer.options -> 'allow_partial', 'false'),
                 'max_seconds', coalesce(writer.options -> 'max_seconds', '60.0'),
                 'seed', coalesce(writer.options -> 'seed', '0')),
    'lines', lines,
    'metrics', coalesce(writer.result_metadata -> 'metrics', '{}'),
    'explanation', writer.result_metadata -> 'explanation');
end
$$;
comment on function planner.export_solution(uuid) is
  'The solution document (receptor-planner/solution@1) of the run''s current job lines: status COMPLETED '
  '(null without lines); request, metrics and explanation from the planner run that wrote them; '
  'lines by line_no, rotations by start_week.';
