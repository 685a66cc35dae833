-- Generated from sql/44_report.sql by `make migrations`: edit sql/44_report.sql, not this file.
-- 44_report.sql: a picture of the year, as one static HTML page.
--
--   planner.report_html(run)   the allocation run's current lines drawn as a page
--
-- Runs as the caller, as planner.check_allocation_run does: the two documents come from
-- planner.export_instance and planner.export_solution, which read the tables under RLS, and the
-- findings from the checker on those very documents (planner._check_documents, 56_check.sql).
-- Only the drawing, which reads no table, runs as the owner (plpython3u functions and their
-- loader are not the caller's to run).

create or replace function planner._render_report(instance jsonb, solution jsonb, findings jsonb,
                                                  out html text, out error text)
language plpython3u stable
set search_path = pg_catalog
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.instance import InvalidDocument, load_json
from receptor_planner.report import render_report
try:
    return render_report(load_json(instance, "instance"), load_json(solution, "solution"),
                         load_json(findings, "findings")), None
except InvalidDocument as e:  # only our own validation errors: SPI errors are never caught
    return None, str(e)
$$;
comment on function planner._render_report(jsonb, jsonb, jsonb) is
  'Does the work of planner._report_page (receptor_planner.report.render_report): the page, or the '
  '"field: reason" of an invalid input for the caller to raise.';

-- Security definer: callers need no EXECUTE on the plpython3u functions behind it. It reads no table.
create or replace function planner._report_page(instance jsonb, solution jsonb, findings jsonb) returns text
language plpgsql stable security definer
set search_path = pg_catalog
as $$
declare
  drawn record;
begin
  drawn := planner._render_report(instance, solution, findings);
  if drawn.error is not null then
    -- Raised here, not in Python, so the message is exactly "field: reason".
    raise exception '%', drawn.error using errcode = 'invalid_parameter_value';
  end if;
  return drawn.html;
end
$$;
comment on function planner._report_page(jsonb, jsonb, jsonb) is
  'The HTML page (receptor_planner.report.render_report) of a solution document against an instance '
  'document and the checker''s findings on them (rows of rule, line, term, position, message; line is the '
  'place in the solution''s lines). Reads no table. An invalid instance, findings that are not such rows, '
  'or a solution of more than 2000 lines is "field: reason" (22023).';

create or replace function planner.report_html(allocation_run uuid) returns text
language plpgsql stable
set search_path = pg_catalog, public, planner
as $$
declare
  solution jsonb;
  instance jsonb;
  findings jsonb := '[]'::jsonb;
begin
  -- As the caller: another org's allocation run is hidden by RLS, and export_solution answers
  -- P0002 "allocation_run: no allocation run with id ..." for it, as for a made-up id.
  solution := planner.export_solution(report_html.allocation_run);
  instance := planner.export_instance(report_html.allocation_run);
  -- Without lines there is nothing to judge (the checker would call every post short).
  if jsonb_array_length(solution -> 'lines') > 0 then
    -- Lines numbered by their place in the document, as the page numbers them.
    select coalesce(jsonb_agg(to_jsonb(c) - 'n' order by c.n), '[]') into findings
      from planner._check_documents(instance, solution)
           with ordinality as c (rule, line, term, "position", message, n);
  end if;
  return planner._report_page(instance, solution, findings);
end
$$;
comment on function planner.report_html(uuid) is
  'The allocation run''s current job lines as one static HTML page (no script, no external asset, print '
  'CSS for A3 landscape): the week-by-week grid by line with posts coloured by specialty, leave shaded and '
  'terms marked; a compliance badge per line from the independent checker; per post and term the '
  'capacity, the need and the lines placed; the request, metrics and explanation of the run that wrote '
  'the lines. Runs as the caller: members of the run''s org; anyone else gets P0002, as for an id that '
  'does not exist.';
