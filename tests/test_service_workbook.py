"""A service workbook in: the template, reading it back, every problem at its cell, and the SQL import.

The story: the blank template has the sheets, headers and drop-downs of issue 11 and its example rows
make a valid service; a workbook filled (here, by openpyxl) from a known instance document reads back
as the same instance, and so does a CSV file of its posts; each kind of mistake is reported at its
sheet, row and column, all of a file's mistakes at once; `planner template` and `planner import` do
this from the command line; planner.import_xlsx does it in the database and writes nothing when the
file has a problem.
"""
from __future__ import annotations

import argparse
import copy
import csv
import dataclasses
import datetime as dt
import io
import json
import uuid

import openpyxl
import psycopg
import pytest

from receptor_planner.instance import parse_instance
from receptor_planner.service_workbook import POST_COLUMNS, SETTINGS, WorkbookError, read_csv, read_workbook, \
    template_bytes
from receptor_planner_tools import workbook_cli

from builders import REPO, export, filled_workbook, local_rules_doc, numbers, post_row, saved, \
    service_values, small_doc, table_counts, template_book

SETTING_NAMES = [s.name for s in SETTINGS]
RULE_SHEETS = {"Groups": ["group", "key"], "Line rules": ["name", "group", "min", "max"],
               "Links": ["name", "if", "then"]}


def metro_doc() -> dict:
    return json.loads((REPO / "examples" / "metro-pgy1.json").read_text())


def without_pins_and_affinity(doc: dict) -> dict:
    """What a workbook carries of an instance document: no pins, no affinity profile."""
    doc = copy.deepcopy(doc)
    doc.pop("pins", None)
    doc.pop("affinity", None)
    return doc


# ---------------------------------------------------------------- the template

def test_the_template_has_the_sheets_settings_and_headers_of_the_issue():
    book = template_book()
    assert book.sheetnames == ["Service", "Posts", "Groups", "Line rules", "Links", "Lists"]
    assert book["Lists"].sheet_state == "hidden"
    service = [[c.value for c in row] for row in book["Service"].iter_rows()]
    assert service[0] == ["setting", "value"]
    assert [row[0] for row in service[1:]] == [
        "name", "cohort", "start_date", "term_weeks", "leave_weeks", "leave_patterns", "leave_min_gap_weeks",
        "leave_within_term", "leave_max_concurrent", "leave_fixed_blocks", "leave_blocked_weeks",
        "leave_preferred_groups", "leave_front_load_target", "home_site_min_terms"]
    values = {row[0]: row[1] for row in service[1:]}
    assert (values["term_weeks"], values["leave_patterns"]) == ("10,10,10,10,12", "5; 2,3; 3,2")
    assert [c.value for c in book["Posts"][1]] == [
        "key", "name", "team", "site", "specialty", "subspecialty", "categories", "capacity", "min_fill", "terms",
        "span", "service", "nights", "rural", "non_clinical", "excludable"]
    for sheet, headers in RULE_SHEETS.items():
        rows = [[c.value for c in row] for row in book[sheet].iter_rows()]
        assert rows[0] == headers and len(rows) == 2, f"{sheet}: a header and one example row"


def validations(sheet) -> dict[str, object]:
    """The first column letter of each data validation's cells -> the validation."""
    return {str(v.sqref).split(":")[0].rstrip("0123456789"): v for v in sheet.data_validations.dataValidation}


