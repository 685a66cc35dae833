"""The PMCV-style workbook out (issue 11, part 2): receptor_planner.lines_workbook, planner.export_xlsx
and ``planner export``.

The story: a solved year becomes a workbook; read back with openpyxl alone, its Rotations sheet is
the solution document's rotations and its Job lines grid holds the same post week by week (a post
of several terms one block, leave as leave); Posts counts the lines placed, Compliance shows the
checker's words where a hand edit broke a rule, Run the request and the explanation. Then the same
workbook from the database, for members of the run's org only, and from the command line.

The readers below know the workbook only as a planner's spreadsheet shows it: headers and labels,
merged cells and fills, not the builder's code.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import io
import json
import uuid
from collections import Counter

import openpyxl
import psycopg
import pytest
from psycopg.types.json import Jsonb

from builders import (acting_as, default_lines, exported, import_doc, instance, new_run, post, solution_doc, solve,
                      solve_checked)
from receptor_planner.checker import check, check_all
from receptor_planner.instance import InvalidDocument
from receptor_planner.lines_workbook import (GAP_COLOUR, LEAVE_COLOUR, OVER_COLOUR, SHEET_NAMES, SHORT_COLOUR,
                                             build_workbook, workbook_bytes)
from receptor_planner_tools.export_cli import add_export_arguments, run_export, write_solution_workbook
from receptor_planner_tools.generator import generate, planted_rules


# ---------------------------------------------------------------- reading a workbook as a planner's file

def reopen(workbook) -> openpyxl.Workbook:
    """A built workbook as a file would give it back: saved, then loaded by openpyxl alone."""
    out = io.BytesIO()
    workbook.save(out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


def as_iso(value) -> str:
    return value.date().isoformat() if isinstance(value, dt.datetime) else value


def rotations_by_line(ws) -> dict[str, list[dict]]:
    """The Rotations sheet as solution-document rotations, by line name (a leave rotation has no position)."""
    rows = ws.iter_rows(values_only=True)
    headers = next(rows)
    out: dict[str, list[dict]] = {}
    for values in rows:
        row = dict(zip(headers, values))
        rotation = {"kind": row["kind"], "term": row["term"], "start_week": row["start_week"],
                    "end_week": row["end_week"], "start_date": as_iso(row["start_date"]),
                    "end_date": as_iso(row["end_date"])}
        if row["position"] is not None:
            rotation["position"] = row["position"]
        out.setdefault(row["line_name"], []).append(rotation)
    return out


def header_row(ws, label: str) -> int:
    return next(r for r in range(1, 20) if ws.cell(r, 1).value == label)


def week_columns(ws) -> dict[int, int]:
    """Column -> week, from the grid's Week row."""
    row = header_row(ws, "Week")
    return {c: ws.cell(row, c).value for c in range(2, ws.max_column + 1) if isinstance(ws.cell(row, c).value, int)}


def grid_blocks(ws) -> dict[str, list[tuple[str, int, int, str | None]]]:
    """Each line's blocks in the Job lines grid: (label, first week, last week, what is beneath), where the
    label is the post's key or "Leave". A block is a merged range of its row, or one cell for one week."""
    weeks = week_columns(ws)
    merged = {(r.min_row, r.min_col): (r.max_row, r.max_col) for r in ws.merged_cells.ranges}
    covered = {(r, c) for (top, left), (bottom, right) in merged.items() for r in range(top, bottom + 1)
               for c in range(left, right + 1) if (r, c) != (top, left)}
    out: dict[str, list] = {}
    row = header_row(ws, "Monday") + 1
    while isinstance(ws.cell(row, 1).value, str) and ws.cell(row, 1).value != "Legend":
        blocks = out.setdefault(ws.cell(row, 1).value, [])
        for column in sorted(weeks):
            value = ws.cell(row, column).value
            if value is None or (row, column) in covered:
                continue
            end_row, end_column = merged.get((row, column), (row, column))
            assert end_row == row, f"a post block spans rows at {ws.cell(row, column).coordinate}"
            blocks.append((value.split("\n")[0], weeks[column], weeks[end_column], ws.cell(row + 1, column).value))
        row += 2
    return out


