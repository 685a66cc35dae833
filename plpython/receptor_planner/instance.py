"""The instance and request documents: parsing and validation.

Every error names the offending field as a path (``positions[3].capacity[2]``)
and the reason, so a caller can fix the document without reading code.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from .rules import RuleError, resolve_rules

INSTANCE_FORMAT = "receptor-planner/instance@1"
COHORTS = ("PGY1", "PGY2", "PGY3+")
CATEGORIES = ("A", "B", "C", "D")
FLAGS = ("service", "nights", "rural", "non_clinical", "excludable")

# Limits. Each lives here once; the tables' CHECK constraints (sql/1*_tables.sql) repeat the
# numbers, and tests/test_bad_input.py checks that they agree.
MAX_LINES = 2000  # job lines of one planner run
MAX_TERMS = 13
MAX_PERIOD_WEEKS = 104  # two years
MAX_POSITIONS = 2000  # posts of one instance: far beyond any health service, small enough to model
MAX_CAPACITY = MAX_LINES  # a post never holds more lines than a run can have
MAX_PINS = MAX_LINES * MAX_TERMS  # every cell of every line
MAX_LEAVE_PATTERNS = 64
# Placements of leave the patterns allow (an upper bound on leave.leave_options). The leave model
# has one integer per placement: the reference design's patterns allow about 1,100 and solve in
# a tenth of a second; 20,000 take about 3 s; a pattern of five single weeks allows 1.7 million.
MAX_LEAVE_PLACEMENTS = 20_000
MAX_KEY_CHARS = 64  # position keys, ruleset names
MAX_NAME_CHARS = 200  # org, team, position, specialty and subspecialty names
MAX_TITLE_CHARS = 256  # plan and allocation run names, made from an org name, a cohort and a year
MAX_VERSION_CHARS = 64  # affinity profile versions
MAX_SOURCE_CHARS = 2000  # where an affinity profile's numbers come from: a paragraph
MAX_JSON_DEPTH = 32  # the documents the planner reads and writes nest 5 levels deep
# JSON the database hands to Python: 2000 positions with the longest names and 26,000 pins take under
# 4 MB, a solution of 2000 lines (a restore snapshot) under 10 MB.
MAX_DOCUMENT_CHARS = 16_000_000
MAX_OPTIONS_CHARS = 1000  # a planner run's options: four scalars take under 100


class InvalidDocument(ValueError):
    """A document field that cannot be accepted."""

    def __init__(self, field_path: str, reason: str):
        super().__init__(f"{field_path}: {reason}")
        self.field = field_path
        self.reason = reason


@dataclass(frozen=True)
class Position:
    key: str
    name: str
    team: str | None
    specialty: str
    subspecialty: str | None
    categories: tuple[str, ...]
    capacity: tuple[int, ...]  # one per term
    min_fill: tuple[int, ...]  # one per term
    terms: tuple[int, ...]  # 1-based terms a line may hold it in (every term a placement covers)
    service: bool = False
    nights: bool = False
    rural: bool = False
    non_clinical: bool = False
    excludable: bool = False
    site: str | None = None
    span: int = 1  # consecutive terms one placement lasts
    starts: tuple[int, ...] = ()  # terms a placement may start in (the document's ``terms``); () = ``terms``

    def offered(self, term: int) -> bool:
        return term in self.terms

    @property
    def start_terms(self) -> tuple[int, ...]:
        return self.starts or self.terms

    def covers(self, start: int) -> range:
        """The terms a placement starting in ``start`` holds."""
        return range(start, start + self.span)


@dataclass(frozen=True)
class Leave:
    weeks: int = 5
    patterns: tuple[tuple[int, ...], ...] = ((5,),)
    min_gap_weeks: int = 0
    within_term: bool = True
    max_concurrent: int | None = None
    fixed_blocks: tuple[tuple[int, int], ...] = ()  # (start_week, weeks)
    front_load_target: float | None = None
    blocked_weeks: tuple[int, ...] = ()  # no planned block may hold one
    preferred_groups: tuple[str, ...] = ()  # soft: planned leave in terms holding a post of these groups


@dataclass(frozen=True)
class LineRuleSpec:
    """A service's own line rule: every line holds between ``min`` and ``max`` placements of ``group``."""

    name: str
    group: str
    min: int | None
    max: int | None


@dataclass(frozen=True)
class Link:
    """A line holding post ``when`` also holds one of the posts ``then``."""

    name: str
    when: str
    then: tuple[str, ...]


@dataclass(frozen=True)
class Pin:
    line: int
    term: int
    position: str


