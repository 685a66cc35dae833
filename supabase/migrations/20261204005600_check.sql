-- Generated from sql/56_check.sql by `make migrations`: edit sql/56_check.sql, not this file.
-- 56_check.sql: the independent checker, asked by planners about the current lines.
--
--   planner.check_allocation_run(run)   every violation of the allocation run's current lines
--   public.job_line_compliance          each current line: compliant or not, and why
--
-- Both run as the caller: the two documents come from planner.export_instance and
-- planner.export_solution, which read the tables under RLS. Only the checker itself, which
-- reads no table, runs as the owner (plpython3u functions and their loader are not the
-- caller's to run).

create or replace function planner._checker_verdict(instance jsonb, solution jsonb) returns jsonb
language plpython3u stable
set search_path = pg_catalog
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
import json
from receptor_planner.instance import InvalidDocument
from receptor_planner.pg import check_documents
try:
    return json.dumps({"violations": check_documents(instance, solution)})
except InvalidDocument as e:  # only our own validation errors: SPI errors are never caught
    return json.dumps({"error": str(e)})
$$;
comment on function planner._checker_verdict(jsonb, jsonb) is
  'Does the work of planner._check_documents (receptor_planner.pg.check_documents): {"violations": [...]}, '
  'or {"error": "field: reason"} for the caller to raise.';

-- Security definer: callers need no EXECUTE on the plpython3u functions behind it. It reads no table.
create or replace function planner._check_documents(instance jsonb, solution jsonb)
returns table (rule text, line int, term int, "position" text, message text)
language plpgsql stable security definer
set search_path = pg_catalog
as $$
declare
  verdict jsonb;
begin
  verdict := planner._checker_verdict(instance, solution);
  if verdict ? 'error' then
    -- Raised here, not in Python, so the message is exactly "field: reason".
    raise exception '%', verdict ->> 'error' using errcode = 'invalid_parameter_value';
  end if;
  return query
    select v.rule, v.line, v.term, v."position", v.message
      from jsonb_to_recordset(verdict -> 'violations')
           as v (rule text, line int, term int, "position" text, message text);
end
$$;
comment on function planner._check_documents(jsonb, jsonb) is
  'The independent checker (receptor_planner.checker.check) on a solution document against an instance '
  'document: one row per violation (rule code, line number in the document, term, position key, message), '
  'in the checker''s order. Reads no table. An invalid instance, or a solution of more than 2000 lines, is '
  '"field: reason" (22023).';

create or replace function planner.check_allocation_run(allocation_run uuid)
returns table (rule text, line int, term int, "position" text, message text)
language plpgsql stable
set search_path = pg_catalog, public, planner
as $$
declare
  solution jsonb;
  line_nos int[];
begin
  -- As the caller: another org's allocation run is hidden by RLS, and export_solution answers
  -- P0002 "allocation_run: no allocation run with id ..." for it, as for a made-up id.
  solution := planner.export_solution(check_allocation_run.allocation_run);
  if jsonb_array_length(solution -> 'lines') = 0 then
    return;  -- no lines, nothing to judge
  end if;
  -- The checker numbers lines by their place in the document, which export_solution orders by
  -- line_no; after hand edits the numbers may have gaps, so map them back.
  select array_agg(jl.line_no order by jl.line_no) into line_nos
    from public.job_lines jl
   where jl.allocation_run_id = check_allocation_run.allocation_run;
  return query
    select c.rule, line_nos[c.line], c.term, c."position", c.message
      from planner._check_documents(planner.export_instance(check_allocation_run.allocation_run), solution) c;
end
$$;
comment on function planner.check_allocation_run(uuid) is
  'Every violation of the allocation run''s current job lines, from the independent checker (the one that '
  'gates every solve): rule code (docs/rules.md), line_no (null for a finding across lines: CAPACITY, '
  'MIN_FILL, LEAVE_MAX_CONCURRENT, ...), term and position where it has one, and a readable message. No '
  'rows when the lines keep every rule, or when there are none. Runs as the caller: members of the run''s '
  'org; anyone else gets P0002, as for an id that does not exist.';

create or replace view public.job_line_compliance with (security_invoker = true) as
  select jl.allocation_run_id, jl.line_no, jl.id as job_line_id,
         found.violations is null as compliant,
         coalesce(found.violations, '[]'::jsonb) as violations
    from public.job_lines jl
    left join (
      select blamed.allocation_run_id, blamed.line_no,
             jsonb_agg(jsonb_build_object('rule', blamed.rule, 'term', blamed.term,
                                          'position', blamed."position", 'message', blamed.message)
                       order by blamed.n) as violations
        from (
          -- The checker runs once per allocation run (a filter on allocation_run_id reaches it).
          select runs.allocation_run_id, coalesce(c.line, holders.line_no) as line_no,
                 c.rule, c.term, c."position", c.message, c.n
            from (select distinct j.allocation_run_id from public.job_lines j) runs
           cross join lateral planner.check_allocation_run(runs.allocation_run_id)
                 with ordinality as c (rule, line, term, "position", message, n)
            -- An over-full post names no line: every line holding it in that term shares the blame.
            -- A short post (MIN_FILL) or a week with too many on leave has no line to blame.
            left join lateral (
              select distinct l.line_no
                from public.job_lines l
                join public.rotations r on r.job_line_id = l.id
                join public.positions p on p.id = r.position_id
               where c.line is null and c.rule = 'CAPACITY'
                 and l.allocation_run_id = runs.allocation_run_id and r.term = c.term and p.key = c."position"
            ) holders on true
        ) blamed
       where blamed.line_no is not null
       group by blamed.allocation_run_id, blamed.line_no
    ) found on found.allocation_run_id = jl.allocation_run_id and found.line_no = jl.line_no;
comment on view public.job_line_compliance is
  'Each current job line and whether it keeps every rule, from planner.check_allocation_run: violations '
  'is a list of {rule, term, position, message} naming the line (an over-full post counts against every '
  'line holding it; findings about no line, such as a short post, are in check_allocation_run only). '
  'security_invoker: RLS on job_lines and the exports decides what a reader sees.';