def weeks_of_grid(ws) -> dict[str, dict[int, str]]:
    """Line name -> week -> post key or "leave", from the merged cells of Job lines."""
    out = {}
    for line, blocks in grid_blocks(ws).items():
        weeks = out.setdefault(line, {})
        for label, first, last, _ in blocks:
            for week in range(first, last + 1):
                assert week not in weeks, f"{line} week {week} is drawn twice"
                weeks[week] = "leave" if label == "Leave" else label
    return out


def weeks_of_solution(solution: dict) -> dict[str, dict[int, str]]:
    return {line["name"]: {week: r.get("position", "leave") for r in line["rotations"]
                           for week in range(r["start_week"], r["end_week"] + 1)} for line in solution["lines"]}


def legend(ws) -> dict[str, str]:
    """Label -> swatch colour, from the rows under "Legend"."""
    row = header_row_anywhere(ws, "Legend")
    out = {}
    for r in range(row + 1, ws.max_row + 1):
        labels = [c.value for c in ws[r] if isinstance(c.value, str)]
        if not labels:
            break
        out[labels[0]] = ws.cell(r, 2).fill.start_color.rgb[-6:]
    return out


def header_row_anywhere(ws, label: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)


def table(ws, header_row_number: int = 1) -> list[dict]:
    rows = list(ws.iter_rows(min_row=header_row_number, values_only=True))
    return [{h: v for h, v in zip(rows[0], values) if h is not None} for values in rows[1:] if values[0] is not None]


def compliance(ws) -> dict[str, dict]:
    """Line name -> its Compliance row (up to the blank row before the findings across lines)."""
    out = {}
    rows = ws.iter_rows(values_only=True)
    headers = next(rows)
    for values in rows:
        if values[0] is None:
            break
        out[values[0]] = dict(zip(headers, values))
    return out


def across_lines(ws) -> list[dict]:
    return table(ws, header_row_anywhere(ws, "Findings across lines") + 1)


def fill_of(cell) -> str:
    return cell.fill.start_color.rgb[-6:] if cell.fill.fill_type == "solid" else ""


# ---------------------------------------------------------------- solved years

@pytest.fixture(scope="module")
def regional():
    """The real-shaped regional service, every local rule on (a two-term post among them), solved."""
    doc = generate("real-regional", 0)
    return doc, solve_checked(doc, default_lines(doc), planted_rules("real-regional"))


@pytest.fixture(scope="module")
def small():
    """A small rural service of eight lines, with split leave, solved."""
    doc = generate("rural", 0)
    return doc, solve_checked(doc, default_lines(doc), planted_rules("rural"))


def two_term_service(leave_weeks: int = 0) -> dict:
    """Four 13-week terms, one place a post; LONG is one placement over two terms, starting in term 1
    or 3; MED must be staffed in term 4."""
    return instance([post("LONG", span=2, terms=[1, 3], specialty="Community", categories=("A", "B")),
                     post("MED", specialty="Medicine", min_fill=[0, 0, 0, 1]), post("SUR", specialty="Surgery"),
                     post("ED", specialty="Emergency", categories=("C",)), post("PSY", specialty="Psychiatry")],
                    leave={"weeks": leave_weeks, "patterns": [[leave_weeks]]} if leave_weeks else {"weeks": 0})


# ED twice in term 4 (one place), MED not at all there (min_fill 1); line 3 holds ED twice.
OVER_AND_SHORT = [(["LONG", "LONG", "SUR", "PSY"], []), (["MED", "SUR", "ED", "ED"], []),
                  (["ED", "PSY", "MED", "ED"], [])]


# ---------------------------------------------------------------- the round trip

@pytest.mark.parametrize("year", ["regional", "small"])
def test_rotations_and_the_grid_read_back_as_the_solution(year, request):
    doc, solution = request.getfixturevalue(year)
    assert solution["lines"], "a solved year has lines to draw"
    wb = reopen(build_workbook(doc, solution))
    assert wb.sheetnames == list(SHEET_NAMES)
    assert rotations_by_line(wb["Rotations"]) == {line["name"]: line["rotations"] for line in solution["lines"]}
    assert weeks_of_grid(wb["Job lines"]) == weeks_of_solution(solution)