@dataclass(frozen=True)
class Instance:
    org_name: str
    cohort: str
    start_date: dt.date
    term_weeks: tuple[int, ...]
    leave: Leave
    positions: tuple[Position, ...]
    pins: tuple[Pin, ...] = ()
    affinity: dict | None = None
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> position keys
    line_rules: tuple[LineRuleSpec, ...] = ()
    links: tuple[Link, ...] = ()
    home_site_min_terms: int | None = None

    @property
    def period_weeks(self) -> int:
        return sum(self.term_weeks)

    @property
    def n_terms(self) -> int:
        return len(self.term_weeks)

    def preferred_posts(self) -> frozenset[str]:
        """The keys of the posts of the leave's preferred groups: planned leave should fall in their terms."""
        return frozenset(key for name in self.leave.preferred_groups for key in self.groups[name])

    def placement_weeks(self, post: Position, start: int) -> int:
        """The weeks of a placement of ``post`` that starts in term ``start``."""
        return sum(self.term_weeks[start - 1:start - 1 + post.span])

    def term_start_week(self, term: int) -> int:
        return 1 + sum(self.term_weeks[: term - 1])

    def term_of_week(self, week: int) -> int:
        end = 0
        for term, weeks in enumerate(self.term_weeks, start=1):
            end += weeks
            if week <= end:
                return term
        raise ValueError(f"week {week} is outside the period")

    def position(self, key: str) -> Position:
        return self._by_key[key]

    @property
    def _by_key(self) -> dict[str, Position]:
        return {p.key: p for p in self.positions}

    def default_lines(self) -> int:
        """Lines the posts can hold: the smallest total capacity over terms."""
        return min(
            sum(p.capacity[t] for p in self.positions if p.offered(t + 1))
            for t in range(self.n_terms)
        )


@dataclass(frozen=True)
class Request:
    n_job_lines: int
    constraints: tuple[str, ...] = ("UNRESTRICTED",)
    allow_partial: bool = False
    max_seconds: float = 60.0
    seed: int = 0
    num_workers: int = 1  # CP-SAT workers; more than one races, so the same seed may give other lines

    def as_dict(self) -> dict:
        return {
            "n_job_lines": self.n_job_lines,
            "constraints": list(self.constraints),
            "allow_partial": self.allow_partial,
            "max_seconds": self.max_seconds,
            "seed": self.seed,
        }


# ---------------------------------------------------------------- helpers

def _get(doc: dict, key: str, path: str, kind, default: Any = ..., nullable=False):
    if key not in doc or doc[key] is None:
        if doc.get(key, ...) is None and nullable:
            return None
        if default is not ...:
            return default
        raise InvalidDocument(_join(path, key), "is required")
    value = doc[key]
    if not _is(value, kind):
        raise InvalidDocument(_join(path, key), f"must be {_kind_name(kind)}, got {_show(value)}")
    return value


def _is(value, kind) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str) and value.strip() != ""
    return isinstance(value, kind)


def _kind_name(kind) -> str:
    return {int: "an integer", float: "a number", str: "a non-empty string", bool: "true or false",
            list: "a list", dict: "an object"}[kind]