def test_the_template_offers_drop_downs_for_categories_flags_and_terms():
    book = template_book()
    posts = validations(book["Posts"])
    letter = {name: openpyxl.utils.get_column_letter(i + 1) for i, name in enumerate(POST_COLUMNS)}
    categories = posts[letter["categories"]]
    assert categories.type == "list"
    sheet_name, cells = categories.formula1.split("!")
    listed = [row[0] for row in book[sheet_name].iter_rows(min_row=2, values_only=True)]
    assert "A,C" in listed and "A" in listed and len(listed) == 4 + 6  # one or two of A-D
    for flag in ("service", "nights", "rural", "non_clinical", "excludable"):
        assert (posts[letter[flag]].type, posts[letter[flag]].formula1) == ("list", '"yes,no"')
    assert posts[letter["terms"]].type == "custom" and "SUBSTITUTE" in posts[letter["terms"]].formula1
    assert posts[letter["capacity"]].type == "whole"
    service = {str(v.sqref): v for v in book["Service"].data_validations.dataValidation}
    cohort_row = 2 + SETTING_NAMES.index("cohort")
    assert service[f"B{cohort_row}"].formula1 == '"PGY1,PGY2,PGY3+"'
    within_row = 2 + SETTING_NAMES.index("leave_within_term")
    assert service[f"B{within_row}"].formula1 == '"yes,no"'
    groups = validations(book["Groups"])
    assert groups["B"].type == "list" and groups["B"].formula1.startswith("Posts!$A$2")


def test_the_blank_template_reads_as_its_two_example_posts():
    doc = read_workbook(template_bytes())
    inst = parse_instance(doc)
    assert [p.key for p in inst.positions] == ["ED1", "MED1"]
    assert inst.term_weeks == (10, 10, 10, 10, 12) and inst.leave.patterns == ((5,), (2, 3), (3, 2))
    assert inst.groups == {"core-ed": ("ED1",)} and inst.links[0].then == ("MED1",)
    # One min_fill for a post offered in terms 1-3 is its need there and 0 where it is not offered.
    assert inst.position("MED1").min_fill == (2, 2, 2, 0, 0)


# ---------------------------------------------------------------- the round trip

@pytest.mark.parametrize("make_doc", [small_doc, local_rules_doc, metro_doc], ids=["small", "local_rules", "metro"])
def test_a_filled_template_reads_back_as_the_same_instance(make_doc):
    doc = without_pins_and_affinity(make_doc())
    assert parse_instance(read_workbook(filled_workbook(doc))) == parse_instance(doc)


def test_headers_and_sheet_names_match_whatever_their_case():
    doc = without_pins_and_affinity(local_rules_doc())
    book = openpyxl.load_workbook(io.BytesIO(filled_workbook(doc)))
    rules, posts = book["Line rules"], book["Posts"]
    rules.title, posts.title = "renamed", "renamed too"  # openpyxl refuses a name that differs only in case
    rules.title, posts.title = "LINE RULES", "posts"
    for cell in posts[1]:
        cell.value = cell.value.upper().replace("_", " ")  # MIN FILL, NON CLINICAL, CAPACITY T1
    assert parse_instance(read_workbook(saved(book))) == parse_instance(doc)


def test_blank_rows_are_skipped_and_rows_keep_the_sheets_numbers():
    book = template_book()
    book["Posts"].insert_rows(3, 2)  # two blank rows: MED1 moves to row 5
    book["Posts"]["H5"] = "four"
    with pytest.raises(WorkbookError) as raised:
        read_workbook(saved(book))
    assert [str(p) for p in raised.value.problems] == [
        "Posts row 5, capacity: expected a whole number >= 0, got 'four'"]


# ---------------------------------------------------------------- CSV

def posts_csv(doc: dict, delimiter: str = ",") -> str:
    n_terms = len(doc["term_weeks"])
    columns = list(POST_COLUMNS) + [f"{name}_t{t}" for name in ("capacity", "min_fill") for t in range(1, n_terms + 1)]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns)
    for post in doc["positions"]:
        writer.writerow(["" if v is None else v for v in post_row(post, columns)])
    return out.getvalue()


def csv_settings(doc: dict) -> dict:
    """The settings as `planner import` passes its options: text, or None when not given."""
    return {name: (value.isoformat() if isinstance(value, dt.date) else None if value is None else str(value))
            for name, value in service_values(doc).items()}


def test_a_csv_of_posts_with_its_settings_reads_back_as_the_same_instance():
    doc = without_pins_and_affinity(small_doc())
    assert parse_instance(read_csv(posts_csv(doc), csv_settings(doc))) == parse_instance(doc)


