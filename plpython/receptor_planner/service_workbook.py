"""A service workbook in: the blank template, and an xlsx or csv file read into an instance document.

A workbook has these sheets (names matched case-insensitively):

* ``Service``: columns ``setting`` and ``value``, one setting a row (SETTINGS: the service's name,
  cohort, start date, term lengths, the leave settings of domain.md with a ``leave_`` prefix, and
  ``home_site_min_terms``).
* ``Posts``: one row per post, the columns of POST_COLUMNS. ``capacity`` and ``min_fill`` hold one
  number for every term; per-term columns ``capacity_t1``..``capacity_tN`` (``min_fill_t1``..) may
  stand beside or instead of them.
* ``Groups`` (group, key: one row per member), ``Line rules`` (name, group, min, max) and ``Links``
  (name, if, then): the service's own rules, each optional.
* ``Lists``: the template's lists for its drop-downs; never read.

A CSV file is the ``Posts`` sheet alone; its service settings come as a mapping (the command line's
options). ``read_workbook`` and ``read_csv`` return an instance document (receptor-planner/instance@1)
that ``instance.parse_instance`` accepts, or raise WorkbookError with every problem of the file.

Decisions the issue left open:

* Headers are matched case-insensitively, with spaces and hyphens read as underscores (``Min fill`` is
  ``min_fill``). Unknown sheets, settings and headers are errors, so a misspelt ``Line rule`` sheet is
  never silently ignored.
* Blank rows are skipped. A row number is the sheet's own (the header is row 1); in a CSV file, the
  record's number, the header being row 1. An error in the Service sheet names the setting as its
  column; a setting given as an option of a CSV import is in "settings".
* Links are a sheet; ``home_site_min_terms`` is a Service setting. Pins and an affinity profile are not
  part of a workbook (a planner run names its profile; pins are placed by hand later).
* The template's example rows are data: replace or delete them (the blank template imports as a
  two-post example service).
* Values: whole numbers may be numbers or text; a flag is yes/no (also y/n, true/false, 1/0, or an
  Excel TRUE/FALSE), blank is no; categories as ``A,C``; terms as ``1,2,3`` or ``1-3`` (blank: every
  term it fits); ``term_weeks`` as ``10,10,10,10,12``; ``leave_patterns`` as ``5; 2,3; 3,2``;
  ``leave_fixed_blocks`` as week ranges ``50-52`` (several separated by ``;``);
  ``leave_blocked_weeks`` as ``1,2`` or ``1-2``; ``leave_preferred_groups`` as group names separated by
  commas; ``leave_front_load_target`` as ``0.7`` or ``70%``; ``start_date`` as a date cell or ``2027-01-04``.
  A blank setting is not given (its default applies).
* Per post, capacity comes from ``capacity`` or from every ``capacity_tK`` column, not both; per-term
  columns run from t1 to the service's last term. A blank ``min_fill`` (or ``min_fill_tK``) is 0.
* Formulas count by the value Excel saved with them.
* Limits: a file of at most MAX_FILE_BYTES (a workbook unpacked at most MAX_UNPACKED_BYTES); sheets are
  read to row MAX_ROWS and column MAX_COLUMNS; a cell beyond holding data is an error.

Every problem names where it is and what was expected: "Posts row 14, capacity_t3: expected a whole
number >= 0, got 'two'". Problems that only parse_instance can find (a post's min_fill above its
capacity, an unknown group) are found by parsing each row alone within a small valid document, and
mapped back from the document path parse_instance names to the cell the value came from.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .instance import CATEGORIES, COHORTS, FLAGS, INSTANCE_FORMAT, MAX_POSITIONS, MAX_TERMS, InvalidDocument, \
    parse_instance

MAX_FILE_BYTES = 20_000_000  # an xlsx of 2000 posts is about 100 kB
MAX_UNPACKED_BYTES = 200_000_000  # a zip bomb stops here, before openpyxl unpacks it
MAX_ROWS = 10_000
MAX_COLUMNS = 100
MAX_PROBLEMS_SHOWN = 200  # in the message; WorkbookError.problems holds them all

SERVICE, POSTS, GROUPS, LINE_RULES, LINKS, LISTS = "Service", "Posts", "Groups", "Line rules", "Links", "Lists"
SHEETS = (SERVICE, POSTS, GROUPS, LINE_RULES, LINKS, LISTS)
SETTINGS_OPTIONS = "settings"  # where a CSV import's settings come from
POST_COLUMNS = ("key", "name", "team", "site", "specialty", "subspecialty", "categories", "capacity", "min_fill",
                "terms", "span", *FLAGS)
PER_TERM = ("capacity", "min_fill")
RULE_COLUMNS = {GROUPS: ("group", "key"), LINE_RULES: ("name", "group", "min", "max"), LINKS: ("name", "if", "then")}


# ---------------------------------------------------------------- problems

@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: the sheet, the row (None for the whole sheet or a setting not given),
    the column (a header, or a setting's name) and what was expected."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    @property
    def where(self) -> str:
        text = self.sheet + (f" row {self.row}" if self.row else "")
        return f"{text}, {self.column}" if self.column else text

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}


class WorkbookError(InvalidDocument):
    """Every problem of a file; nothing of it may be written. The message lists them one a line."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        shown = [str(p) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        if len(self.problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"... and {len(self.problems) - MAX_PROBLEMS_SHOWN} more problems")
        ValueError.__init__(self, "\n".join(shown))
        self.field = self.problems[0].where
        self.reason = self.problems[0].message

    def as_list(self) -> list[dict]:
        return [p.as_dict() for p in self.problems]


class _Unexpected(ValueError):
    """A cell value of the wrong shape: ``expected`` says what it should hold."""

    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


# ---------------------------------------------------------------- cell values