def test_a_post_of_two_terms_is_one_block_and_leave_splits_it():
    doc = two_term_service(leave_weeks=2)
    solution = solution_doc([(["LONG", "LONG", "SUR", "MED"], [(14, 2)]),
                             (["MED", "SUR", "LONG", "LONG"], [(40, 2)]),
                             (["SUR", "MED", "ED", "PSY"], [(1, 2)])])
    assert check(doc, solution) == [], "the hand-made year keeps every rule"
    blocks = grid_blocks(reopen(build_workbook(doc, solution))["Job lines"])
    assert [(key, first, last) for key, first, last, _ in blocks["Line 1"]] == \
        [("LONG", 1, 13), ("Leave", 14, 15), ("LONG", 16, 26), ("SUR", 27, 39), ("MED", 40, 52)]
    assert [(key, first, last) for key, first, last, _ in blocks["Line 2"]] == \
        [("MED", 1, 13), ("SUR", 14, 26), ("LONG", 27, 39), ("Leave", 40, 41), ("LONG", 42, 52)]
    beneath = {key: words for key, _, _, words in blocks["Line 1"]}
    assert beneath["LONG"] == "A, B" and beneath["Leave"] == "2 weeks"


def test_a_post_of_two_terms_without_leave_is_one_block_across_the_terms():
    doc = two_term_service()
    solution = solution_doc([(["LONG", "LONG", "MED", "SUR"], []), (["SUR", "MED", "LONG", "LONG"], [])])
    blocks = grid_blocks(reopen(build_workbook(doc, solution))["Job lines"])
    assert [(key, first, last) for key, first, last, _ in blocks["Line 1"]] == \
        [("LONG", 1, 26), ("MED", 27, 39), ("SUR", 40, 52)]
    assert ("LONG", 27, 52) in [(key, first, last) for key, first, last, _ in blocks["Line 2"]]


def test_a_post_of_one_term_held_twice_stays_two_blocks():
    doc = two_term_service()
    solution = solution_doc([(["MED", "MED", "LONG", "LONG"], [])])
    blocks = grid_blocks(reopen(build_workbook(doc, solution))["Job lines"])
    assert [(key, first, last) for key, first, last, _ in blocks["Line 1"]][:2] == [("MED", 1, 13), ("MED", 14, 26)]


# ---------------------------------------------------------------- how the grid looks

def test_posts_are_coloured_by_specialty_as_the_legend_says_and_leave_is_grey(regional):
    doc, solution = regional
    ws = reopen(build_workbook(doc, solution))["Job lines"]
    colours = legend(ws)
    specialties = {p["specialty"] for p in doc["positions"]}
    assert specialties | {"Leave"} <= set(colours)
    assert len({colours[s] for s in specialties}) == len(specialties), "each specialty has its own colour"
    assert colours["Leave"] == LEAVE_COLOUR
    specialty_of = {p["key"]: p["specialty"] for p in doc["positions"]}
    columns = {week: column for column, week in week_columns(ws).items()}
    row = header_row(ws, "Monday") + 1
    seen = Counter()
    for line, blocks in grid_blocks(ws).items():
        for label, first, _, _ in blocks:  # a merged block shows the fill of its first cell
            expected = colours["Leave"] if label == "Leave" else colours[specialty_of[label]]
            assert fill_of(ws.cell(row, columns[first])) == expected, f"{line} week {first}"
            seen[label == "Leave"] += 1
        row += 2
    assert seen[True] and seen[False], "both posts and leave were looked at"


def test_the_grid_has_its_headers_frozen_and_prints_on_a3_landscape(regional):
    doc, solution = regional
    wb = reopen(build_workbook(doc, solution))
    ws = wb["Job lines"]
    first_line_row = header_row(ws, "Monday") + 1
    assert ws.freeze_panes == f"B{first_line_row}"
    assert ws.cell(first_line_row, 1).value == solution["lines"][0]["name"]
    assert (ws.page_setup.paperSize, ws.page_setup.orientation) == (int(ws.PAPERSIZE_A3), "landscape")
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_cols == "$A:$A"
    assert doc["org"]["name"] in ws.cell(1, 1).value
    term_row = header_row(ws, "Term")
    assert [ws.cell(term_row, c).value for c in sorted(week_columns(ws)) if ws.cell(term_row, c).value] == \
        [f"Term {t} · {w} weeks" for t, w in enumerate(doc["term_weeks"], start=1)]
    mondays = header_row(ws, "Monday")
    start = dt.date.fromisoformat(doc["start_date"])
    assert [ws.cell(mondays, c).value.date() for c in sorted(week_columns(ws))] == \
        [start + dt.timedelta(weeks=w) for w in range(sum(doc["term_weeks"]))]