def test_a_csv_from_excel_with_semicolons_a_byte_order_mark_or_windows_1252_reads_the_same():
    doc = without_pins_and_affinity(small_doc())
    doc["positions"][0]["name"] = "Médecine générale"
    expected = parse_instance(doc)
    text = posts_csv(doc, delimiter=";")
    assert parse_instance(read_csv(("\ufeff" + text).encode("utf-8"), csv_settings(doc))) == expected
    assert parse_instance(read_csv(text.encode("cp1252"), csv_settings(doc))) == expected


def test_csv_problems_name_the_row_the_column_and_the_setting():
    doc = without_pins_and_affinity(small_doc())
    doc["positions"][2]["span"] = 0  # the third post: row 4, below the header
    header, rest = posts_csv(doc).split("\r\n", 1)
    settings = {**csv_settings(doc), "start_date": "2027-01-05", "leave_weeks": "five"}
    with pytest.raises(WorkbookError) as raised:
        read_csv(f"{header},colour\r\n{rest}", settings)
    colour = len(POST_COLUMNS) + 2 * len(doc["term_weeks"]) + 1
    # A cell of the wrong shape is found as the settings are read, a Tuesday by parse_instance after.
    assert [str(p) for p in raised.value.problems] == [
        "settings, leave_weeks: expected a whole number >= 0, got 'five'",
        "settings, start_date: must be a Monday, got a Tuesday",
        f"Posts row 1, column {colour}: unknown header 'colour'; expected one of {', '.join(POST_COLUMNS)}",
        "Posts row 4, span: expected a whole number >= 1, got '0'"]  # a CSV holds text


# ---------------------------------------------------------------- every problem at its cell

def setting_row(name: str) -> int:
    return 2 + SETTING_NAMES.index(name)


def set_setting(name: str, value):
    def mutate(book):
        book["Service"].cell(setting_row(name), 2).value = value  # cell(r, c, None) would keep the old value
    return mutate


def set_post(row: int, column: str, value):
    def mutate(book):
        headers = [c.value for c in book["Posts"][1]]
        book["Posts"].cell(row, headers.index(column) + 1).value = value
    return mutate


def add_posts_columns(*names: str):
    def mutate(book):
        sheet = book["Posts"]
        for name in names:
            sheet.cell(1, sheet.max_column + 1, name)
    return mutate


def set_cell(sheet: str, cell: str, value):
    def mutate(book):
        book[sheet][cell] = value
    return mutate


def append_row(sheet: str, *values):
    def mutate(book):
        book[sheet].append(list(values))
    return mutate


def per_term(name: str, row: int, values):
    """Per-term columns ``name_t1``..``name_t5`` added, the row's values in them and its single cell blank."""
    def mutate(book):
        add_posts_columns(*(f"{name}_t{t}" for t in range(1, 6)))(book)
        for t, value in enumerate(values, start=1):
            set_post(row, f"{name}_t{t}", value)(book)
        set_post(row, name, None)(book)
    return mutate


def delete_sheet(name: str):
    def mutate(book):
        del book[name]
    return mutate


def both(*mutations):
    def mutate(book):
        for mutation in mutations:
            mutation(book)
    return mutate


ALL_POST_COLUMNS = ", ".join(POST_COLUMNS)
ALL_SETTINGS = ", ".join(SETTING_NAMES)