def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value) -> str:
    if _blank(value):
        return "nothing"
    if isinstance(value, str):
        value = value.strip()
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _as_text(value) -> str | None:
    """A cell as text: numbers without a spurious ``.0``, dates as ISO dates."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise _Unexpected("text")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return _shown(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _whole(value, least: int = 0) -> int:
    expected = f"a whole number >= {least}"
    if isinstance(value, bool):
        raise _Unexpected(expected)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value):
        value = int(value)
    if not isinstance(value, int) or value < least:
        raise _Unexpected(expected)
    return value


def _yes_no(value) -> bool:
    if isinstance(value, bool):
        return value
    word = _as_text(value)
    if word is not None and word.lower() in ("yes", "y", "true", "1"):
        return True
    if word is not None and word.lower() in ("no", "n", "false", "0"):
        return False
    raise _Unexpected("yes or no")


def _numbers(value, expected: str, ranges: bool) -> list[int]:
    """``1,2,3`` (and, with ``ranges``, ``1-3``) as a list of whole numbers, in the order written."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [_whole(value, 1)]
    text = _as_text(value) or ""
    numbers = []
    for part in re.split(r"[,;\s]+", text.strip()):
        bounds = re.fullmatch(r"(\d{1,4})\s*-\s*(\d{1,4})", part) if ranges else None
        if bounds and int(bounds[1]) <= int(bounds[2]):
            numbers.extend(range(int(bounds[1]), int(bounds[2]) + 1))
        elif re.fullmatch(r"\d{1,4}", part):
            numbers.append(int(part))
        else:
            raise _Unexpected(expected)
    return numbers


def _categories(value) -> list[str]:
    text = (_as_text(value) or "").upper()
    letters = re.sub(r"[,;/\s]+", "", text)
    if not all(letter in CATEGORIES for letter in letters):
        raise _Unexpected("categories among A, B, C and D, as A,C")
    return list(letters)


def _terms(value) -> list[int]:
    return _numbers(value, "term numbers, as 1,2,3 or 1-3", ranges=True)


# -- settings

def _cohort(value) -> str:
    text = (_as_text(value) or "").upper().replace(" ", "")
    if text not in COHORTS:
        raise _Unexpected(f"one of {', '.join(COHORTS)}")
    return text