def _show(value) -> str:
    """The value as a message quotes it: short, shallow, and never a number too long to print."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        text = f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    elif isinstance(value, str):
        text = repr(value[:40])
    elif isinstance(value, (list, tuple)):
        small = len(value) <= 8 and all(_is_short_scalar(v) for v in value)
        text = repr(value) if small else f"a list of {len(value)} item{'s' * (len(value) != 1)}"
    elif isinstance(value, dict):
        text = f"an object of {len(value)} field{'s' * (len(value) != 1)}"
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_short_scalar(value) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() <= 128
    return value is None or isinstance(value, (bool, float)) or (isinstance(value, str) and len(value) <= 40)


def _join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = str(key)
    if len(key) > 40:  # a field name quoted in a message stays readable
        key = key[:37] + "..."
    return f"{path}.{key}" if path else key


# C0 and C1 control characters (NUL among them) and unpaired surrogates: not text anyone means.
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_TEXT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # keeps tab and newlines


def _text(doc: dict, key: str, path: str, most: int, default: Any = ..., nullable=False, lines=False):
    """A non-empty string field of at most ``most`` characters, without control characters."""
    value = _get(doc, key, path, str, default, nullable)
    if isinstance(value, str):
        _check_text(value, _join(path, key), most, lines)
    return value


def _check_text(value: str, path: str, most: int, lines=False) -> None:
    if len(value) > most:
        raise InvalidDocument(path, f"is {len(value)} characters long; at most {most}")
    bad = (_NOT_TEXT_LINES if lines else _NOT_TEXT).search(value)
    if bad:
        raise InvalidDocument(path, f"holds U+{ord(bad.group()):04X} at character {bad.start() + 1}; "
                                    "control characters and unpaired surrogates are not text")


def _at_most(items: list, most: int, path: str, what: str) -> None:
    if len(items) > most:
        raise InvalidDocument(path, f"lists {len(items)} {what}; at most {most}")


def _per_term(value, path: str, n_terms: int, default: int | None) -> tuple[int, ...]:
    if value is None:
        if default is None:
            raise InvalidDocument(path, "is required")
        value = default
    if _is(value, int):
        value = [value] * n_terms
    if not isinstance(value, list) or len(value) != n_terms:
        raise InvalidDocument(path, f"must be an integer or a list of {n_terms} integers, one per term, "
                                    f"got {_show(value)}")
    for i, v in enumerate(value):
        if not _is(v, int) or v < 0:
            raise InvalidDocument(f"{path}[{i}]", f"must be a non-negative integer, got {_show(v)}")
        if v > MAX_CAPACITY:
            raise InvalidDocument(f"{path}[{i}]", f"must be at most {MAX_CAPACITY}, the most lines a run has; "
                                                  f"got {_show(v)}")
    return tuple(value)


def _unknown_keys(doc: dict, allowed: set[str], path: str) -> None:
    for key in doc:
        if key not in allowed:
            raise InvalidDocument(_join(path, key), "is not a known field")


# ---------------------------------------------------------------- JSON text

class _LongNumber:
    """A JSON integer too long for Python to convert: it fails every type check, with its field."""

    def __init__(self, digits: int):
        self.digits = digits

    def __repr__(self) -> str:
        return f"a number of {self.digits} digits"


def _read_int(text: str):
    return int(text) if len(text) <= 100 else _LongNumber(len(text.lstrip("-")))


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]')


def load_json(text: str, field: str = "", max_chars: int = MAX_DOCUMENT_CHARS) -> Any:
    """Parse JSON text, refusing what would exhaust Python rather than answer.

    Over ``max_chars`` characters or deeper than MAX_JSON_DEPTH is ``field: reason``
    (a too deep part is named by its path under ``field``); an integer of more
    than 100 digits reads as a value every validator refuses with its field.
    """
    if len(text) > max_chars:
        raise InvalidDocument(field or "(document)", f"is {len(text)} characters of JSON; at most {max_chars}")
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if brackets and max(accumulate(map(_BRACKET_STEP.get, brackets), initial=0)) > MAX_JSON_DEPTH:
        raise InvalidDocument(_too_deep_path(text, field), f"nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_int=_read_int)
    except ValueError as e:  # json.JSONDecodeError is one; the database only hands over valid JSON
        raise InvalidDocument(field or "(document)", f"is not JSON: {e}") from None


def _too_deep_path(text: str, field: str) -> str:
    """The path of the first container nested deeper than MAX_JSON_DEPTH (its first segments)."""
    path: list = []  # one entry per open container: the current index, or the current key
    expect_key = False
    for token in _JSON_TOKEN.finditer(text):
        t = token.group()
        if t in "[{":
            if len(path) == MAX_JSON_DEPTH:
                break
            path.append(0 if t == "[" else None)
            expect_key = t == "{"
        elif not path:  # text outside any container: not JSON, which json.loads will say
            continue
        elif t in "]}":
            path.pop()
        elif t == ",":
            if isinstance(path[-1], int):
                path[-1] += 1
            else:
                expect_key = True
        elif t == ":":
            expect_key = False
        elif expect_key:
            path[-1] = json.loads(t)
    shown = field
    for segment in path[:4]:
        shown = _join(shown, segment if segment is not None else "")
    return shown if shown and not shown.startswith("[") else f"(document){shown}"


# ---------------------------------------------------------------- instance

def parse_instance(doc: Any) -> Instance:
    """Validate an instance document and return it as an ``Instance``."""
    if not isinstance(doc, dict):
        raise InvalidDocument("(document)", "must be a JSON object")
    _unknown_keys(doc, {"format", "org", "cohort", "start_date", "period_weeks", "term_weeks",
                        "leave", "positions", "pins", "affinity", *LOCAL_RULE_FIELDS}, "")
    if doc.get("format") != INSTANCE_FORMAT:
        raise InvalidDocument("format", f"must be {INSTANCE_FORMAT!r}, got {_show(doc.get('format'))}")
    org = _get(doc, "org", "", dict)
    _unknown_keys(org, {"name"}, "org")
    org_name = _text(org, "name", "org", MAX_NAME_CHARS)
    cohort = _get(doc, "cohort", "", str)
    if cohort not in COHORTS:
        raise InvalidDocument("cohort", f"must be one of {', '.join(COHORTS)}, got {_show(cohort)}")
    start_date = _parse_start_date(_get(doc, "start_date", "", str))
    term_weeks = _parse_term_weeks(doc)
    n_terms = len(term_weeks)
    leave = parse_leave(doc.get("leave"), term_weeks)
    positions = _parse_positions(_get(doc, "positions", "", list), n_terms)
    pins = _parse_pins(doc.get("pins"), positions, n_terms)
    affinity = parse_affinity(doc.get("affinity"), "affinity")
    groups = _parse_groups(doc.get("groups"), positions)
    for i, name in enumerate(leave.preferred_groups):
        if name not in groups:
            raise InvalidDocument(f"leave.preferred_groups[{i}]", f"unknown group {_show(name)}")
    return Instance(org_name.strip(), cohort, start_date, term_weeks, leave, positions, pins, affinity, groups,
                    _parse_line_rules(doc.get("line_rules"), groups, n_terms),
                    _parse_links(doc.get("links"), positions),
                    _parse_home_site(doc.get("home_site_min_terms"), positions, n_terms))


def _parse_start_date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidDocument("start_date", f"must be an ISO date (YYYY-MM-DD), got {_show(text)}") from None
    if day.isoweekday() != 1:
        raise InvalidDocument("start_date", f"must be a Monday, got a {day.strftime('%A')}")
    return day


def _parse_term_weeks(doc: dict) -> tuple[int, ...]:
    weeks = _get(doc, "term_weeks", "", list)
    if not 1 <= len(weeks) <= MAX_TERMS:
        raise InvalidDocument("term_weeks", f"must list 1 to {MAX_TERMS} terms")
    for i, w in enumerate(weeks):
        if not _is(w, int) or not 1 <= w <= MAX_PERIOD_WEEKS:
            raise InvalidDocument(f"term_weeks[{i}]", f"must be an integer in 1..{MAX_PERIOD_WEEKS}, got {_show(w)}")
    period = doc.get("period_weeks")
    if period is not None:
        if not _is(period, int) or not 1 <= period <= MAX_PERIOD_WEEKS:
            raise InvalidDocument("period_weeks", f"must be an integer in 1..{MAX_PERIOD_WEEKS}, got {_show(period)}")
        if sum(weeks) != period:
            raise InvalidDocument("term_weeks", f"term lengths sum to {sum(weeks)}, not the period of {period} weeks")
    if sum(weeks) > MAX_PERIOD_WEEKS:
        raise InvalidDocument("term_weeks", f"term lengths sum to {sum(weeks)} weeks; a period is at most "
                                            f"{MAX_PERIOD_WEEKS}")
    return tuple(weeks)


def parse_leave(doc: Any, term_weeks: tuple[int, ...], path: str = "leave") -> Leave:
    if doc is None:
        return Leave()
    if not isinstance(doc, dict):
        raise InvalidDocument(path, "must be an object")
    _unknown_keys(doc, {"weeks", "patterns", "min_gap_weeks", "within_term", "max_concurrent",
                        "fixed_blocks", "front_load_target", "blocked_weeks", "preferred_groups"}, path)
    period = sum(term_weeks)
    weeks = _get(doc, "weeks", path, int, 5)
    if not 0 <= weeks < period:
        raise InvalidDocument(f"{path}.weeks", f"must be between 0 and {period - 1}, got {_show(weeks)}")
    fixed = []
    fixed_blocks = _get(doc, "fixed_blocks", path, list, [])
    _at_most(fixed_blocks, period, f"{path}.fixed_blocks", "blocks")  # more would overlap
    for i, block in enumerate(fixed_blocks):
        bpath = f"{path}.fixed_blocks[{i}]"
        if not isinstance(block, dict):
            raise InvalidDocument(bpath, "must be an object {start_week, weeks}")
        _unknown_keys(block, {"start_week", "weeks"}, bpath)
        start = _get(block, "start_week", bpath, int)
        length = _get(block, "weeks", bpath, int)
        if length < 1 or start < 1 or start + length - 1 > period:
            raise InvalidDocument(bpath, f"must lie inside weeks 1..{period}")
        fixed.append((start, length))
    fixed.sort()
    for (s1, l1), (s2, _) in zip(fixed, fixed[1:]):
        if s2 <= s1 + l1 - 1:
            raise InvalidDocument(f"{path}.fixed_blocks", "blocks overlap")
    free_weeks = weeks - sum(length for _, length in fixed)
    if free_weeks < 0:
        raise InvalidDocument(f"{path}.fixed_blocks", f"fixed blocks take more than the {weeks} leave weeks")
    default_patterns = [[free_weeks]] if free_weeks else [[]]
    patterns = []
    pattern_list = _get(doc, "patterns", path, list, default_patterns)
    _at_most(pattern_list, MAX_LEAVE_PATTERNS, f"{path}.patterns", "patterns")
    for i, pattern in enumerate(pattern_list):
        ppath = f"{path}.patterns[{i}]"
        if not isinstance(pattern, list) or not all(_is(b, int) and 1 <= b <= period for b in pattern):
            raise InvalidDocument(ppath, f"must be a list of block lengths in weeks, each in 1..{period}")
        if sum(pattern) != free_weeks:
            raise InvalidDocument(ppath, f"blocks sum to {sum(pattern)} weeks, but {free_weeks} leave weeks "
                                         "remain outside fixed blocks")
        patterns.append(tuple(pattern))
    if not patterns:
        raise InvalidDocument(f"{path}.patterns", "must list at least one pattern")
    if len(set(patterns)) != len(patterns):
        raise InvalidDocument(f"{path}.patterns", "lists a pattern twice")
    min_gap = _get(doc, "min_gap_weeks", path, int, 0)
    if not 0 <= min_gap <= period:
        raise InvalidDocument(f"{path}.min_gap_weeks", f"must be an integer in 0..{period}, got {_show(min_gap)}")
    within_term = _get(doc, "within_term", path, bool, True)
    max_concurrent = _get(doc, "max_concurrent", path, int, None, nullable=True)
    if max_concurrent is not None and not 0 <= max_concurrent <= MAX_LINES:
        raise InvalidDocument(f"{path}.max_concurrent", f"must be null or an integer in 0..{MAX_LINES}, "
                                                        f"got {_show(max_concurrent)}")
    front = _get(doc, "front_load_target", path, float, None, nullable=True)
    if front is not None and not 0 <= front <= 1:  # NaN fails this too
        raise InvalidDocument(f"{path}.front_load_target", f"must be a share between 0 and 1, got {_show(front)}")
    blocked = _get(doc, "blocked_weeks", path, list, [])
    for i, week in enumerate(blocked):
        if not _is(week, int) or not 1 <= week <= period:
            raise InvalidDocument(f"{path}.blocked_weeks[{i}]", f"must be a week in 1..{period}, got {_show(week)}")
    if len(set(blocked)) != len(blocked):
        raise InvalidDocument(f"{path}.blocked_weeks", "lists a week twice")
    preferred = _get(doc, "preferred_groups", path, list, [])
    _at_most(preferred, MAX_POSITIONS, f"{path}.preferred_groups", "groups")
    for i, name in enumerate(preferred):
        if not _is(name, str):
            raise InvalidDocument(f"{path}.preferred_groups[{i}]", f"must be a group name, got {_show(name)}")
        _check_text(name, f"{path}.preferred_groups[{i}]", MAX_KEY_CHARS)
    if len(set(preferred)) != len(preferred):
        raise InvalidDocument(f"{path}.preferred_groups", "lists a group twice")
    placements = _placements(patterns, term_weeks, fixed, min_gap, within_term)
    if placements > MAX_LEAVE_PLACEMENTS:
        raise InvalidDocument(f"{path}.patterns", f"allow {_show(placements)} placements of leave in the period; "
                                                  f"at most {MAX_LEAVE_PLACEMENTS}: use fewer, longer blocks, "
                                                  "fewer patterns or a longer min_gap_weeks")
    return Leave(weeks, tuple(patterns), min_gap, within_term, max_concurrent, tuple(fixed), front,
                 tuple(sorted(blocked)), tuple(preferred))


def _placements(patterns: list[tuple[int, ...]], term_weeks: tuple[int, ...], fixed: list[tuple[int, int]],
                min_gap: int, within_term: bool) -> int:
    """How many ways leave.leave_options places the patterns' blocks (before it drops the ways that
    leave a whole term on leave): counted, not listed, since the count can be astronomical."""
    period = sum(term_weeks)
    term_of = [0] + [t for t, weeks in enumerate(term_weeks, start=1) for _ in range(weeks)]
    gap = max(min_gap, 1)  # as leave_options: blocks closer than one week would merge
    starts: dict[int, list[bool]] = {}  # block length -> whether a block may start at each week

    def allowed(length: int) -> list[bool]:
        if length not in starts:
            ok = [False] * (period + 1)
            for start in range(1, period - length + 2):
                end = start + length - 1
                ok[start] = (not within_term or term_of[start] == term_of[end]) and all(
                    start - (fs + fn - 1) - 1 >= gap or fs - end - 1 >= gap for fs, fn in fixed)
            starts[length] = ok
        return starts[length]

    total = 0
    for pattern in patterns:
        # ways[e]: placements of the blocks still to place, the next one starting in week e or later.
        ways = [1] * (period + 3)
        for length in reversed(pattern):
            later, ok = ways, allowed(length)
            ways = [0] * (period + 3)
            for start in range(period, 0, -1):
                here = later[min(start + length + gap, period + 2)] if ok[start] else 0
                ways[start] = ways[start + 1] + here
        total += ways[1]
    return total


def _parse_positions(items: list, n_terms: int) -> tuple[Position, ...]:
    if not items:
        raise InvalidDocument("positions", "must list at least one position")
    _at_most(items, MAX_POSITIONS, "positions", "positions")
    seen: set[str] = set()
    positions = []
    for i, item in enumerate(items):
        path = f"positions[{i}]"
        if not isinstance(item, dict):
            raise InvalidDocument(path, "must be an object")
        _unknown_keys(item, {"key", "name", "team", "specialty", "subspecialty", "categories",
                             "capacity", "min_fill", "terms", "site", "span", *FLAGS}, path)
        key = _text(item, "key", path, MAX_KEY_CHARS).strip()
        if key in seen:
            raise InvalidDocument(f"{path}.key", f"{key!r} is used by another position")
        seen.add(key)
        flags = {flag: _get(item, flag, path, bool, False) for flag in FLAGS}
        categories = _get(item, "categories", path, list, [])
        _check_categories(categories, flags["non_clinical"], f"{path}.categories")
        capacity = _per_term(item.get("capacity"), f"{path}.capacity", n_terms, None)
        min_fill = _per_term(item.get("min_fill"), f"{path}.min_fill", n_terms, 0)
        for t, (cap, need) in enumerate(zip(capacity, min_fill)):
            if need > cap:
                raise InvalidDocument(f"{path}.min_fill[{t}]", f"{need} exceeds the capacity of {cap}")
        span = _get(item, "span", path, int, 1)
        if not 1 <= span <= n_terms:
            raise InvalidDocument(f"{path}.span", f"must be an integer in 1..{n_terms}, got {_show(span)}")
        last_start = n_terms - span + 1
        starts = item.get("terms")
        if starts is None:
            starts = list(range(1, last_start + 1))
        if not isinstance(starts, list) or not starts or \
                not all(_is(t, int) and 1 <= t <= n_terms for t in starts) or len(set(starts)) != len(starts):
            raise InvalidDocument(f"{path}.terms", f"must be null or distinct term numbers in 1..{n_terms}")
        for t in starts:
            if t > last_start:
                raise InvalidDocument(f"{path}.terms", f"a placement of {span} terms cannot start in term {t} "
                                                       f"of {n_terms}")
        terms = sorted({t + k for t in starts for k in range(span)})
        for t in range(1, n_terms + 1):
            if t not in terms and min_fill[t - 1] > 0:
                raise InvalidDocument(f"{path}.min_fill[{t - 1}]", f"term {t} is not offered, so it must be 0")
        subspecialty = _text(item, "subspecialty", path, MAX_NAME_CHARS, None, nullable=True)
        team = _text(item, "team", path, MAX_NAME_CHARS, None, nullable=True)
        site = _text(item, "site", path, MAX_NAME_CHARS, None, nullable=True)
        positions.append(Position(
            key=key, name=_text(item, "name", path, MAX_NAME_CHARS, key), team=team,
            specialty=_text(item, "specialty", path, MAX_NAME_CHARS).strip(),
            subspecialty=subspecialty.strip() if subspecialty else None,
            categories=tuple(sorted(categories)), capacity=capacity, min_fill=min_fill,
            terms=tuple(terms), **flags, site=site.strip() if site else None, span=span,
            starts=tuple(sorted(starts)) if span > 1 else ()))
    return tuple(positions)


def _check_categories(categories: list, non_clinical: bool, path: str) -> None:
    for c in categories:
        if c not in CATEGORIES:
            raise InvalidDocument(path, f"unknown category {_show(c)}; categories are A, B, C and D")
    if len(set(categories)) != len(categories):
        raise InvalidDocument(path, "lists a category twice")
    if non_clinical and categories:
        raise InvalidDocument(path, "a non-clinical position has no clinical categories")
    if not non_clinical and not 1 <= len(categories) <= 2:
        raise InvalidDocument(path, f"a clinical position has 1 or 2 categories, got {len(categories)}")


LOCAL_RULE_FIELDS = ("groups", "line_rules", "links", "home_site_min_terms")


def _name(doc: dict, path: str, seen: set[str]) -> str:
    """A rule's ``name``: non-empty text, used once."""
    name = _text(doc, "name", path, MAX_NAME_CHARS).strip()
    if name in seen:
        raise InvalidDocument(f"{path}.name", f"{name!r} names another rule")
    seen.add(name)
    return name


