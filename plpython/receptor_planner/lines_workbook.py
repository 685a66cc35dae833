"""The PMCV-style workbook of a year's job lines, built with openpyxl from the two documents.

Five sheets, in this order:

* ``Job lines``: the grid planners know. Rows 1-4 are the service, the terms with their lengths,
  the weeks 1..P and their Monday dates; then each line is two rows: its post (key, then name)
  merged across the post's weeks, and the post's categories beneath. A post of several terms is
  one block across them; leave is a grey ``Leave`` block; weeks no rotation covers are red.
  Posts are coloured by specialty, with a legend below the lines.
* ``Rotations``: one row per rotation of the solution document, unchanged: the machine-readable truth.
* ``Posts``: per post and term the capacity, the staffing need (min_fill) and the lines placed;
  a term short of its need is red, one over capacity orange, one the post is not offered in grey.
* ``Compliance``: per line, each rule the request checks: ``ok`` or the checker's words, then the
  findings about no single line (a short post, too many on leave in a week, a misreported metric).
* ``Run``: the service, the request, the status, the metrics and the explanation.

Compliance comes from the independent checker (``checker.check_all``), never from the solver.
Pure Python: ``planner.export_xlsx`` (sql/43_export_xlsx.sql) and the ``planner`` command call it.
A solution's lines may have been edited by hand, so rotations that overlap or leave weeks
uncovered are drawn as far as they can be and left to the checker to report.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet

from . import checker
from .instance import MAX_LINES, MAX_PERIOD_WEEKS, Instance, InvalidDocument, Position, load_json, parse_instance
from .rules import RuleError, resolve_rules

SHEET_NAMES = ("Job lines", "Rotations", "Posts", "Compliance", "Run")
ROTATION_COLUMNS = ("line", "line_name", "kind", "position", "term", "start_week", "end_week",
                    "start_date", "end_date")
LEAVE_LABEL = "Leave"
OK = "ok"

# The Job lines grid: rows 1-4 are headers, column A names the line, week w is column 1 + w.
GRID_HEADER_ROWS = 4
GRID_FIRST_ROW = GRID_HEADER_ROWS + 1
LINE_COLUMN = 1
MAX_ROTATIONS = MAX_LINES * MAX_PERIOD_WEEKS  # every week of every line its own rotation
MAX_CELL_CHARS = 32_767  # what a spreadsheet cell holds

# Light fills that keep black text readable (ColorBrewer Set3, Pastel1 and Pastel2), one per
# specialty in name order; a service with more specialties than these reuses them in turn.
SPECIALTY_COLOURS = (
    "8DD3C7", "FFFFB3", "BEBADA", "FB8072", "80B1D3", "FDB462", "B3DE69", "FCCDE5", "BC80BD", "CCEBC5",
    "FFED6F", "FBB4AE", "B3CDE3", "CCEBC5", "DECBE4", "FED9A6", "E5D8BD", "FDDAEC", "B3E2CD", "FDCDAC",
    "CBD5E8", "F4CAE4", "E6F5C9", "FFF2AE", "F1E2CC",
)
LEAVE_COLOUR = "D9D9D9"
GAP_COLOUR = "FF9999"
UNKNOWN_POST_COLOUR = "FFFFFF"
SHORT_COLOUR = "FFC7CE"  # fewer lines than the staffing need: places unfilled
OVER_COLOUR = "F8CBAD"  # more lines than the capacity
CLOSED_COLOUR = "EDEDED"  # a term the post is not offered in
PASS_COLOUR = "C6EFCE"
FAIL_COLOUR = "FFC7CE"
HEADER_COLOUR = "DDEBF7"

CATEGORY_WORDS = {"A": "undifferentiated illness", "B": "chronic illness", "C": "acute and critical illness",
                  "D": "peri-operative / procedural"}
# Findings about a post in a term or about a week: no line is theirs alone.
CROSS_LINE_RULES = ("MIN_FILL", "LEAVE_MAX_CONCURRENT")

_THIN = Side(style="thin", color="808080")
_TERM_EDGE = Side(style="medium", color="000000")
_BOLD = Font(bold=True)
_POST_EDGE = Border(top=_THIN)  # a line's two rows are framed together
_CATEGORY_EDGE = Border(bottom=_THIN)
_CENTRED = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAPPED = Alignment(vertical="top", wrap_text=True)


# ---------------------------------------------------------------- the solution, read defensively

@dataclass(frozen=True)
class Rotation:
    kind: str  # "clinical" or "leave"
    position: str | None
    term: int
    start_week: int
    end_week: int
    start_date: str
    end_date: str


@dataclass(frozen=True)
class Line:
    name: str
    rotations: tuple[Rotation, ...]


@dataclass(frozen=True)
class Block:
    """One merged stretch of a line's grid row: a rotation, or a span post's rotations in consecutive terms."""
    kind: str
    position: str | None
    first: int  # weeks, inclusive
    last: int
    terms: tuple[int, ...]


@dataclass(frozen=True)
class Solution:
    status: str | None
    request: dict
    lines: tuple[Line, ...]
    metrics: dict
    explanation: Any

    @property
    def constraints(self) -> list:
        constraints = self.request.get("constraints")
        return constraints if isinstance(constraints, list) else ["UNRESTRICTED"]


def read_solution(doc: Any) -> Solution:
    """The solution document's lines, or InvalidDocument naming the first field that cannot be drawn.

    Only the shape is checked here; whether the lines keep the rules is the checker's to say.
    """
    if not isinstance(doc, dict):
        raise InvalidDocument("solution", "must be a JSON object")
    if doc.get("format") != checker.SOLUTION_FORMAT:
        raise InvalidDocument("solution.format", f"must be {checker.SOLUTION_FORMAT!r}, got {doc.get('format')!r:.60}")
    lines = doc.get("lines") or []
    if not isinstance(lines, list):
        raise InvalidDocument("solution.lines", "must be a list")
    if len(lines) > MAX_LINES:
        raise InvalidDocument("solution.lines", f"holds {len(lines)} lines; at most {MAX_LINES}")
    read = tuple(_read_line(item, f"solution.lines[{i}]") for i, item in enumerate(lines))
    total = sum(len(line.rotations) for line in read)
    if total > MAX_ROTATIONS:
        raise InvalidDocument("solution.lines", f"holds {total} rotations; at most {MAX_ROTATIONS}")
    request, metrics = doc.get("request"), doc.get("metrics")
    return Solution(doc.get("status") if isinstance(doc.get("status"), str) else None,
                    request if isinstance(request, dict) else {}, read,
                    metrics if isinstance(metrics, dict) else {}, doc.get("explanation"))


def _read_line(item: Any, path: str) -> Line:
    if not isinstance(item, dict):
        raise InvalidDocument(path, "must be an object with a name and rotations")
    name, rotations = item.get("name"), item.get("rotations")
    if not isinstance(name, str):
        raise InvalidDocument(f"{path}.name", "must be a string")
    if not isinstance(rotations, list):
        raise InvalidDocument(f"{path}.rotations", "must be a list")
    return Line(name, tuple(_read_rotation(rot, f"{path}.rotations[{j}]") for j, rot in enumerate(rotations)))


def _read_rotation(rot: Any, path: str) -> Rotation:
    if not isinstance(rot, dict):
        raise InvalidDocument(path, "must be an object")
    kind = rot.get("kind")
    if kind not in ("clinical", "leave"):
        raise InvalidDocument(f"{path}.kind", f"must be 'clinical' or 'leave', got {kind!r:.60}")
    for name in ("term", "start_week", "end_week"):
        if not isinstance(rot.get(name), int) or isinstance(rot.get(name), bool):
            raise InvalidDocument(f"{path}.{name}", f"must be an integer, got {rot.get(name)!r:.60}")
    for name in ("start_date", "end_date"):
        if not isinstance(rot.get(name), str):
            raise InvalidDocument(f"{path}.{name}", f"must be a date string, got {rot.get(name)!r:.60}")
    position = rot.get("position")
    if kind == "clinical" and not (isinstance(position, str) and position):
        raise InvalidDocument(f"{path}.position", "a clinical rotation names its position key")
    if kind == "leave" and position is not None:
        raise InvalidDocument(f"{path}.position", "a leave rotation names no position")
    return Rotation(kind, position, rot["term"], rot["start_week"], rot["end_week"], rot["start_date"],
                    rot["end_date"])


# ---------------------------------------------------------------- what the sheets share

@dataclass
class _Year:
    """The instance and the solution side by side, with what several sheets read."""
    inst: Instance
    solution: Solution
    violations: list[checker.Violation]

    @property
    def period(self) -> int:
        return self.inst.period_weeks

    def posts(self) -> dict[str, Position]:
        return {p.key: p for p in self.inst.positions}

    def held(self, line: Line) -> set[tuple[str, int]]:
        """(position, term) for every term in which a clinical week of the line names the position."""
        return {(rot.position, self.inst.term_of_week(week)) for rot in line.rotations if rot.kind == "clinical"
                for week in range(max(rot.start_week, 1), min(rot.end_week, self.period) + 1)}

    def placed(self) -> Counter[tuple[str, int]]:
        """(position, term) -> lines holding it."""
        return Counter(pair for line in self.solution.lines for pair in self.held(line))

    def colours(self) -> dict[str, str]:
        """Specialty -> fill colour, in name order."""
        specialties = sorted({p.specialty for p in self.inst.positions})
        return {s: SPECIALTY_COLOURS[i % len(SPECIALTY_COLOURS)] for i, s in enumerate(specialties)}

    def monday(self, week: int) -> dt.date:
        return self.inst.start_date + dt.timedelta(weeks=week - 1)

    def fixed_leave_weeks(self) -> set[int]:
        return {start + k for start, weeks in self.inst.leave.fixed_blocks for k in range(weeks)}


def build_workbook(instance_doc: dict, solution_doc: dict,
                   violations: list[checker.Violation] | None = None) -> Workbook:
    """The workbook of a solution. ``violations`` default to the checker's (check_all) on the two documents.

    An invalid instance, or a solution whose lines cannot be read, is InvalidDocument ("field: reason").
    """
    inst = parse_instance(instance_doc)
    solution = read_solution(solution_doc)
    if violations is None:
        violations = checker.check_all(instance_doc, solution_doc)
    year = _Year(inst, solution, violations)
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"{inst.org_name} {inst.cohort} job lines"
    wb.properties.creator = "Receptor Planner"
    _job_lines_sheet(wb.create_sheet(SHEET_NAMES[0]), year)
    _rotations_sheet(wb.create_sheet(SHEET_NAMES[1]), year)
    _posts_sheet(wb.create_sheet(SHEET_NAMES[2]), year)
    _compliance_sheet(wb.create_sheet(SHEET_NAMES[3]), year)
    _run_sheet(wb.create_sheet(SHEET_NAMES[4]), year)
    return wb


def workbook_bytes(instance: dict | str, solution: dict | str) -> bytes:
    """The .xlsx file of a solution, from the two documents as objects or as JSON text (as PL/Python
    hands jsonb over): what planner.export_xlsx returns."""
    instance_doc = load_json(instance, "instance") if isinstance(instance, str) else instance
    solution_doc = load_json(solution, "solution") if isinstance(solution, str) else solution
    out = io.BytesIO()
    build_workbook(instance_doc, solution_doc).save(out)
    return out.getvalue()


def _put(ws: Worksheet, row: int, column: int, value: Any, *, font: Font | None = None,
         fill: str | None = None, alignment: Alignment | None = None, number_format: str | None = None):
    """Write one cell. Text is always text: a name that starts with '=' is not a formula to run, and
    characters a workbook cannot hold are dropped."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if len(value) > MAX_CELL_CHARS:
            value = value[:MAX_CELL_CHARS - 1] + "…"
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = PatternFill("solid", start_color=fill, end_color=fill)
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _print_on_a3(ws: Worksheet, title_rows: str | None = None, title_columns: str | None = None) -> None:
    """A3 landscape, as wide as one page, with the header rows and columns on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A3
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows
    if title_columns:
        ws.print_title_cols = title_columns


def _header_row(ws: Worksheet, row: int, names: Iterable[str], first_column: int = 1) -> None:
    for column, name in enumerate(names, start=first_column):
        _put(ws, row, column, name, font=_BOLD, fill=HEADER_COLOUR, alignment=_CENTRED)


def _date_or_text(text: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text


# ---------------------------------------------------------------- Job lines

def week_column(week: int) -> int:
    return LINE_COLUMN + week


def line_rows(n: int) -> tuple[int, int]:
    """The post row and the categories row of the n-th line (1-based)."""
    post_row = GRID_FIRST_ROW + 2 * (n - 1)
    return post_row, post_row + 1


def blocks(inst: Instance, line: Line) -> list[Block]:
    """The line's rotations as grid blocks in week order: consecutive clinical rotations of a post of
    several terms join into one block while it lasts its span (a longer run is two placements, as the
    checker counts them); leave splits a block as it splits a placement."""
    spans = {p.key: p.span for p in inst.positions}
    out: list[Block] = []
    for rot in sorted(line.rotations, key=lambda r: (r.start_week, r.end_week)):
        prev = out[-1] if out else None
        if (prev is not None and rot.kind == "clinical" and prev.kind == "clinical"
                and prev.position == rot.position and prev.last + 1 == rot.start_week
                and rot.term == prev.terms[-1] + 1 and len(prev.terms) < spans.get(rot.position, 1)):
            out[-1] = Block("clinical", rot.position, prev.first, rot.end_week, prev.terms + (rot.term,))
        else:
            out.append(Block(rot.kind, rot.position, rot.start_week, rot.end_week, (rot.term,)))
    return out


def _job_lines_sheet(ws: Worksheet, year: _Year) -> None:
    inst, period = year.inst, year.period
    last_column = week_column(period)
    term_starts = {inst.term_start_week(t) for t in range(1, inst.n_terms + 1)}
    end = year.monday(period) + dt.timedelta(days=6)
    title = (f"{inst.org_name} · {inst.cohort} job lines · {inst.start_date.isoformat()} to {end.isoformat()} · "
             f"{', '.join(map(str, year.solution.constraints))} · {len(year.solution.lines)} lines")
    _put(ws, 1, 1, title, font=Font(bold=True, size=14))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_column)
    for row, label in ((2, "Term"), (3, "Week"), (4, "Monday")):
        _put(ws, row, LINE_COLUMN, label, font=_BOLD, fill=HEADER_COLOUR)
    for t, weeks in enumerate(inst.term_weeks, start=1):
        first = inst.term_start_week(t)
        _put(ws, 2, week_column(first), f"Term {t} · {weeks} weeks", font=_BOLD, fill=HEADER_COLOUR,
             alignment=_CENTRED)
        ws.merge_cells(start_row=2, start_column=week_column(first), end_row=2,
                       end_column=week_column(first + weeks - 1))
    for week in range(1, period + 1):
        _put(ws, 3, week_column(week), week, font=_BOLD, fill=HEADER_COLOUR, alignment=_CENTRED)
        _put(ws, 4, week_column(week), year.monday(week), number_format="d mmm", fill=HEADER_COLOUR,
             alignment=Alignment(horizontal="center", text_rotation=90))
        ws.column_dimensions[get_column_letter(week_column(week))].width = 5.5
    ws.column_dimensions[get_column_letter(LINE_COLUMN)].width = 14
    ws.row_dimensions[4].height = 42

    colours, posts, fixed = year.colours(), year.posts(), year.fixed_leave_weeks()
    any_gap = False
    for n, line in enumerate(year.solution.lines, start=1):
        post_row, category_row = line_rows(n)
        _put(ws, post_row, LINE_COLUMN, line.name, font=_BOLD, alignment=Alignment(vertical="center"))
        _merge_in_grid(ws, post_row, LINE_COLUMN, category_row, LINE_COLUMN)
        ws.row_dimensions[post_row].height = 30
        drawn: set[int] = set()
        for block in blocks(inst, line):
            weeks = set(range(max(block.first, 1), min(block.last, period) + 1))
            if not weeks or weeks & drawn:
                continue  # outside the year, or over weeks already drawn: the checker reports it (TILING)
            drawn |= weeks
            _draw_block(ws, n, block, min(weeks), max(weeks), posts, colours, fixed, term_starts)
        for week in sorted(set(range(1, period + 1)) - drawn):
            any_gap = True
            for row in (post_row, category_row):
                _put(ws, row, week_column(week), None, fill=GAP_COLOUR)
    _legend(ws, GRID_FIRST_ROW + 2 * len(year.solution.lines) + 1, colours, any_gap)
    if not year.solution.lines:
        _put(ws, GRID_FIRST_ROW, LINE_COLUMN,
             f"No job lines: the run is {year.solution.status or 'not solved'}; the sheet Run says why.")
    ws.freeze_panes = ws.cell(row=GRID_FIRST_ROW, column=LINE_COLUMN + 1)
    _print_on_a3(ws, title_rows=f"2:{GRID_HEADER_ROWS}", title_columns="A:A")


def _draw_block(ws: Worksheet, n: int, block: Block, first: int, last: int, posts: dict[str, Position],
                colours: dict[str, str], fixed: set[int], term_starts: set[int]) -> None:
    post_row, category_row = line_rows(n)
    if block.kind == "leave":
        weeks = last - first + 1
        label, beneath, colour = LEAVE_LABEL, f"{weeks} week{'s' * (weeks != 1)}", LEAVE_COLOUR
        if set(range(first, last + 1)) <= fixed:
            beneath += ", service closure"
    else:
        post = posts.get(block.position)
        label = f"{block.position}\n{post.name if post else '(not a post of this run)'}"
        beneath = _post_words(post) if post else ""
        colour = colours.get(post.specialty, UNKNOWN_POST_COLOUR) if post else UNKNOWN_POST_COLOUR
    left = _TERM_EDGE if first in term_starts else _THIN
    for row, text, font in ((post_row, label, Font(bold=block.kind == "clinical", italic=block.kind == "leave",
                                                    size=9)),
                            (category_row, beneath, Font(size=8))):
        edge = _POST_EDGE if row == post_row else _CATEGORY_EDGE
        cell = _put(ws, row, week_column(first), text, font=font, fill=colour, alignment=_CENTRED)
        cell.border = edge + Border(left=left)
        for column in range(week_column(first) + 1, week_column(last) + 1):
            ws.cell(row=row, column=column).border = edge  # a merged range's edges are its cells' borders
        _merge_in_grid(ws, row, week_column(first), row, week_column(last))


def _merge_in_grid(ws: Worksheet, first_row: int, first_column: int, last_row: int, last_column: int) -> None:
    """Merge a range of the grid. ws.merge_cells would first compare it with every merge before it,
    which takes minutes on a grid of thousands of blocks, and restyle its cells; the grid's ranges never
    overlap (a line's weeks drawn are tracked), so the range is added as it is, its cells' borders kept."""
    if (last_row, last_column) != (first_row, first_column):
        coord = f"{get_column_letter(first_column)}{first_row}:{get_column_letter(last_column)}{last_row}"
        ws.merged_cells.ranges.add(MergedCellRange(ws, coord))


def _post_words(post: Position) -> str:
    """What the categories row says of a post: its categories (or non-clinical) and its flags."""
    words = [", ".join(post.categories) if post.categories else "non-clinical"]
    words += [flag for flag in ("service", "nights", "rural") if getattr(post, flag)]
    return " · ".join(words)


def _legend(ws: Worksheet, row: int, colours: dict[str, str], any_gap: bool) -> None:
    _put(ws, row, LINE_COLUMN, "Legend", font=_BOLD)
    entries = [*colours.items(), (LEAVE_LABEL, LEAVE_COLOUR)]
    if any_gap:
        entries.append(("No rotation: a week the line does not cover", GAP_COLOUR))
    for i, (label, colour) in enumerate(entries, start=1):
        swatch = week_column(1)
        _put(ws, row + i, swatch, None, fill=colour)
        _put(ws, row + i, swatch + 1, None, fill=colour)
        ws.merge_cells(start_row=row + i, start_column=swatch, end_row=row + i, end_column=swatch + 1)
        _put(ws, row + i, swatch + 2, label)
    note_row = row + len(entries) + 2
    _put(ws, note_row, LINE_COLUMN, "Categories: " + "; ".join(f"{c} {w}" for c, w in CATEGORY_WORDS.items()))


# ---------------------------------------------------------------- Rotations

def _rotations_sheet(ws: Worksheet, year: _Year) -> None:
    _header_row(ws, 1, ROTATION_COLUMNS)
    row = 1
    for n, line in enumerate(year.solution.lines, start=1):
        for rot in line.rotations:
            row += 1
            for column, value in enumerate((n, line.name, rot.kind, rot.position, rot.term, rot.start_week,
                                            rot.end_week), start=1):
                _put(ws, row, column, value)
            _put(ws, row, 8, _date_or_text(rot.start_date), number_format="yyyy-mm-dd")
            _put(ws, row, 9, _date_or_text(rot.end_date), number_format="yyyy-mm-dd")
    for column, width in zip(range(1, 10), (6, 14, 9, 16, 6, 11, 10, 12, 12)):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(ROTATION_COLUMNS))}{max(row, 1)}"
    _print_on_a3(ws, title_rows="1:1")


# ---------------------------------------------------------------- Posts

POST_COLUMNS = ("key", "name", "team", "site", "specialty", "subspecialty", "categories", "span", "flags")


def post_term_columns(term: int) -> tuple[str, str, str]:
    return f"capacity_t{term}", f"min_fill_t{term}", f"placed_t{term}"


def _posts_sheet(ws: Worksheet, year: _Year) -> None:
    inst, placed = year.inst, year.placed()
    n_fixed = len(POST_COLUMNS)
    _put(ws, 1, 1, "Post", font=_BOLD, fill=HEADER_COLOUR, alignment=_CENTRED)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n_fixed)
    headers = list(POST_COLUMNS)
    for t, weeks in enumerate(inst.term_weeks, start=1):
        first = n_fixed + 3 * (t - 1) + 1
        _put(ws, 1, first, f"Term {t} · {weeks} weeks", font=_BOLD, fill=HEADER_COLOUR, alignment=_CENTRED)
        ws.merge_cells(start_row=1, start_column=first, end_row=1, end_column=first + 2)
        headers += post_term_columns(t)
    headers.append("unfilled")
    _header_row(ws, 2, headers)

    row = 2
    totals = defaultdict(int)
    for post in inst.positions:
        row += 1
        flags = ", ".join(f for f in ("service", "nights", "rural", "non_clinical", "excludable") if getattr(post, f))
        for column, value in enumerate((post.key, post.name, post.team, post.site, post.specialty, post.subspecialty,
                                        ", ".join(post.categories), post.span, flags), start=1):
            _put(ws, row, column, value)
        unfilled = 0
        for t in range(1, inst.n_terms + 1):
            capacity, need, count = post.capacity[t - 1], post.min_fill[t - 1], placed[(post.key, t)]
            unfilled += max(0, need - count)
            totals[("capacity", t)] += capacity
            totals[("need", t)] += need
            totals[("placed", t)] += count
            first = n_fixed + 3 * (t - 1) + 1
            shade = None if post.offered(t) else CLOSED_COLOUR
            _put(ws, row, first, capacity, fill=shade)
            _put(ws, row, first + 1, need, fill=shade)
            alert = SHORT_COLOUR if count < need else OVER_COLOUR if count > capacity else shade
            _put(ws, row, first + 2, count, fill=alert, font=_BOLD if alert in (SHORT_COLOUR, OVER_COLOUR) else None)
        totals["unfilled"] += unfilled
        _put(ws, row, len(headers), unfilled, fill=SHORT_COLOUR if unfilled else None)
    row = _posts_not_in_instance(ws, row, year, placed, n_fixed)

    row += 1
    _put(ws, row, 1, "All posts", font=_BOLD)
    for t in range(1, inst.n_terms + 1):
        first = n_fixed + 3 * (t - 1) + 1
        for k, what in enumerate(("capacity", "need", "placed")):
            _put(ws, row, first + k, totals[(what, t)], font=_BOLD)
    _put(ws, row, len(headers), totals["unfilled"], font=_BOLD)
    notes = ((SHORT_COLOUR, "fewer lines placed than the staffing need (min_fill): places unfilled"),
             (OVER_COLOUR, "more lines placed than the capacity"),
             (CLOSED_COLOUR, "a term the post is not offered in"))
    for i, (colour, words) in enumerate(notes, start=2):
        _put(ws, row + i, 1, None, fill=colour)
        _put(ws, row + i, 2, words)
    for column, width in zip(range(1, n_fixed + 1), (14, 34, 18, 18, 20, 16, 10, 6, 14)):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = "C3"
    _print_on_a3(ws, title_rows="1:2", title_columns="A:B")


def _posts_not_in_instance(ws: Worksheet, row: int, year: _Year, placed: Counter, n_fixed: int) -> int:
    """Rows for keys the lines name that the run does not offer (a hand edit): their places only."""
    known = year.posts()
    for key in sorted({key for key, _ in placed if key not in known}):
        row += 1
        _put(ws, row, 1, key)
        _put(ws, row, 2, "(not a post of this run)")
        for t in range(1, year.inst.n_terms + 1):
            _put(ws, row, n_fixed + 3 * (t - 1) + 3, placed[(key, t)], fill=OVER_COLOUR)
    return row


# ---------------------------------------------------------------- Compliance

def _rule_in_effect(code: str, year: _Year) -> bool:
    """Whether the request or the service makes the checker judge ``code`` line by line. A rule this
    does not know of is shown, so a new rule of the checker appears without a change here."""
    inst = year.inst
    try:
        rules = resolve_rules(year.solution.constraints, inst.cohort)
    except RuleError:
        return True  # the checker reports the request under FORMAT; show every rule
    switched = {
        "PIN": bool(inst.pins), "SPAN": any(p.span > 1 for p in inst.positions),
        "LINE_RULE": bool(inst.line_rules), "LINK": bool(inst.links),
        "HOME_SITE": inst.home_site_min_terms is not None, "LEAVE_BLOCKED": bool(inst.leave.blocked_weeks),
        "LEAVE_WITHIN_TERM": inst.leave.within_term,
        "CLINICAL_WEEKS": rules.clinical_weeks_min is not None, "MIN_TERMS": rules.min_terms is not None,
        "CATEGORIES": bool(rules.categories), "SPECIALTY_CAP": rules.specialty_cap is not None,
        "SUBSPECIALTY_CAP": rules.subspecialty_cap is not None, "SERVICE_CAP": rules.service_cap is not None,
        "TEAM_MIN": rules.team_min is not None, "NON_CLINICAL_MAX": rules.non_clinical_max is not None,
        "TERM_COUNT": rules.term_count is not None, "MAX_1_RURAL": rules.max_rural_terms is not None,
        "MAX_1_SERVICE": rules.max_service_terms is not None, "NO_NIGHTS": rules.no_nights,
        "DISTINCT_SPECIALTIES": rules.distinct_specialties,
    }
    return switched.get(code, True)


def findings_by_line(year: _Year) -> tuple[dict[int, list[checker.Violation]], list[checker.Violation]]:
    """The checker's findings: line number -> its own, and those about no single line. An over-full post
    is every holding line's finding (as in public.job_line_compliance)."""
    holders: dict[tuple[str, int], list[int]] = defaultdict(list)
    for n, line in enumerate(year.solution.lines, start=1):
        for pair in year.held(line):
            holders[pair].append(n)
    per_line: dict[int, list[checker.Violation]] = defaultdict(list)
    across: list[checker.Violation] = []
    for v in year.violations:
        if v.line is not None:
            per_line[v.line].append(v)
        elif v.rule == "CAPACITY" and holders.get((v.position, v.term)):
            for n in holders[(v.position, v.term)]:
                per_line[n].append(v)
        else:
            across.append(v)
    return per_line, across


def compliance_columns(year: _Year, per_line: dict[int, list[checker.Violation]]) -> list[str]:
    """The rules judged line by line, in docs/rules.md order, and any other rule a line breaks."""
    found = {v.rule for vs in per_line.values() for v in vs}
    codes = [c for c in checker.RULE_CODES
             if c in found or (c != "FORMAT" and c not in CROSS_LINE_RULES and _rule_in_effect(c, year))]
    return codes + sorted(found - set(codes))


def _compliance_sheet(ws: Worksheet, year: _Year) -> None:
    per_line, across = findings_by_line(year)
    codes = compliance_columns(year, per_line)
    _header_row(ws, 1, ["line", "compliant", "violations", *codes])
    for n, line in enumerate(year.solution.lines, start=1):
        row = n + 1
        mine = per_line.get(n, [])
        _put(ws, row, 1, line.name, font=_BOLD)
        _put(ws, row, 2, "no" if mine else "yes", fill=FAIL_COLOUR if mine else PASS_COLOUR)
        _put(ws, row, 3, len(mine))
        for column, code in enumerate(codes, start=4):
            words = [v.message for v in mine if v.rule == code]
            _put(ws, row, column, "\n".join(words) if words else OK, alignment=_WRAPPED,
                 fill=FAIL_COLOUR if words else PASS_COLOUR)
    row = len(year.solution.lines) + 3
    _put(ws, row, 1, "Findings across lines", font=_BOLD)
    _header_row(ws, row + 1, ("rule", "term", "position", "message"))
    if not across:
        _put(ws, row + 2, 1, "none")
    for i, v in enumerate(across, start=row + 2):
        for column, value in enumerate((v.rule, v.term, v.position, v.message), start=1):
            _put(ws, i, column, value)
    ws.column_dimensions["A"].width = 26
    for column in range(4, 4 + len(codes)):
        ws.column_dimensions[get_column_letter(column)].width = 24
    ws.freeze_panes = "B2"
    _print_on_a3(ws, title_rows="1:1", title_columns="A:A")


# ---------------------------------------------------------------- Run

def _run_sheet(ws: Worksheet, year: _Year) -> None:
    inst, solution = year.inst, year.solution
    rows: list[tuple[str, str, Any]] = [
        ("service", "name", inst.org_name), ("service", "cohort", inst.cohort),
        ("service", "start_date", inst.start_date), ("service", "term_weeks", ", ".join(map(str, inst.term_weeks))),
        ("service", "period_weeks", inst.period_weeks), ("service", "positions", len(inst.positions)),
        ("service", "leave_weeks", inst.leave.weeks),
        ("run", "status", solution.status), ("run", "lines", len(solution.lines)),
        ("run", "checker findings", len(year.violations)),
    ]
    rows += [("request", key, _cell_value(value)) for key, value in solution.request.items()]
    rows += [("metrics", key, _cell_value(value)) for key, value in _flatten(solution.metrics)]
    rows += [("explanation", field, text) for field, text in _explanation_rows(solution.explanation)]
    _header_row(ws, 1, ("section", "field", "value"))
    for row, (section, field, value) in enumerate(rows, start=2):
        _put(ws, row, 1, section)
        _put(ws, row, 2, field)
        _put(ws, row, 3, value, alignment=_WRAPPED,
             number_format="yyyy-mm-dd" if isinstance(value, dt.date) else None)
    for column, width in zip("ABC", (12, 34, 100)):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    _print_on_a3(ws, title_rows="1:1")


def _flatten(value: dict, prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Nested objects as dotted names: {"seconds": {"build": 0.1}} -> ("seconds.build", 0.1)."""
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            yield from _flatten(item, name + ".")
        else:
            yield name, item


def _cell_value(value: Any) -> Any:
    """A scalar as itself; a list or an object as its JSON text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, default=str)


def _explanation_rows(explanation: Any) -> list[tuple[str, str]]:
    if explanation is None:
        return []
    if not isinstance(explanation, dict):
        return [("explanation", _cell_value(explanation))]
    rows = [("summary", explanation.get("summary"))] if explanation.get("summary") is not None else []
    for i, reason in enumerate(explanation.get("reasons") or [], start=1):
        if isinstance(reason, dict):
            text = f"{reason.get('rule')}: {reason.get('message')}"
            if reason.get("posts"):
                text += f" (posts {', '.join(map(str, reason['posts']))})"
            if reason.get("terms"):
                text += f" (terms {', '.join(map(str, reason['terms']))})"
        else:
            text = _cell_value(reason)
        rows.append((f"reason {i}", text))
    rows += [(key, _cell_value(value)) for key, value in explanation.items() if key not in ("summary", "reasons")]
    return rows