def _date(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat((_as_text(value) or "").strip()).isoformat()
    except ValueError:
        raise _Unexpected("a date, as 2027-01-04") from None


def _term_weeks(value) -> list[int]:
    return _numbers(value, "term lengths in weeks, as 10,10,10,10,12", ranges=False)


def _patterns(value) -> list[list[int]]:
    expected = "leave patterns, as 5; 2,3; 3,2 (blocks in weeks, patterns separated by ;)"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [[_whole(value, 1)]]
    return [_numbers(part, expected, ranges=False) for part in (_as_text(value) or "").split(";")]


def _blocks(value) -> list[dict]:
    expected = "week ranges, as 50-52 (several separated by ;)"
    blocks = []
    for part in re.split(r"[;,]", _as_text(value) or ""):
        weeks = re.fullmatch(r"\s*(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?", part)
        if not weeks or (weeks[2] and int(weeks[2]) < int(weeks[1])):
            raise _Unexpected(expected)
        first, last = int(weeks[1]), int(weeks[2] or weeks[1])
        blocks.append({"start_week": first, "weeks": last - first + 1})
    return blocks


def _weeks(value) -> list[int]:
    return _numbers(value, "week numbers, as 1,2 or 1-2", ranges=True)


def _names(value) -> list[str]:
    names = [name.strip() for name in (_as_text(value) or "").split(",")]
    if not all(names):
        raise _Unexpected("group names separated by commas")
    return names


def _share(value) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = (_as_text(value) or "").strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(%?)", text)
    if not match:
        raise _Unexpected("a share between 0 and 1, as 0.7 or 70%")
    return float(match[1]) / (100 if match[2] else 1)


def _minimum_terms(value) -> int:
    return _whole(value, 1)


@dataclass(frozen=True)
class Setting:
    """A row of the Service sheet: its name, where it goes in the document, how a value reads, whether
    the document needs it, the template's example value and the prompt beside it."""

    name: str
    path: tuple[str, ...]
    read: Callable[[Any], Any]
    required: bool
    example: Any
    prompt: str


SETTINGS = (
    Setting("name", ("org", "name"), _as_text, True, "Example Health", "The health service's name."),
    Setting("cohort", ("cohort",), _cohort, True, "PGY1", "PGY1, PGY2 or PGY3+."),
    Setting("start_date", ("start_date",), _date, True, dt.date(2027, 1, 4), "The year's first day: a Monday."),
    Setting("term_weeks", ("term_weeks",), _term_weeks, True, "10,10,10,10,12",
            "Term lengths in weeks, separated by commas; they sum to the year."),
    Setting("leave_weeks", ("leave", "weeks"), _whole, False, 5, "Annual leave weeks per line (default 5)."),
    Setting("leave_patterns", ("leave", "patterns"), _patterns, False, "5; 2,3; 3,2",
            "Allowed splits of the planned leave: blocks in weeks, patterns separated by ; "
            "(default: one block)."),
    Setting("leave_min_gap_weeks", ("leave", "min_gap_weeks"), _whole, False, 13,
            "Weeks between two leave blocks (default 0)."),
    Setting("leave_within_term", ("leave", "within_term"), _yes_no, False, "yes",
            "yes: a leave block never crosses a term boundary (default yes)."),
    Setting("leave_max_concurrent", ("leave", "max_concurrent"), _whole, False, 8,
            "Most lines on planned leave in any one week (blank: no limit)."),
    Setting("leave_fixed_blocks", ("leave", "fixed_blocks"), _blocks, False, None,
            "Weeks every line takes off together, as 50-52 (several separated by ;); they count "
            "toward leave_weeks."),
    Setting("leave_blocked_weeks", ("leave", "blocked_weeks"), _weeks, False, None,
            "Weeks no planned leave may fall in, as 1,2 or 1-2."),
    Setting("leave_preferred_groups", ("leave", "preferred_groups"), _names, False, None,
            "Groups (Groups sheet) in whose terms planned leave should fall, separated by commas."),
    Setting("leave_front_load_target", ("leave", "front_load_target"), _share, False, None,
            "Share of leave weeks wanted in the first half, as 0.7 (blank: no goal)."),
    Setting("home_site_min_terms", ("home_site_min_terms",), _minimum_terms, False, None,
            "Every line spends at least this many terms at one site (every post then needs a site)."),
)
SETTING_BY_NAME = {s.name: s for s in SETTINGS}


# ---------------------------------------------------------------- tables

def _canonical(header) -> str:
    return re.sub(r"[\s\-]+", "_", str(header).strip().lower())


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


@dataclass
class _Table:
    """A sheet's header row and its other non-blank rows, each with its row number."""

    sheet: str
    header: tuple
    rows: list[tuple[int, tuple]] = field(default_factory=list)


def _columns(table: _Table, known: Iterable[str], problems: list[Problem],
             extra: Callable[[str], bool] | None = None, letters: bool = True) -> dict[str, int]:
    """The table's columns as name -> index; unknown, repeated and unnamed-but-filled columns are problems.
    A column is named by its letter (``letters``) or, in a CSV file, its number."""
    known = tuple(known)
    columns: dict[str, int] = {}

    def column(index: int) -> str:
        return f"column {_column_letter(index) if letters else index + 1}"

    for index, header in enumerate(table.header):
        where = column(index)
        if _blank(header):
            filled = next((row for row, values in table.rows if index < len(values) and not _blank(values[index])),
                          None)
            if filled:
                problems.append(Problem(table.sheet, 1, where, f"has no header, but row {filled} holds a value "
                                                               f"there; expected one of {', '.join(known)}"))
            continue
        name = _canonical(header)
        if name not in known and not (extra and extra(name)):
            problems.append(Problem(table.sheet, 1, where, f"unknown header {_shown(header)}; expected one of "
                                                           f"{', '.join(known)}"))
        elif name in columns:
            problems.append(Problem(table.sheet, 1, where, f"{name} is also the header of {column(columns[name])}"))
        else:
            columns[name] = index
    return columns


def _cell(values: tuple, index: int | None):
    return values[index] if index is not None and index < len(values) else None


# ---------------------------------------------------------------- reading

def read_workbook(data: bytes) -> dict:
    """The instance document of an xlsx service workbook, or WorkbookError with every problem."""
    tables, problems = _workbook_tables(data)
    service = tables.get(SERVICE)
    if service is None:
        problems.append(Problem(SERVICE, None, None, "the workbook has no Service sheet; expected one with "
                                                     "the columns setting and value"))
    settings = _service_settings(service, problems) if service else {}
    return _Reader(settings, SERVICE, problems, require_settings=service is not None).read(tables)


def read_csv(data: bytes | str, settings: Mapping[str, Any]) -> dict:
    """The instance document of a CSV file of posts (the Posts sheet alone) and the service's settings
    (SETTINGS' names -> values as text or numbers; None or blank is not given). Bytes are UTF-8, or
    else Windows-1252, which Excel's plain "CSV (Comma delimited)" writes."""
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookError([Problem(POSTS, None, None, f"the file is larger than {MAX_FILE_BYTES} bytes")])
    text = data if isinstance(data, str) else _decoded(data)
    problems: list[Problem] = []
    given = {}
    for name, value in settings.items():
        if name not in SETTING_BY_NAME:
            problems.append(Problem(SETTINGS_OPTIONS, None, name, f"unknown setting; expected one of "
                                                                  f"{', '.join(SETTING_BY_NAME)}"))
        elif not _blank(value):
            given[name] = (value, None)
    return _Reader(given, SETTINGS_OPTIONS, problems).read({POSTS: _csv_table(text)}, csv_file=True)


def _decoded(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise WorkbookError([Problem(POSTS, None, None, "is neither UTF-8 nor Windows-1252 text; save it from "
                                                    "Excel as \"CSV UTF-8\"")])


def _csv_table(text: str) -> _Table:
    text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" starts with a byte order mark
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    for candidate in (";", "\t"):  # Excel writes ; where the decimal mark is a comma
        if candidate in first_line and "," not in first_line:
            delimiter = candidate
    records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    table = _Table(POSTS, tuple(records[0]) if records else ())
    # Each record by its number, the header being row 1 (the line number unless a value spans lines).
    table.rows = [(number, tuple(values)) for number, values in enumerate(records[1:], start=2)
                  if not all(_blank(v) for v in values)]
    return table


def _workbook_tables(data: bytes) -> tuple[dict[str, _Table], list[Problem]]:
    """The known sheets of an xlsx file as tables, and the problems of its sheets (unknown ones, data
    beyond the limits); a file that is no workbook is WorkbookError."""
    import openpyxl

    if len(data) > MAX_FILE_BYTES:
        raise WorkbookError([Problem("workbook", None, None, f"the file is {len(data)} bytes; at most "
                                                             f"{MAX_FILE_BYTES}")])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise WorkbookError([Problem("workbook", None, None, "is not an xlsx workbook (an xlsx file is a zip "
                                                             "archive); save it from Excel as .xlsx")]) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise WorkbookError([Problem("workbook", None, None, f"unpacks to {unpacked} bytes; at most "
                                                             f"{MAX_UNPACKED_BYTES}")])
    try:
        with warnings.catch_warnings():  # openpyxl warns of Excel features it drops; nothing read needs them
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise WorkbookError([Problem("workbook", None, None, f"cannot be read as an xlsx workbook: "
                                                             f"{type(e).__name__}: {e}")]) from None
    try:
        return _known_sheets(book)
    finally:
        book.close()


def _known_sheets(book) -> tuple[dict[str, _Table], list[Problem]]:
    problems: list[Problem] = []
    tables: dict[str, _Table] = {}
    known = {_canonical(name): name for name in SHEETS}
    for title in book.sheetnames:
        name = known.get(_canonical(title))
        if name is None:
            problems.append(Problem(title, None, None, f"unknown sheet; expected {', '.join(SHEETS[:-1])}"))
        elif name in tables:
            problems.append(Problem(title, None, None, f"a second {name} sheet"))
        elif name != LISTS:
            tables[name] = _sheet_table(book[title], name, problems)
    return tables, problems


def _sheet_table(sheet, name: str, problems: list[Problem]) -> _Table:
    table = None
    for number, values in enumerate(sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 1), start=1):
        if number > MAX_ROWS:
            if not all(_blank(v) for v in values):
                problems.append(Problem(name, number, None, f"the sheet is read to row {MAX_ROWS}; this row "
                                                            "and any after it are too many"))
            break
        if any(not _blank(v) for v in values[MAX_COLUMNS:]):
            problems.append(Problem(name, number, None, f"holds a value beyond column "
                                                        f"{_column_letter(MAX_COLUMNS - 1)}, the last one read"))
        values = tuple(values[:MAX_COLUMNS])
        if table is None:
            table = _Table(name, values)
        elif not all(_blank(v) for v in values):
            table.rows.append((number, values))
    return table or _Table(name, ())


def _service_settings(table: _Table, problems: list[Problem]) -> dict[str, tuple[Any, int]]:
    """The Service sheet as setting -> (value, row); a blank value is a setting not given."""
    columns = _columns(table, ("setting", "value"), problems)
    for needed in ("setting", "value"):
        if needed not in columns:
            problems.append(Problem(SERVICE, 1, needed, "missing column; the Service sheet has the columns "
                                                        "setting and value"))
    if "setting" not in columns or "value" not in columns:
        return {}
    settings: dict[str, tuple[Any, int]] = {}
    rows_of: dict[str, int] = {}
    for row, values in table.rows:
        raw, value = _cell(values, columns["setting"]), _cell(values, columns["value"])
        if _blank(raw):
            problems.append(Problem(SERVICE, row, "setting", f"expected a setting's name beside the value "
                                                             f"{_shown(value)}"))
            continue
        name = _canonical(raw)
        if name not in SETTING_BY_NAME:
            problems.append(Problem(SERVICE, row, "setting", f"unknown setting {_shown(raw)}; expected one of "
                                                             f"{', '.join(SETTING_BY_NAME)}"))
        elif name in rows_of:
            problems.append(Problem(SERVICE, row, name, f"is also set in row {rows_of[name]}"))
        else:
            rows_of[name] = row
            settings[name] = (value, row)
    return settings


@dataclass
class _PostRow:
    row: int
    per_term: frozenset[str]  # of PER_TERM: the fields this row gives in per-term columns


class _Reader:
    """Builds the instance document from the settings and the tables, remembering the cell each part
    came from, so a problem that parse_instance finds can name its cell."""

    def __init__(self, settings: dict[str, tuple[Any, int | None]], settings_sheet: str,
                 problems: list[Problem], require_settings: bool = True):
        self.settings = settings  # name -> (value, row); a blank value is not given
        self.require_settings = require_settings  # False when the Service sheet itself is missing
        self.settings_sheet = settings_sheet
        self.problems = problems
        self.term_weeks: list[int] | None = None  # once parse_instance accepts them
        self.posts: list[_PostRow] = []
        self.group_rows: dict[str, list[int]] = {}  # group -> the row of each member
        self.rule_rows: dict[str, list[int]] = {LINE_RULES: [], LINKS: []}
        self.doc: dict = {"format": INSTANCE_FORMAT}

    # -- the whole file

    def read(self, tables: dict[str, _Table], csv_file: bool = False) -> dict:
        self._read_settings()
        self.doc["positions"] = self._read_posts(tables.get(POSTS), csv_file)
        keys = [p["key"] for p in self.doc["positions"] if "key" in p]
        if GROUPS in tables:
            self.doc["groups"] = self._read_groups(tables[GROUPS], keys)
        if LINE_RULES in tables:
            self.doc["line_rules"] = self._read_line_rules(tables[LINE_RULES], keys)
        if LINKS in tables:
            self.doc["links"] = self._read_links(tables[LINKS], keys)
        self._check_preferred_groups()
        if not self.problems:  # what only the whole document shows
            self._probe(self.doc, lambda path: path)
        if self.problems:
            order = {name: i for i, name in enumerate((self.settings_sheet, *SHEETS))}
            raise WorkbookError(sorted(self.problems, key=lambda p: (order.get(p.sheet, -1), p.row or 0)))
        return self.doc

    def _problem(self, sheet: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(sheet, row, column, message))

    def _has_problem(self, sheet: str, row: int) -> bool:
        return any(p.sheet == sheet and p.row == row for p in self.problems)

    def _probe(self, doc: dict, real_path: Callable[[str], str | None]) -> None:
        """parse_instance on ``doc``; its problem, if any, at the cell of ``real_path(field)`` (None: a
        field reported elsewhere)."""
        try:
            parse_instance(doc)
        except InvalidDocument as e:
            path = real_path(e.field)
            if path is not None:
                sheet, row, column = self._locate(path)
                self._problem(sheet, row, column, e.reason if sheet != "workbook" else str(e))

    # -- the Service sheet (or a CSV import's settings)

    def _read_settings(self) -> None:
        values = {}
        for setting in SETTINGS:
            if not self._given(setting.name):
                if setting.required and self.require_settings:
                    self._problem(*self._setting_cell(setting.name),
                                  f"is required, as {_shown(_example_text(setting))}")
                continue
            value, row = self.settings[setting.name]
            try:
                values[setting.name] = setting.read(value)
            except _Unexpected as e:
                self._problem(self.settings_sheet, row, setting.name, f"expected {e.expected}, got {_shown(value)}")
        for setting in SETTINGS:
            if setting.name in values:
                _put(self.doc, setting.path, values[setting.name])
        # Each setting alone in a valid document, so that one wrong setting hides no other.
        for name in ("name", "start_date"):
            top = SETTING_BY_NAME[name].path[0]  # org, start_date
            if name in values:
                self._probe(_probe_doc(**{top: self.doc[top]}), _keep_if(top))
        if "term_weeks" in values:
            before = len(self.problems)
            self._probe(_probe_doc(term_weeks=values["term_weeks"]), _keep_if("term_weeks"))
            if len(self.problems) == before:
                self.term_weeks = values["term_weeks"]
        if self.term_weeks is None:
            return  # the leave and the home site are measured in terms and weeks
        if "leave" in self.doc:
            # Preferred groups are checked against the Groups sheet (_check_preferred_groups).
            leave = {k: v for k, v in self.doc["leave"].items() if k != "preferred_groups"}
            self._probe(_probe_doc(term_weeks=self.term_weeks, leave=leave), _keep_if("leave"))
        if "home_site_min_terms" in values:
            self._probe(_probe_doc(term_weeks=self.term_weeks, positions=[_stub("P", site="S")],
                                   home_site_min_terms=values["home_site_min_terms"]),
                        _keep_if("home_site_min_terms"))

    def _check_preferred_groups(self) -> None:
        """Names of leave_preferred_groups that the Groups sheet does not define."""
        preferred = self.doc.get("leave", {}).get("preferred_groups", [])
        groups = self.doc.get("groups", {})
        for name in preferred:
            if name not in groups:
                known = f"the Groups sheet names {', '.join(groups)}" if groups else "there is no Groups sheet"
                self._problem(*self._locate("leave.preferred_groups"), f"unknown group {name!r}; {known}")

    # -- the Posts sheet

    def _read_posts(self, table: _Table | None, csv_file: bool) -> list[dict]:
        if table is None:
            self._problem(POSTS, None, None, "the workbook has no Posts sheet; expected one row per post")
            return []
        columns = _columns(table, POST_COLUMNS, self.problems, extra=self._per_term_header, letters=not csv_file)
        self._check_per_term_columns(columns)
        if "key" not in columns:
            self._problem(POSTS, 1, "key", "missing column; every post needs a key")
            return []
        if not table.rows:
            self._problem(POSTS, None, None, "lists no post; expected one row per post below the headers")
        if len(table.rows) > MAX_POSITIONS:
            self._problem(POSTS, table.rows[MAX_POSITIONS][0], None, f"more than {MAX_POSITIONS} posts")
            return []
        positions, rows_of = [], {}
        home_site = self._given("home_site_min_terms")
        for row, values in table.rows:
            post, per_term = self._post(row, values, columns)
            index = len(positions)
            positions.append(post)
            self.posts.append(_PostRow(row, per_term))
            if self.term_weeks is not None and not self._has_problem(POSTS, row):
                # The row alone in a valid document: every post's own problem, not just the first post's.
                self._probe(_probe_doc(term_weeks=self.term_weeks, positions=[post],
                                       home_site_min_terms=1 if home_site else None),
                            _renumber("positions", index))
            key = post.get("key")
            if key in rows_of:
                self._problem(POSTS, row, "key", f"{key!r} is also the key of row {rows_of[key]}")
            elif key is not None:
                rows_of[key] = row
        return positions

    def _per_term_header(self, name: str) -> bool:
        match = re.fullmatch(r"(capacity|min_fill)_t(\d{1,2})", name)
        return bool(match) and 1 <= int(match[2]) <= MAX_TERMS

    def _check_per_term_columns(self, columns: dict[str, int]) -> None:
        if self.term_weeks is None:
            return
        n = len(self.term_weeks)
        for name in PER_TERM:
            terms = sorted(int(c.rsplit("_t", 1)[1]) for c in columns if c.startswith(f"{name}_t"))
            for term in terms:
                if term > n:
                    self._problem(POSTS, 1, f"{name}_t{term}", f"the service has {n} terms (term_weeks)")
            inside = [t for t in terms if t <= n]
            if inside and inside != list(range(1, n + 1)):
                missing = [f"{name}_t{t}" for t in range(1, n + 1) if t not in terms]
                self._problem(POSTS, 1, missing[0], f"missing column; per-term columns run from {name}_t1 to "
                                                    f"{name}_t{n}, one for each term")

    def _post(self, row: int, values: tuple, columns: dict[str, int]) -> tuple[dict, frozenset[str]]:
        post: dict = {}

        def read(column: str, reader: Callable[[Any], Any]) -> None:
            value = _cell(values, columns.get(column))
            if _blank(value):
                return
            try:
                post[column] = reader(value)
            except _Unexpected as e:
                self._problem(POSTS, row, column, f"expected {e.expected}, got {_shown(value)}")

        key = _as_text(_cell(values, columns["key"]))
        if key is None:
            self._problem(POSTS, row, "key", "expected the post's key, got nothing")
        for column in ("key", "name", "team", "site", "specialty", "subspecialty"):
            read(column, _as_text)
        read("categories", _categories)
        read("terms", _terms)
        read("span", lambda v: _whole(v, 1))
        for flag in FLAGS:
            read(flag, _yes_no)
        per_term = set()
        for name in PER_TERM:
            term_columns = sorted((c for c in columns if c.startswith(f"{name}_t")
                                   and (self.term_weeks is None or int(c.rsplit("_t", 1)[1]) <= len(self.term_weeks))),
                                  key=lambda c: int(c.rsplit("_t", 1)[1]))
            filled = [c for c in term_columns if not _blank(_cell(values, columns[c]))]
            if filled and not _blank(_cell(values, columns.get(name))):
                self._problem(POSTS, row, name, f"expected one number here or one a term in {name}_t1.., not "
                                                f"both (this row fills {filled[0]})")
            elif filled:
                per_term.add(name)
                numbers = []
                for column in term_columns:
                    value = _cell(values, columns[column])
                    try:
                        numbers.append(0 if _blank(value) and name == "min_fill" else _whole(value))
                    except _Unexpected as e:
                        self._problem(POSTS, row, column, f"expected {e.expected}, got {_shown(value)}")
                post[name] = numbers
            else:
                read(name, _whole)
        if isinstance(post.get("min_fill"), int) and "terms" in post:
            post["min_fill"] = self._min_fill_where_offered(post)
        return post, frozenset(per_term)

    def _min_fill_where_offered(self, post: dict):
        """One min_fill for a post offered in some terms: the need in those terms, 0 in the others (the
        document asks 0 where a post is not offered). As it is when the terms or span are wrong: the
        row's probe says so."""
        span = post.get("span", 1)
        if self.term_weeks is None or not isinstance(span, int):
            return post["min_fill"]
        offered = {start + k for start in post["terms"] for k in range(span)}
        return [post["min_fill"] if term in offered else 0 for term in range(1, len(self.term_weeks) + 1)]

    # -- the rule sheets

    def _rule_table(self, table: _Table) -> dict[str, int] | None:
        needed = RULE_COLUMNS[table.sheet]
        columns = _columns(table, needed, self.problems)
        for name in needed:
            if name not in columns and table.rows:
                self._problem(table.sheet, 1, name, f"missing column; the {table.sheet} sheet has the columns "
                                                    f"{', '.join(needed)}")
        return columns if all(name in columns for name in needed) else None

    def _text(self, table: _Table, row: int, values: tuple, columns: dict, column: str,
              what: str | None = None) -> str | None:
        """A text cell; blank is a problem when ``what`` names what it should hold."""
        value = _cell(values, columns[column])
        try:
            text = _as_text(value)
        except _Unexpected as e:
            self._problem(table.sheet, row, column, f"expected {e.expected}, got {_shown(value)}")
            return None
        if text is None and what:
            self._problem(table.sheet, row, column, f"expected {what}, got nothing")
        return text

    def _read_groups(self, table: _Table, keys: list[str]) -> dict[str, list[str]]:
        columns = self._rule_table(table)
        if columns is None:
            return {}
        groups: dict[str, list[str]] = {}
        for row, values in table.rows:
            group = self._text(table, row, values, columns, "group", "a group name")
            key = self._text(table, row, values, columns, "key", "a post's key (Posts sheet)")
            if group is None or key is None:
                continue
            members = groups.setdefault(group, [])
            if key in members:
                first = self.group_rows[group][members.index(key)]
                self._problem(GROUPS, row, "key", f"{key!r} is already in group {group!r} (row {first})")
                continue
            members.append(key)
            self.group_rows.setdefault(group, []).append(row)
        stubs = _stubs(keys)
        for group, members in groups.items():
            self._probe(_probe_doc(positions=stubs, groups={group: members}), _keep_if("groups"))
        return groups

    def _read_line_rules(self, table: _Table, keys: list[str]) -> list[dict]:
        columns = self._rule_table(table)
        if columns is None:
            return []
        rules = []
        for row, values in table.rows:
            rule = {"name": self._text(table, row, values, columns, "name", "the rule's name"),
                    "group": self._text(table, row, values, columns, "group", "a group (Groups sheet)")}
            for bound in ("min", "max"):
                value = _cell(values, columns[bound])
                try:
                    rule[bound] = None if _blank(value) else _whole(value)
                except _Unexpected as e:
                    self._problem(LINE_RULES, row, bound, f"expected {e.expected} or nothing, got {_shown(value)}")
            rules.append(rule)
            self.rule_rows[LINE_RULES].append(row)
        # Each rule alone, beside every group (with its known members: the groups' own problems are theirs).
        stubs = _stubs(keys)
        known = {s["key"] for s in stubs}
        groups = {name: [k for k in members if k in known] or [stubs[0]["key"]]
                  for name, members in self.doc.get("groups", {}).items()}
        for index, rule in enumerate(rules):
            if self.term_weeks is not None and not self._has_problem(LINE_RULES, self.rule_rows[LINE_RULES][index]):
                self._probe(_probe_doc(term_weeks=self.term_weeks, positions=stubs, groups=groups,
                                       line_rules=[rule]), _renumber("line_rules", index))
        return rules

    def _read_links(self, table: _Table, keys: list[str]) -> list[dict]:
        columns = self._rule_table(table)
        if columns is None:
            return []
        links = []
        for row, values in table.rows:
            link = {"name": self._text(table, row, values, columns, "name", "the link's name"),
                    "if": self._text(table, row, values, columns, "if", "a post's key (Posts sheet)")}
            then = self._text(table, row, values, columns, "then", "posts' keys separated by commas")
            link["then"] = [k.strip() for k in then.split(",")] if then else []
            links.append(link)
            self.rule_rows[LINKS].append(row)
        stubs = _stubs(keys)
        for index, link in enumerate(links):
            if not self._has_problem(LINKS, self.rule_rows[LINKS][index]):
                self._probe(_probe_doc(positions=stubs, links=[link]), _renumber("links", index))
        return links

    # -- from a document path back to its cell

    def _locate(self, path: str) -> tuple[str, int | None, str | None]:
        """The (sheet, row, column) the value at a document path came from."""
        if match := re.match(r"positions\[(\d+)\](?:\.(\w+)(?:\[(\d+)\])?)?", path):
            post = self.posts[int(match[1])]
            column, index = match[2] or "key", match[3]
            if column in post.per_term and index is not None:
                column = f"{column}_t{int(index) + 1}"
            return POSTS, post.row, column
        if match := re.match(r"groups\.(.*?)(?:\[(\d+)\])?$", path):
            group = _group_named(match[1], self.group_rows)
            rows = self.group_rows.get(group, [])
            if match[2] is not None and int(match[2]) < len(rows):
                return GROUPS, rows[int(match[2])], "key"
            return GROUPS, rows[0] if rows else None, "group"
        if match := re.match(r"(line_rules|links)\[(\d+)\](?:\.(\w+))?", path):
            sheet = LINE_RULES if match[1] == "line_rules" else LINKS
            return sheet, self.rule_rows[sheet][int(match[2])], match[3] or ("min" if sheet == LINE_RULES else "name")
        top, _, rest = path.partition(".")
        top = top.split("[", 1)[0]
        if top == "leave":
            name = "leave_" + re.split(r"[.\[]", rest, maxsplit=1)[0] if rest else None
            if name not in SETTING_BY_NAME:  # the leave as a whole: name the first leave setting given
                name = next((s.name for s in SETTINGS if s.path[0] == "leave" and self._given(s.name)),
                            "leave_weeks")
            return self._setting_cell(name)
        name = {"org": "name", "period_weeks": "term_weeks"}.get(top, top)
        if name in SETTING_BY_NAME:
            return self._setting_cell(name)
        return "workbook", None, None

    def _given(self, name: str) -> bool:
        return not _blank(self.settings.get(name, (None, None))[0])

    def _setting_cell(self, name: str) -> tuple[str, int | None, str]:
        return self.settings_sheet, self.settings.get(name, (None, None))[1], name


def _example_text(setting: Setting) -> str:
    example = setting.example
    return example.isoformat() if isinstance(example, dt.date) else str(example)


def _put(doc: dict, path: tuple[str, ...], value) -> None:
    for key in path[:-1]:
        doc = doc.setdefault(key, {})
    doc[path[-1]] = value


def _stub(key: str, **extra) -> dict:
    """A post that passes every check: what a probe of another part of the document stands on."""
    return {"key": key, "specialty": "probe", "categories": ["A"], "capacity": 0, **extra}


def _stubs(keys: list[str]) -> list[dict]:
    """Stand-ins for the posts of ``keys`` (the valid, distinct ones), so groups and links can be checked
    whatever the posts' own problems; one stand-in when there are none."""
    usable = [k for k in dict.fromkeys(keys) if isinstance(k, str) and 0 < len(k) <= 64 and k.isprintable()]
    return [_stub(k) for k in usable] or [_stub("(no post)")]


def _probe_doc(term_weeks=(52,), positions=None, **fields) -> dict:
    """A small valid instance document with ``fields`` replaced: parse_instance then finds only their problems."""
    doc = {"format": INSTANCE_FORMAT, "org": {"name": "probe"}, "cohort": "PGY3+", "start_date": "2027-01-04",
           "term_weeks": list(term_weeks), "leave": {"weeks": 0}, "positions": positions or [_stub("P")]}
    doc.update({name: value for name, value in fields.items() if value is not None})
    return doc


def _keep_if(top: str) -> Callable[[str], str | None]:
    """A probe's path as it is, when it lies under ``top``; else None (a field that is not the probe's)."""
    return lambda path: path if re.match(rf"{re.escape(top)}(?:$|[.\[])", path) else None


def _renumber(items: str, index: int) -> Callable[[str], str | None]:
    """A probe of one item (at [0]) names it by its place in the whole document."""
    def real(path: str) -> str | None:
        prefix = f"{items}[0]"
        return f"{items}[{index}]{path[len(prefix):]}" if path.startswith(prefix) else None
    return real


def _group_named(shown: str, groups: Mapping[str, Any]) -> str:
    """The group a path names: instance.py shortens a name of over 40 characters to 37 and '...'."""
    if shown in groups:
        return shown
    if shown.endswith("..."):
        return next((name for name in groups if len(name) > 40 and name.startswith(shown[:-3])), shown)
    return shown


# ---------------------------------------------------------------- the template

TEMPLATE_POSTS = (
    {"key": "ED1", "name": "Emergency Medicine", "team": "Emergency", "site": "Main",
     "specialty": "Emergency Medicine", "subspecialty": None, "categories": "A,C", "capacity": 6,
     "min_fill": 6, "terms": None, "span": 1, **{flag: "no" for flag in FLAGS}},
    {"key": "MED1", "name": "General Medicine", "team": "Medicine", "site": "Main",
     "specialty": "General Medicine", "subspecialty": None, "categories": "A,B", "capacity": 4,
     "min_fill": 2, "terms": "1,2,3", "span": 1, **{flag: "no" for flag in FLAGS}},
)
TEMPLATE_RULES = {
    GROUPS: [("core-ed", "ED1")],
    LINE_RULES: [("core emergency", "core-ed", 1, None)],
    LINKS: [("ED with medicine", "ED1", "MED1")],
}
POST_PROMPTS = {
    "key": "A short key, unique in the service, as ED1.",
    "name": "The post's name (blank: its key).",
    "team": "The team (optional).",
    "site": "The hospital or campus (optional; every post needs one when home_site_min_terms is set).",
    "specialty": "The parent specialty, as Emergency Medicine.",
    "subspecialty": "The subspecialty (optional).",
    "categories": "1 or 2 of A, B, C, D, as A,C; blank for a non-clinical post.",
    "capacity": "Most lines holding the post in a term: one number for every term (or add columns "
                "capacity_t1..capacity_tN).",
    "min_fill": "Fewest lines that must hold it in a term (blank: 0); or add columns min_fill_t1..",
    "terms": "Terms a placement may start in, as 1,2,3 or 1-3 (blank: every term it fits).",
    "span": "Consecutive terms one placement lasts (blank: 1).",
    "service": "yes for a service post (relief, nights).",
    "nights": "yes for a nights post.",
    "rural": "yes for a rural post.",
    "non_clinical": "yes for a non-clinical post (it has no categories).",
    "excludable": "yes if the post may be left short of min_fill.",
}
RULE_PROMPTS = {
    GROUPS: {"group": "The group's name.", "key": "A post's key (Posts sheet): one row per member."},
    LINE_RULES: {"name": "The rule's name, as explanations quote it.", "group": "A group of the Groups sheet.",
                 "min": "Fewest placements from the group in every line (optional).",
                 "max": "Most placements from the group in every line (optional)."},
    LINKS: {"name": "The link's name, as explanations quote it.", "if": "A post's key: a line holding it ...",
            "then": "... also holds one of these posts (keys separated by commas)."},
}
CATEGORY_CHOICES = (*CATEGORIES, *(f"{a},{b}" for i, a in enumerate(CATEGORIES) for b in CATEGORIES[i + 1:]))


def template_bytes() -> bytes:
    """The blank service workbook as xlsx bytes."""
    target = io.BytesIO()
    write_template(target)
    return target.getvalue()


def write_template(target) -> None:
    """Write the blank service workbook (a path or a binary file): the Service, Posts, Groups, Line rules
    and Links sheets with example rows, drop-downs and prompts; the hidden Lists sheet they read."""
    from openpyxl import Workbook

    book = Workbook()
    _service_sheet(book.active)
    _posts_sheet(book.create_sheet(POSTS))
    for sheet in (GROUPS, LINE_RULES, LINKS):
        _rule_sheet(book.create_sheet(sheet))
    lists = book.create_sheet(LISTS)
    lists.append(["categories"])
    for choice in CATEGORY_CHOICES:
        lists.append([choice])
    lists.sheet_state = "hidden"
    book.save(target)


def _header(sheet, names: Iterable[str], width: int = 14) -> None:
    from openpyxl.styles import Font, PatternFill

    sheet.append(list(names))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.column_dimensions[cell.column_letter].width = max(width, len(str(cell.value)) + 2)
    sheet.freeze_panes = "A2"


def _validation(kind: str | None, prompt: str, cells: str, sheet, **rule) -> None:
    """A drop-down or a check on ``cells``, with ``prompt`` shown when one is selected."""
    from openpyxl.worksheet.datavalidation import DataValidation

    check = DataValidation(type=kind, allow_blank=True, showInputMessage=True, prompt=prompt[:255],
                           showErrorMessage=kind is not None, error=prompt[:255], **rule)
    check.add(cells)
    sheet.add_data_validation(check)


def _whole_rule(least: int = 0, most: int | None = None) -> dict:
    if most is None:
        return {"operator": "greaterThanOrEqual", "formula1": str(least)}
    return {"operator": "between", "formula1": str(least), "formula2": str(most)}


def _only_characters(cell: str, characters: str) -> dict:
    """A custom rule: the cell holds only ``characters`` (nested SUBSTITUTE: no array, so Excel and
    LibreOffice both take it)."""
    formula = cell
    for character in characters:
        formula = f'SUBSTITUTE({formula},"{character}","")'
    return {"formula1": f"LEN({formula})=0"}


NUMBER_LIST_CHARACTERS = "0123456789, -"
YES_NO = {"formula1": '"yes,no"'}


def _service_sheet(sheet) -> None:
    sheet.title = SERVICE
    _header(sheet, ("setting", "value"), width=24)
    rules = {
        "cohort": ("list", {"formula1": f'"{",".join(COHORTS)}"'}),
        "start_date": ("date", {"operator": "greaterThan", "formula1": "36526"}),  # after 2000-01-01
        "leave_weeks": ("whole", _whole_rule()),
        "leave_min_gap_weeks": ("whole", _whole_rule()),
        "leave_within_term": ("list", YES_NO),
        "leave_max_concurrent": ("whole", _whole_rule()),
        "leave_front_load_target": ("decimal", {"operator": "between", "formula1": "0", "formula2": "1"}),
        "home_site_min_terms": ("whole", _whole_rule(1, MAX_TERMS)),
    }
    lists = {"term_weeks": NUMBER_LIST_CHARACTERS, "leave_patterns": NUMBER_LIST_CHARACTERS + ";",
             "leave_fixed_blocks": NUMBER_LIST_CHARACTERS + ";", "leave_blocked_weeks": NUMBER_LIST_CHARACTERS}
    for row, setting in enumerate(SETTINGS, start=2):
        sheet.append([setting.name, setting.example])
        value = sheet.cell(row, 2)
        if isinstance(setting.example, dt.date):
            value.number_format = "yyyy-mm-dd"
        else:
            value.number_format = "@"  # typed as text: Excel keeps 10,10,10,10,12 and 5; 2,3 as written
        kind, rule = rules.get(setting.name, (None, {}))
        if setting.name in lists:
            kind, rule = "custom", _only_characters(f"B{row}", lists[setting.name])
        _validation(kind, setting.prompt, f"B{row}", sheet, **rule)
    sheet.column_dimensions["B"].width = 24


def _posts_sheet(sheet) -> None:
    from openpyxl.utils import get_column_letter

    _header(sheet, POST_COLUMNS)
    for post in TEMPLATE_POSTS:
        sheet.append([post[name] for name in POST_COLUMNS])
    last = MAX_POSITIONS + 1
    for index, name in enumerate(POST_COLUMNS):
        letter = get_column_letter(index + 1)
        cells = f"{letter}2:{letter}{last}"
        kind, rule = None, {}
        if name == "categories":
            kind, rule = "list", {"formula1": f"{LISTS}!$A$2:$A${len(CATEGORY_CHOICES) + 1}"}
        elif name in PER_TERM:
            kind, rule = "whole", _whole_rule()
        elif name == "span":
            kind, rule = "whole", _whole_rule(1, MAX_TERMS)
        elif name == "terms":
            kind, rule = "custom", _only_characters(f"{letter}2", NUMBER_LIST_CHARACTERS)
        elif name in FLAGS:
            kind, rule = "list", YES_NO
        _validation(kind, POST_PROMPTS[name], cells, sheet, **rule)
        if name in ("key", "categories", "terms"):
            for row in range(2, 2 + len(TEMPLATE_POSTS)):
                sheet.cell(row, index + 1).number_format = "@"
    sheet.column_dimensions["B"].width = 28


def _rule_sheet(sheet) -> None:
    from openpyxl.utils import get_column_letter

    columns = RULE_COLUMNS[sheet.title]
    _header(sheet, columns, width=18)
    for row in TEMPLATE_RULES[sheet.title]:
        sheet.append(list(row))
    post_keys = f"{POSTS}!$A$2:$A${MAX_POSITIONS + 1}"
    for index, name in enumerate(columns):
        letter = get_column_letter(index + 1)
        cells = f"{letter}2:{letter}{MAX_ROWS}"
        kind, rule = None, {}
        if (sheet.title, name) in ((GROUPS, "key"), (LINKS, "if")):
            kind, rule = "list", {"formula1": post_keys}
        elif (sheet.title, name) == (LINE_RULES, "group"):
            kind, rule = "list", {"formula1": f"{GROUPS}!$A$2:$A${MAX_ROWS}"}
        elif name in ("min", "max"):
            kind, rule = "whole", _whole_rule(0, MAX_TERMS)
        _validation(kind, RULE_PROMPTS[sheet.title][name], cells, sheet, **rule)
