-- Generated from sql/43_export_xlsx.sql by `make migrations`: edit sql/43_export_xlsx.sql, not this file.
-- 43_export_xlsx.sql: the PMCV-style workbook of an allocation run's current job lines.
--
--   planner.export_xlsx(run)   the .xlsx file: Job lines, Rotations, Posts, Compliance, Run
--
-- Runs as the caller: the two documents come from planner.export_instance and
-- planner.export_solution, which read the tables under RLS. Only the workbook builder, which
-- reads no table, runs as the owner (plpython3u functions and their loader are not the caller's
-- to run).

create or replace function planner._lines_workbook_bytes(instance jsonb, solution jsonb,
                                                         out workbook bytea, out error text)
language plpython3u stable
set search_path = pg_catalog
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
from receptor_planner.instance import InvalidDocument
from receptor_planner.lines_workbook import workbook_bytes
try:
    return workbook_bytes(instance, solution), None
except InvalidDocument as e:  # only our own validation errors: SPI errors are never caught
    return None, str(e)
$$;
comment on function planner._lines_workbook_bytes(jsonb, jsonb) is
  'Does the work of planner._lines_workbook (receptor_planner.lines_workbook.workbook_bytes): the workbook, '
  'or the "field: reason" of a document it cannot draw, for the caller to raise.';

-- Security definer: callers need no EXECUTE on the plpython3u functions behind it. It reads no table.
create or replace function planner._lines_workbook(instance jsonb, solution jsonb) returns bytea
language plpgsql stable security definer
set search_path = pg_catalog
as $$
declare
  result record;
begin
  result := planner._lines_workbook_bytes(instance, solution);
  if result.error is not null then
    -- Raised here, not in Python, so the message is exactly "field: reason".
    raise exception '%', result.error using errcode = 'invalid_parameter_value';
  end if;
  return result.workbook;
end
$$;
comment on function planner._lines_workbook(jsonb, jsonb) is
  'The .xlsx workbook of a solution document against its instance document, compliance from the '
  'independent checker (receptor_planner.lines_workbook). Reads no table. An invalid instance, or a '
  'solution whose lines cannot be drawn (more than 2000 lines, a rotation without weeks...), is '
  '"field: reason" (22023).';

create or replace function planner.export_xlsx(allocation_run uuid) returns bytea
language plpgsql stable
set search_path = pg_catalog, public, planner
as $$
begin
  -- As the caller: another org's allocation run is hidden by RLS, and the exports answer
  -- P0002 "allocation_run: no allocation run with id ..." for it, as for a made-up id.
  return planner._lines_workbook(planner.export_instance(export_xlsx.allocation_run),
                                 planner.export_solution(export_xlsx.allocation_run));
end
$$;
comment on function planner.export_xlsx(uuid) is
  'The PMCV-style workbook (.xlsx bytes) of the allocation run''s current job lines: sheets Job lines (the '
  'year''s grid, posts coloured by specialty, leave shown, A3 landscape), Rotations (one row per rotation), '
  'Posts (capacity, staffing need and lines placed per term), Compliance (per line, each rule: ok or the '
  'checker''s words) and Run (request, metrics, explanation). Runs as the caller: members of the run''s org; '
  'anyone else gets P0002, as for an id that does not exist.';