def test_weeks_no_rotation_covers_are_marked_and_overlaps_do_not_break_the_file():
    doc = two_term_service()
    solution = solution_doc([(["MED", "SUR", "ED", "LONG"], []), (["SUR", "MED", "LONG", "LONG"], [])])
    del solution["lines"][0]["rotations"][1]  # line 1 has nothing in term 2
    overlap = dict(solution["lines"][1]["rotations"][0], end_week=20)  # line 2: term 1's post runs into term 2
    solution["lines"][1]["rotations"].insert(1, overlap)
    wb = reopen(build_workbook(doc, solution))
    ws = wb["Job lines"]
    columns = {week: column for column, week in week_columns(ws).items()}
    row = header_row(ws, "Monday") + 1
    assert all(fill_of(ws.cell(row, columns[w])) == GAP_COLOUR for w in range(14, 27))
    assert "TILING" in {v.rule for v in check_all(doc, solution)}
    assert compliance(wb["Compliance"])["Line 2"]["TILING"] != "ok"


# ---------------------------------------------------------------- what the other sheets say

def test_posts_counts_the_lines_placed_and_marks_short_and_full_posts():
    doc = two_term_service()
    solution = solution_doc(OVER_AND_SHORT)
    ws = reopen(build_workbook(doc, solution))["Posts"]
    rows = {row["key"]: row for row in table(ws, 2)}
    held = Counter((r["position"], r["term"]) for line in solution["lines"] for r in line["rotations"])
    for key in ("LONG", "MED", "SUR", "ED", "PSY"):
        assert [rows[key][f"placed_t{t}"] for t in range(1, 5)] == [held[(key, t)] for t in range(1, 5)]
    placed = {c.value: c.column for c in ws[2]}
    row_of = {ws.cell(r, 1).value: r for r in range(3, ws.max_row + 1)}
    assert fill_of(ws.cell(row_of["MED"], placed["placed_t4"])) == SHORT_COLOUR
    assert fill_of(ws.cell(row_of["ED"], placed["placed_t4"])) == OVER_COLOUR
    assert fill_of(ws.cell(row_of["SUR"], placed["placed_t2"])) not in (SHORT_COLOUR, OVER_COLOUR)
    assert rows["MED"]["unfilled"] == 1 and rows["SUR"]["unfilled"] == 0


def test_compliance_shows_the_checker_words_where_a_hand_edit_broke_a_rule(regional):
    doc, solved = regional
    solution = copy.deepcopy(solved)
    # Line 1 takes line 2's term-1 post as well as its own in term 2: an over-full post in term 2
    # at least, and whatever else the checker finds.
    line1 = solution["lines"][0]["rotations"]
    donor = next(r["position"] for r in solution["lines"][1]["rotations"] if r["term"] == 1)
    for r in line1:
        if r["term"] == 2 and r["kind"] == "clinical":
            r["position"] = donor
    found = check_all(doc, solution)
    assert found, "the edit breaks a rule"
    wb = reopen(build_workbook(doc, solution))
    rows = compliance(wb["Compliance"])
    assert set(rows) == {line["name"] for line in solution["lines"]}
    assert rows["Line 1"]["compliant"] == "no"
    for v in found:
        if v.line == 1:
            assert v.message in rows["Line 1"][v.rule].split("\n")
    broken = {v.rule for v in found if v.line == 1}
    for rule, words in rows["Line 1"].items():
        if rule not in ("line", "compliant", "violations") and rule not in broken | {"CAPACITY"}:
            assert words == "ok", rule
    untouched = [name for name, row in rows.items() if name != "Line 1" and row["compliant"] == "yes"]
    assert untouched, "lines the edit did not touch stay compliant"
    rules_of_the_year = {"TILING", "LINE_RULE", "LINK", "HOME_SITE", "SPAN", "DISTINCT_SPECIALTIES", "CATEGORIES"}
    assert rules_of_the_year <= set(rows["Line 1"]), "every rule the request and the service name has a column"
    assert "MAX_1_RURAL" not in rows["Line 1"], "a rule the request does not name has none"