def _position_keys(items: Any, path: str, keys: set[str]) -> tuple[str, ...]:
    """A non-empty list of distinct known position keys."""
    if not isinstance(items, list) or not items:
        raise InvalidDocument(path, "must be a non-empty list of position keys")
    _at_most(items, MAX_POSITIONS, path, "positions")
    for i, key in enumerate(items):
        if not isinstance(key, str) or key not in keys:
            raise InvalidDocument(f"{path}[{i}]", f"unknown position {_show(key)}")
    if len(set(items)) != len(items):
        raise InvalidDocument(path, "lists a position twice")
    return tuple(items)


def _parse_groups(doc: Any, positions: tuple[Position, ...]) -> dict[str, tuple[str, ...]]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InvalidDocument("groups", "must be an object of group name -> position keys")
    _at_most(list(doc), MAX_POSITIONS, "groups", "groups")
    keys = {p.key for p in positions}
    groups = {}
    for name, members in doc.items():
        _check_text(name, _join("groups", name), MAX_KEY_CHARS)
        if not name.strip():
            raise InvalidDocument("groups", "a group name is empty")
        groups[name] = _position_keys(members, _join("groups", name), keys)
    return groups


def _parse_line_rules(items: Any, groups: dict, n_terms: int) -> tuple[LineRuleSpec, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise InvalidDocument("line_rules", "must be a list")
    _at_most(items, MAX_POSITIONS, "line_rules", "rules")
    seen: set[str] = set()
    rules = []
    for i, item in enumerate(items):
        path = f"line_rules[{i}]"
        if not isinstance(item, dict):
            raise InvalidDocument(path, "must be an object {name, group, min, max}")
        _unknown_keys(item, {"name", "group", "min", "max"}, path)
        name = _name(item, path, seen)
        group = _get(item, "group", path, str)
        if group not in groups:
            raise InvalidDocument(f"{path}.group", f"unknown group {_show(group)}")
        bounds = {}
        for bound in ("min", "max"):
            value = _get(item, bound, path, int, None, nullable=True)
            if value is not None and not 0 <= value <= n_terms:
                raise InvalidDocument(f"{path}.{bound}", f"must be an integer in 0..{n_terms} (placements of a "
                                                         f"line), got {_show(value)}")
            bounds[bound] = value
        if bounds["min"] is None and bounds["max"] is None:
            raise InvalidDocument(path, "needs min, max or both")
        if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
            raise InvalidDocument(f"{path}.min", f"{bounds['min']} exceeds max {bounds['max']}")
        rules.append(LineRuleSpec(name, group, bounds["min"], bounds["max"]))
    return tuple(rules)


def _parse_links(items: Any, positions: tuple[Position, ...]) -> tuple[Link, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise InvalidDocument("links", "must be a list")
    _at_most(items, MAX_POSITIONS, "links", "links")
    keys = {p.key for p in positions}
    seen: set[str] = set()
    links = []
    for i, item in enumerate(items):
        path = f"links[{i}]"
        if not isinstance(item, dict):
            raise InvalidDocument(path, "must be an object {name, if, then}")
        _unknown_keys(item, {"name", "if", "then"}, path)
        name = _name(item, path, seen)
        when = _get(item, "if", path, str)
        if when not in keys:
            raise InvalidDocument(f"{path}.if", f"unknown position {_show(when)}")
        then = _position_keys(item.get("then"), f"{path}.then", keys)
        if when in then:
            raise InvalidDocument(f"{path}.then", f"lists {when}, the post the link starts from")
        links.append(Link(name, when, then))
    return tuple(links)


def _parse_home_site(value: Any, positions: tuple[Position, ...], n_terms: int) -> int | None:
    if value is None:
        return None
    if not _is(value, int) or not 1 <= value <= n_terms:
        raise InvalidDocument("home_site_min_terms", f"must be null or an integer in 1..{n_terms}, got {_show(value)}")
    for i, post in enumerate(positions):
        if post.site is None:
            raise InvalidDocument(f"positions[{i}].site", "is required when home_site_min_terms is set")
    return value


def _parse_pins(items: Any, positions: tuple[Position, ...], n_terms: int) -> tuple[Pin, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise InvalidDocument("pins", "must be a list")
    _at_most(items, MAX_PINS, "pins", "pins")
    keys = {p.key: p for p in positions}
    pins: dict[tuple[int, int], Pin] = {}
    for i, item in enumerate(items):
        path = f"pins[{i}]"
        if not isinstance(item, dict):
            raise InvalidDocument(path, "must be an object")
        line = _get(item, "line", path, int)
        if not 1 <= line <= MAX_LINES:
            raise InvalidDocument(f"{path}.line", f"must be a line number in 1..{MAX_LINES}")
        if "positions" in item:  # a whole line
            _unknown_keys(item, {"line", "positions"}, path)
            keys_by_term = _get(item, "positions", path, list)
            if len(keys_by_term) != n_terms:
                raise InvalidDocument(f"{path}.positions", f"must list {n_terms} positions, one per term")
            placements = list(enumerate(keys_by_term, start=1))
        else:
            _unknown_keys(item, {"line", "term", "position"}, path)
            term = _get(item, "term", path, int)
            if not 1 <= term <= n_terms:
                raise InvalidDocument(f"{path}.term", f"must be a term number in 1..{n_terms}")
            placements = [(term, _get(item, "position", path, str))]
        for term, key in placements:
            if not isinstance(key, str) or key not in keys:
                raise InvalidDocument(path, f"unknown position {_show(key)}")
            if not keys[key].offered(term):
                raise InvalidDocument(path, f"position {key} is not offered in term {term}")
            previous = pins.get((line, term))
            if previous and previous.position != key:
                raise InvalidDocument(path, f"line {line} term {term} is already pinned to {previous.position}")
            pins[(line, term)] = Pin(line, term, key)
    return tuple(sorted(pins.values(), key=lambda p: (p.line, p.term)))


def parse_affinity(doc: Any, path: str) -> dict | None:
    """Validate an affinity profile: symmetric integer weights -100..100."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise InvalidDocument(path, "must be an object {version, source, weights}")
    _unknown_keys(doc, {"version", "source", "weights"}, path)
    version = doc.get("version")
    if _is(version, int):
        if not 0 <= version < 10 ** MAX_VERSION_CHARS:
            raise InvalidDocument(f"{path}.version", f"must be a non-negative integer of at most "
                                                     f"{MAX_VERSION_CHARS} digits, got {_show(version)}")
    elif _is(version, str):
        _check_text(version, f"{path}.version", MAX_VERSION_CHARS)
    else:
        raise InvalidDocument(f"{path}.version", "is required (a string or an integer)")
    _text(doc, "source", path, MAX_SOURCE_CHARS, lines=True)
    weights = _get(doc, "weights", path, dict)
    # Weighs pairs of specialties, which are position attributes: no more of them than positions.
    _at_most(list(weights), MAX_POSITIONS, f"{path}.weights", "specialties")
    for a, row in weights.items():
        _check_text(a, _join(f"{path}.weights", a), MAX_NAME_CHARS)
        if not isinstance(row, dict):
            raise InvalidDocument(_join(f"{path}.weights", a), "must be an object of weights")
        _at_most(list(row), MAX_POSITIONS, _join(f"{path}.weights", a), "specialties")
        for b, w in row.items():
            wpath = _join(_join(f"{path}.weights", a), b)
            _check_text(b, wpath, MAX_NAME_CHARS)
            if not _is(w, int) or not -100 <= w <= 100:
                raise InvalidDocument(wpath, f"must be an integer in -100..100, got {_show(w)}")
            back = weights.get(b, {}).get(a, w) if isinstance(weights.get(b), dict) else w
            if back != w:
                raise InvalidDocument(wpath, f"is {w} but {_join(_join(f'{path}.weights', b), a)} is {_show(back)}; "
                                             "weights are symmetric")
    return doc


# ---------------------------------------------------------------- request

def parse_request(doc: Any, cohort: str, n_terms: int) -> Request:
    """Validate a planner run request (n_job_lines, constraints and options)."""
    if not isinstance(doc, dict):
        raise InvalidDocument("(request)", "must be an object")
    n = _get(doc, "n_job_lines", "", int)
    if not 1 <= n <= MAX_LINES:
        raise InvalidDocument("n_job_lines", f"must be between 1 and {MAX_LINES}, got {_show(n)}")
    constraints = _get(doc, "constraints", "", list, ["UNRESTRICTED"])
    if not all(isinstance(c, str) for c in constraints):
        raise InvalidDocument("constraints", "must be a list of ruleset names")
    for i, name in enumerate(constraints):
        _check_text(name, f"constraints[{i}]", MAX_KEY_CHARS)
    try:
        resolve_rules(constraints, cohort)
    except RuleError as e:
        raise InvalidDocument("constraints", str(e)) from None
    allow_partial = _get(doc, "allow_partial", "", bool, False)
    max_seconds = _get(doc, "max_seconds", "", float, 60.0)
    if not 0 < max_seconds <= 3600:  # NaN fails this too
        raise InvalidDocument("max_seconds", f"must be more than 0 and at most 3600, got {_show(max_seconds)}")
    seed = _get(doc, "seed", "", int, 0)
    if not 0 <= seed < 2**31:
        raise InvalidDocument("seed", "must be a non-negative 32-bit integer")
    workers = _get(doc, "num_workers", "", int, 1)
    if not 1 <= workers <= 16:
        raise InvalidDocument("num_workers", f"must be between 1 and 16, got {_show(workers)}")
    return Request(n, tuple(constraints) or ("UNRESTRICTED",), allow_partial,
                   float(max_seconds), seed, workers)