# (what is done to the template, the one problem it makes). The template: ED1 (row 2: A,C, capacity 6,
# min_fill 6) and MED1 (row 3: A,B, capacity 4, min_fill 2, terms 1,2,3); group core-ed = ED1 (Groups
# row 2); line rule "core emergency" on core-ed, min 1 (Line rules row 2); link ED1 -> MED1 (Links row 2).
CASES = {
    # cells of the wrong shape
    "whole number": (set_post(2, "capacity", "two"), "Posts row 2, capacity: expected a whole number >= 0, got 'two'"),
    "per-term whole number": (per_term("capacity", 3, [4, 4, "two", 4, 4]),
                              "Posts row 3, capacity_t3: expected a whole number >= 0, got 'two'"),
    "a blank per-term capacity": (per_term("capacity", 3, [4, 4, None, 4, 4]),
                                  "Posts row 3, capacity_t3: expected a whole number >= 0, got nothing"),
    "one capacity and per-term ones": (both(add_posts_columns(*(f"capacity_t{t}" for t in range(1, 6))),
                                            *(set_post(2, f"capacity_t{t}", 6) for t in range(1, 6))),
                                       "Posts row 2, capacity: expected one number here or one a term in "
                                       "capacity_t1.., not both (this row fills capacity_t1)"),
    "categories": (set_post(2, "categories", "E"),
                   "Posts row 2, categories: expected categories among A, B, C and D, as A,C, got 'E'"),
    "flag": (set_post(3, "rural", "maybe"), "Posts row 3, rural: expected yes or no, got 'maybe'"),
    "terms": (set_post(3, "terms", "first"), "Posts row 3, terms: expected term numbers, as 1,2,3 or 1-3, got 'first'"),
    "span": (set_post(2, "span", 0), "Posts row 2, span: expected a whole number >= 1, got 0"),
    "duplicate key": (append_row("Posts", "ED1", "Again", None, "Main", "Emergency Medicine", None, "A", 1),
                      "Posts row 4, key: 'ED1' is also the key of row 2"),
    "cohort": (set_setting("cohort", "PGY4"), f"Service row {setting_row('cohort')}, cohort: expected one of PGY1, "
                                              "PGY2, PGY3+, got 'PGY4'"),
    "date": (set_setting("start_date", "soon"),
             f"Service row {setting_row('start_date')}, start_date: expected a date, as 2027-01-04, got 'soon'"),
    "term lengths": (set_setting("term_weeks", "10,x"),
                     f"Service row {setting_row('term_weeks')}, term_weeks: expected term lengths in weeks, as "
                     "10,10,10,10,12, got '10,x'"),
    "required setting": (set_setting("start_date", None),
                         f"Service row {setting_row('start_date')}, start_date: is required, as '2027-01-04'"),
    # headers, settings and sheets
    "unknown header": (set_cell("Posts", "Q1", "colour"),
                       f"Posts row 1, column Q: unknown header 'colour'; expected one of {ALL_POST_COLUMNS}"),
    "repeated header": (set_cell("Posts", "Q1", "Capacity"), "Posts row 1, column Q: capacity is also the header "
                                                             "of column H"),
    "a value without a header": (set_cell("Posts", "Q3", "stray"),
                                 f"Posts row 1, column Q: has no header, but row 3 holds a value there; expected "
                                 f"one of {ALL_POST_COLUMNS}"),
    "a per-term column missing": (add_posts_columns("capacity_t1", "capacity_t2", "capacity_t4", "capacity_t5"),
                                  "Posts row 1, capacity_t3: missing column; per-term columns run from capacity_t1 "
                                  "to capacity_t5, one for each term"),
    "a per-term column past the last term": (add_posts_columns("capacity_t6"),
                                             "Posts row 1, capacity_t6: the service has 5 terms (term_weeks)"),
    "unknown setting": (append_row("Service", "leave_week", 3),
                        f"Service row {2 + len(SETTINGS)}, setting: unknown setting 'leave_week'; expected one of "
                        f"{ALL_SETTINGS}"),
    "a setting twice": (append_row("Service", "cohort", "PGY2"),
                        f"Service row {2 + len(SETTINGS)}, cohort: is also set in row {setting_row('cohort')}"),
    "unknown sheet": (lambda book: book.create_sheet("Notes"),
                      "Notes: unknown sheet; expected Service, Posts, Groups, Line rules, Links"),
    "no Service sheet": (delete_sheet("Service"),
                         "Service: the workbook has no Service sheet; expected one with the columns setting and value"),
    # what only parse_instance finds, at the cell it came from
    "not a Monday": (set_setting("start_date", dt.date(2027, 1, 5)),
                     f"Service row {setting_row('start_date')}, start_date: must be a Monday, got a Tuesday"),
    "leave weeks": (set_setting("leave_weeks", 60),
                    f"Service row {setting_row('leave_weeks')}, leave_weeks: must be between 0 and 51, got 60"),
    "a leave pattern": (set_setting("leave_patterns", "5; 2,2"),
                        f"Service row {setting_row('leave_patterns')}, leave_patterns: blocks sum to 4 weeks, but 5 "
                        "leave weeks remain outside fixed blocks"),
    "min_fill over capacity": (set_post(2, "min_fill", 7), "Posts row 2, min_fill: 7 exceeds the capacity of 6"),
    "per-term min_fill over capacity": (per_term("min_fill", 2, [6, 7, 6, 6, 6]),
                                        "Posts row 2, min_fill_t2: 7 exceeds the capacity of 6"),
    "a non-clinical post with categories": (set_post(3, "non_clinical", "yes"),
                                            "Posts row 3, categories: a non-clinical position has no clinical "
                                            "categories"),
    "a span that does not fit": (set_post(3, "span", 5),
                                 "Posts row 3, terms: a placement of 5 terms cannot start in term 2 of 5"),
    "a home site without sites": (both(set_setting("home_site_min_terms", 2), set_post(3, "site", None)),
                                  "Posts row 3, site: is required when home_site_min_terms is set"),
    "a group's unknown post": (append_row("Groups", "core-ed", "NOPE"), "Groups row 3, key: unknown position 'NOPE'"),
    "a post twice in a group": (append_row("Groups", "core-ed", "ED1"),
                                "Groups row 3, key: 'ED1' is already in group 'core-ed' (row 2)"),
    "a member without a group": (append_row("Groups", None, "MED1"),
                                 "Groups row 3, group: expected a group name, got nothing"),
    "a rule's unknown group": (set_cell("Line rules", "B2", "core"), "Line rules row 2, group: unknown group 'core'"),
    "a rule without bounds": (set_cell("Line rules", "C2", None), "Line rules row 2, min: needs min, max or both"),
    "min above max": (both(set_cell("Line rules", "C2", 2), set_cell("Line rules", "D2", 1)),
                      "Line rules row 2, min: 2 exceeds max 1"),
    "a bound of the wrong shape": (set_cell("Line rules", "C2", "one"),
                                   "Line rules row 2, min: expected a whole number >= 0 or nothing, got 'one'"),
    "a link from an unknown post": (set_cell("Links", "B2", "XX"), "Links row 2, if: unknown position 'XX'"),
    "a link to an unknown post": (set_cell("Links", "C2", "MED1, XX"), "Links row 2, then: unknown position 'XX'"),
    "a link to itself": (set_cell("Links", "C2", "ED1"), "Links row 2, then: lists ED1, the post the link starts from"),
    "an unknown preferred group": (set_setting("leave_preferred_groups", "core"),
                                   f"Service row {setting_row('leave_preferred_groups')}, leave_preferred_groups: "
                                   "unknown group 'core'; the Groups sheet names core-ed"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_problem_names_its_sheet_row_and_column(case):
    mutate, expected = CASES[case]
    book = template_book()
    mutate(book)
    with pytest.raises(WorkbookError) as raised:
        read_workbook(saved(book))
    assert [str(p) for p in raised.value.problems] == [expected]


def test_a_blank_key_is_named_and_so_is_the_link_it_leaves_dangling():
    book = template_book()
    set_post(3, "key", None)(book)
    with pytest.raises(WorkbookError) as raised:
        read_workbook(saved(book))
    assert [str(p) for p in raised.value.problems] == ["Posts row 3, key: expected the post's key, got nothing",
                                                       "Links row 2, then: unknown position 'MED1'"]


def test_every_problem_of_a_file_is_reported_at_once_in_sheet_and_row_order():
    in_order = ["unknown sheet", "date", "min_fill over capacity", "terms", "flag", "a group's unknown post",
                "a rule's unknown group", "a link from an unknown post"]
    book = template_book()
    for case in reversed(in_order):  # made in another order than they are reported
        CASES[case][0](book)
    with pytest.raises(WorkbookError) as raised:
        read_workbook(saved(book))
    # Row 2's min_fill is found by parse_instance, row 3's terms and flag (two cells of one row) by the reader.
    assert [str(p) for p in raised.value.problems] == [CASES[case][1] for case in in_order]


def test_a_file_that_is_no_workbook_says_so():
    with pytest.raises(WorkbookError) as raised:
        read_workbook(b"key,name\nED1,Emergency\n")
    assert [str(p) for p in raised.value.problems] == [
        "workbook: is not an xlsx workbook (an xlsx file is a zip archive); save it from Excel as .xlsx"]


# ---------------------------------------------------------------- the command line

def run(add_arguments, run_command, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return run_command(parser.parse_args(argv))


def test_planner_template_writes_the_template_and_keeps_an_existing_file(tmp_path, capsys):
    path = tmp_path / "service.xlsx"
    assert run(workbook_cli.add_template_arguments, workbook_cli.run_template, [str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"template": str(path)}
    assert read_workbook(path.read_bytes()) == read_workbook(template_bytes())
    path.write_bytes(b"a planner's filled workbook")
    assert run(workbook_cli.add_template_arguments, workbook_cli.run_template, [str(path)]) == 2
    assert path.read_bytes() == b"a planner's filled workbook"
    assert "--force" in capsys.readouterr().err
    assert run(workbook_cli.add_template_arguments, workbook_cli.run_template, [str(path), "--force"]) == 0
    assert run(workbook_cli.add_template_arguments, workbook_cli.run_template, [str(tmp_path / "s.xls")]) == 2


def test_planner_import_json_out_converts_a_workbook_or_a_csv_with_its_options(tmp_path, capsys):
    doc = without_pins_and_affinity(local_rules_doc())
    workbook, out = tmp_path / "service.xlsx", tmp_path / "instance.json"
    workbook.write_bytes(filled_workbook(doc))
    assert run(workbook_cli.add_import_arguments, workbook_cli.run_import,
               [str(workbook), "--json-out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"instance": str(out), "positions": len(doc["positions"])}
    assert parse_instance(json.loads(out.read_text())) == parse_instance(doc)

    doc = without_pins_and_affinity(small_doc())
    posts = tmp_path / "posts.csv"
    posts.write_text(posts_csv(doc))
    options = [f"--{name.replace('_', '-')}={value}" for name, value in csv_settings(doc).items() if value is not None]
    assert run(workbook_cli.add_import_arguments, workbook_cli.run_import,
               [str(posts), "--json-out", str(out), *options]) == 0
    assert parse_instance(json.loads(out.read_text())) == parse_instance(doc)


GROUP_CASE = "a group's unknown post"


def test_planner_import_prints_every_problem_and_writes_nothing(tmp_path, capsys):
    book = template_book()
    for case in ("whole number", GROUP_CASE):
        CASES[case][0](book)
    workbook, out = tmp_path / "service.xlsx", tmp_path / "instance.json"
    workbook.write_bytes(saved(book))
    assert run(workbook_cli.add_import_arguments, workbook_cli.run_import,
               [str(workbook), "--json-out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{workbook}: {CASES['whole number'][1]}", f"{workbook}: {CASES[GROUP_CASE][1]}",
                   f"planner: import: 2 problems in {workbook}; nothing was imported"]
    assert not out.exists()
    assert run(workbook_cli.add_import_arguments, workbook_cli.run_import,
               [str(workbook), "--json-out", str(out), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["errors"][0] == {
        "sheet": "Posts", "row": 2, "column": "capacity", "message": "expected a whole number >= 0, got 'two'"}
    # A workbook has its settings in its Service sheet: options for them are refused.
    assert run(workbook_cli.add_import_arguments, workbook_cli.run_import,
               [str(tmp_path / "service.xlsx"), "--term-weeks=13,13,13,13"]) == 2
    assert "--term-weeks" in capsys.readouterr().err


def test_planner_import_names_a_csv_setting_by_its_option(tmp_path, capsys):
    doc = without_pins_and_affinity(small_doc())
    posts = tmp_path / "posts.csv"
    posts.write_text(posts_csv(doc))
    assert run(workbook_cli.add_import_arguments, workbook_cli.run_import,
               [str(posts), "--name=Acacia", "--cohort=PGY1", "--start-date=2027-01-04"]) == 2
    assert f"{posts}: option --term-weeks: is required, as '10,10,10,10,12'" in capsys.readouterr().err


def test_planner_import_into_the_database_prints_the_allocation_run(conn, pg_url, tmp_path, capsys):
    workbook = tmp_path / "service.xlsx"
    workbook.write_bytes(template_bytes())
    assert run(workbook_cli.add_import_arguments, workbook_cli.run_import,
               [str(workbook), "--url", pg_url, "--json"]) == 0
    allocation_run = json.loads(capsys.readouterr().out)["allocation_run"]
    assert {p["key"] for p in export(conn, allocation_run)["positions"]} == {"ED1", "MED1"}


# ---------------------------------------------------------------- planner.import_xlsx

def as_stored(inst):
    """What the tables keep of an instance: posts by key, capacity 0 where a term is not offered."""
    positions = tuple(sorted(
        (dataclasses.replace(p, capacity=tuple(c if p.offered(t + 1) else 0 for t, c in enumerate(p.capacity)))
         for p in inst.positions), key=lambda p: p.key))
    return dataclasses.replace(inst, positions=positions)


def test_import_xlsx_writes_the_service_of_the_workbook(conn):
    doc = without_pins_and_affinity(local_rules_doc())
    doc["org"]["name"] = f"Workbook Health {uuid.uuid4().hex[:6]}"
    allocation_run = conn.execute("select planner.import_xlsx(%s)", [filled_workbook(doc)]).fetchone()[0]
    assert as_stored(parse_instance(export(conn, allocation_run))) == as_stored(parse_instance(doc))


def test_import_xlsx_into_a_given_org(conn):
    org = conn.execute("insert into orgs (name) values (%s) returning id",
                       [f"Given {uuid.uuid4().hex[:6]}"]).fetchone()[0]
    allocation_run = conn.execute("select planner.import_xlsx(%s, %s)", [template_bytes(), org]).fetchone()[0]
    assert conn.execute("select org_id from allocation_runs where id = %s", [allocation_run]).fetchone()[0] == org


def refused(conn, workbook: bytes) -> psycopg.errors.InvalidParameterValue:
    """planner.import_xlsx's error for ``workbook``, asserting it wrote nothing."""
    before = table_counts(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as raised:
        conn.execute("select planner.import_xlsx(%s)", [workbook])
    assert table_counts(conn) == before, "a refused workbook wrote rows"
    return raised.value


def test_import_xlsx_names_every_problem_and_writes_nothing(conn):
    book = template_book()
    for case in ("per-term whole number", "a rule's unknown group"):
        CASES[case][0](book)
    error = refused(conn, saved(book))
    expected = [CASES["per-term whole number"][1], CASES["a rule's unknown group"][1]]
    assert error.diag.message_primary.splitlines() == expected
    assert [f"{p['sheet']} row {p['row']}, {p['column']}: {p['message']}"
            for p in json.loads(error.diag.message_detail)] == expected


def test_import_xlsx_refuses_what_only_parse_instance_finds_and_writes_nothing(conn):
    book = template_book()
    CASES["min_fill over capacity"][0](book)
    assert refused(conn, saved(book)).diag.message_primary == CASES["min_fill over capacity"][1]


def test_import_xlsx_refuses_a_file_that_is_no_workbook_and_a_null(conn):
    assert refused(conn, b"PK not really").diag.message_primary.startswith("workbook: is not an xlsx workbook")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="workbook: is required"):
        conn.execute("select planner.import_xlsx(null)")