def test_an_over_full_post_is_every_holders_finding_and_a_short_post_is_nobodys():
    doc = two_term_service()
    solution = solution_doc(OVER_AND_SHORT)
    found = check_all(doc, solution)
    over = next(v for v in found if v.rule == "CAPACITY")
    short = next(v for v in found if v.rule == "MIN_FILL")
    wb = reopen(build_workbook(doc, solution))
    rows = compliance(wb["Compliance"])
    assert over.message in rows["Line 2"]["CAPACITY"] and over.message in rows["Line 3"]["CAPACITY"]
    assert rows["Line 1"]["CAPACITY"] == "ok"
    assert "MIN_FILL" not in rows["Line 1"]
    assert {"rule": "MIN_FILL", "term": short.term, "position": short.position, "message": short.message} \
        in across_lines(wb["Compliance"])


def test_run_shows_the_request_the_metrics_and_the_explanation():
    doc = two_term_service()
    solution = solve_checked(doc, 9, allow_partial=False, seconds=5)
    assert solution["status"] == "INFEASIBLE" and solution["explanation"]
    wb = reopen(build_workbook(doc, solution))
    run = {(row["section"], row["field"]): row["value"] for row in table(wb["Run"])}
    assert run[("run", "status")] == "INFEASIBLE"
    assert run[("request", "n_job_lines")] == 9
    assert run[("metrics", "lines_requested")] == solution["metrics"]["lines_requested"]
    assert run[("explanation", "summary")] == solution["explanation"]["summary"]
    reasons = [value for (section, field), value in run.items() if field.startswith("reason ")]
    assert len(reasons) == len(solution["explanation"]["reasons"]) > 0
    for shown, reason in zip(reasons, solution["explanation"]["reasons"]):
        assert shown.startswith(f"{reason['rule']}: {reason['message']}")
    assert "No job lines" in wb["Job lines"].cell(header_row(wb["Job lines"], "Monday") + 1, 1).value


def test_text_that_looks_like_a_formula_stays_text():
    doc = two_term_service()
    doc["org"]["name"] = "=HYPERLINK(\"http://example.org\",\"Acacia\")"
    doc["positions"][1]["name"] = "=1+1"
    solution = solution_doc([(["MED", "SUR", "LONG", "LONG"], [])])
    wb = reopen(build_workbook(doc, solution))
    posts = wb["Posts"]
    name = next(posts.cell(r, 2) for r in range(3, posts.max_row + 1) if posts.cell(r, 1).value == "MED")
    assert (name.value, name.data_type) == ("=1+1", "s")
    service = next(c for row in wb["Run"].iter_rows() for c in row if c.value == doc["org"]["name"])
    assert service.data_type == "s"


def test_documents_that_cannot_be_drawn_are_refused_with_their_field():
    doc = two_term_service()
    solution = solution_doc([(["MED", "SUR", "LONG", "LONG"], [])])
    del solution["lines"][0]["rotations"][1]["start_week"]
    with pytest.raises(InvalidDocument, match=r"^solution\.lines\[0\]\.rotations\[1\]\.start_week: must be an integer"):
        build_workbook(doc, solution)
    leave_with_post = solution_doc([(["MED", "SUR", "LONG", "LONG"], [])])
    leave_with_post["lines"][0]["rotations"][0].update(kind="leave")
    with pytest.raises(InvalidDocument, match=r"^solution\.lines\[0\]\.rotations\[0\]\.position: a leave rotation"):
        build_workbook(doc, leave_with_post)
    with pytest.raises(InvalidDocument, match=r"^term_weeks"):
        build_workbook(dict(doc, term_weeks=[]), solution_doc([]))


def test_the_documents_may_come_as_json_text_as_the_database_hands_them_over(small):
    doc, solution = small
    data = workbook_bytes(json.dumps(doc), json.dumps(solution))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert rotations_by_line(wb["Rotations"]) == {line["name"]: line["rotations"] for line in solution["lines"]}
    with pytest.raises(InvalidDocument, match=r"^solution: is not JSON"):
        workbook_bytes(json.dumps(doc), "{")


# ---------------------------------------------------------------- offline: planner solve -o FILE.xlsx

