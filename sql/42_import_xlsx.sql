-- 42_import_xlsx.sql: a service workbook in, for a frontend's upload (issue 11).
--
--   planner.import_xlsx(workbook, org)   xlsx service workbook -> tables, returns the allocation run id
--
-- The workbook is read into an instance document by receptor_planner.service_workbook (the same
-- reader as `planner import`), then written by planner.import_instance: one writer of instances.

create or replace function planner._xlsx_instance(workbook bytea) returns jsonb
language plpython3u stable
set search_path = pg_catalog
as $$
if 'receptor_planner' not in __import__('sys').modules: plpy.execute('select planner._load_python()')
import json
from receptor_planner.service_workbook import WorkbookError, read_workbook
try:
    return json.dumps({"instance": read_workbook(workbook)})
except WorkbookError as e:  # only the workbook's own problems: SPI errors are never caught
    return json.dumps({"error": str(e), "problems": e.as_list()})
$$;
comment on function planner._xlsx_instance(bytea) is
  'Reads an xlsx service workbook (receptor_planner.service_workbook.read_workbook): {"instance": document}, '
  'or {"error": every problem one a line, "problems": [{sheet, row, column, message}]} for the caller to '
  'raise. Reads no table.';

-- Security definer: service_role calls it without EXECUTE on the plpython3u functions behind it.
create or replace function planner.import_xlsx(workbook bytea, org uuid default null) returns uuid
language plpgsql security definer
set search_path = pg_catalog, public, planner
as $$
declare
  verdict jsonb;
begin
  if workbook is null then
    raise exception 'workbook: is required (the bytes of an xlsx file)' using errcode = 'invalid_parameter_value';
  end if;
  verdict := planner._xlsx_instance(workbook);
  if verdict ? 'error' then
    -- Raised here, not in Python, so the message is exactly the problems, one a line; the detail
    -- lists them as JSON for a frontend to mark the cells.
    raise exception '%', verdict ->> 'error'
      using errcode = 'invalid_parameter_value', detail = (verdict -> 'problems')::text;
  end if;
  return planner.import_instance(verdict -> 'instance', import_xlsx.org);
end
$$;
comment on function planner.import_xlsx(bytea, uuid) is
  'Imports an xlsx service workbook (the template of `planner template`: sheets Service, Posts and '
  'optionally Groups, Line rules, Links) as planner.import_instance imports its instance document, into '
  'org (or a new org named by the workbook). Any problem raises 22023 naming every problem''s sheet, row '
  'and column, one a line (DETAIL: the same as a JSON list), and writes nothing. Returns the allocation run '
  'id.';