def test_a_solution_workbook_is_written_whole_or_not_at_all(small, tmp_path):
    doc, solution = small
    path = tmp_path / "year.xlsx"
    assert write_solution_workbook(doc, solution, path) == \
        {"path": str(path), "lines": len(solution["lines"]), "violations": 0}
    assert weeks_of_grid(openpyxl.load_workbook(path)["Job lines"]) == weeks_of_solution(solution)
    broken = copy.deepcopy(solution)
    broken["lines"][0]["rotations"][0]["kind"] = "holiday"
    with pytest.raises(InvalidDocument):
        write_solution_workbook(doc, broken, tmp_path / "broken.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["year.xlsx"], "no partial or temporary file is left"


# ---------------------------------------------------------------- through the database

def test_export_xlsx_is_the_workbook_of_the_current_lines(conn, regional):
    doc, _ = regional
    allocation_run = import_doc(conn, doc)
    outcome = solve(conn, new_run(conn, allocation_run, default_lines(doc), planted_rules("real-regional")))
    assert outcome["status"] == "COMPLETED"
    data = conn.execute("select planner.export_xlsx(%s)", [allocation_run]).fetchone()[0]
    wb = openpyxl.load_workbook(io.BytesIO(data))
    _, solution = exported(conn, allocation_run)
    assert rotations_by_line(wb["Rotations"]) == {line["name"]: line["rotations"] for line in solution["lines"]}
    assert weeks_of_grid(wb["Job lines"]) == weeks_of_solution(solution)
    assert {row["compliant"] for row in compliance(wb["Compliance"]).values()} == {"yes"}


def test_members_export_and_anyone_else_is_told_there_is_no_such_run(conn, world):
    allocation_run = world["acacia_run"]
    assert solve(conn, new_run(conn, allocation_run, 2, ("UNRESTRICTED",)))["status"] == "COMPLETED"
    for member in ("viewer", "planner"):
        with acting_as(conn, world[member]):
            data = conn.execute("select planner.export_xlsx(%s)", [allocation_run]).fetchone()[0]
        assert len(rotations_by_line(openpyxl.load_workbook(io.BytesIO(data))["Rotations"])) == 2
    answers = []
    for who, target in (("rival", allocation_run), ("stranger", allocation_run), ("rival", uuid.uuid4())):
        with pytest.raises(psycopg.errors.NoDataFound) as err:
            with acting_as(conn, world[who]):
                conn.execute("select planner.export_xlsx(%s)", [target])
        answers.append(err.value.diag.message_primary.replace(str(target), "<id>"))
    assert answers == ["allocation_run: no allocation run with id <id>"] * 3
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with acting_as(conn, world["viewer"]):
            conn.execute("select planner._lines_workbook_bytes('{}', '{}')")


def test_the_workbook_builder_refuses_a_document_it_cannot_draw_with_its_field(conn):
    doc = two_term_service()
    solution = solution_doc([(["MED", "SUR", "LONG", "LONG"], [])])
    data = conn.execute("select planner._lines_workbook(%s, %s)", [Jsonb(doc), Jsonb(solution)]).fetchone()[0]
    assert rotations_by_line(openpyxl.load_workbook(io.BytesIO(data))["Rotations"])["Line 1"] == \
        solution["lines"][0]["rotations"]
    solution["lines"][0]["rotations"][0]["term"] = "one"
    with pytest.raises(psycopg.errors.InvalidParameterValue,
                       match=r"^solution\.lines\[0\]\.rotations\[0\]\.term: must be an integer"):
        conn.execute("select planner._lines_workbook(%s, %s)", [Jsonb(doc), Jsonb(solution)])


def test_planner_export_writes_the_workbook_of_a_run(conn, pg_url, world, tmp_path, capsys):
    allocation_run = world["banksia_run"]
    assert solve(conn, new_run(conn, allocation_run, 2, ("UNRESTRICTED",)))["status"] == "COMPLETED"
    parser = argparse.ArgumentParser()
    add_export_arguments(parser)
    path = tmp_path / "banksia.xlsx"
    assert run_export(parser.parse_args([str(allocation_run), "--xlsx", str(path), "--url", pg_url])) == 0
    assert capsys.readouterr().out.startswith(f"wrote {path}: 2 lines, 0 checker findings")
    _, solution = exported(conn, allocation_run)
    assert weeks_of_grid(openpyxl.load_workbook(path)["Job lines"]) == weeks_of_solution(solution)
    missing = str(uuid.uuid4())
    assert run_export(parser.parse_args([missing, "--xlsx", str(tmp_path / "none.xlsx"), "--url", pg_url])) == 2
    assert f"no allocation run with id {missing}" in capsys.readouterr().err
    assert not (tmp_path / "none.xlsx").exists()
