"""The instance and request documents: parsing and validation.

Every error names the offending field as a path (``positions[3].capacity[2]``)
and the reason, so a caller can fix the document without reading code.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .rules import RuleError, resolve_rules

INSTANCE_FORMAT = "receptor-planner/instance@1"
COHORTS = ("PGY1", "PGY2", "PGY3+")
CATEGORIES = ("A", "B", "C", "D")
FLAGS = ("service", "nights", "rural", "non_clinical", "excludable")
MAX_LINES = 2000


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
    terms: tuple[int, ...]  # 1-based terms offered
    service: bool = False
    nights: bool = False
    rural: bool = False
    non_clinical: bool = False
    excludable: bool = False

    def offered(self, term: int) -> bool:
        return term in self.terms


@dataclass(frozen=True)
class Leave:
    weeks: int = 5
    patterns: tuple[tuple[int, ...], ...] = ((5,),)
    min_gap_weeks: int = 0
    within_term: bool = True
    max_concurrent: int | None = None
    fixed_blocks: tuple[tuple[int, int], ...] = ()  # (start_week, weeks)
    front_load_target: float | None = None


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

    @property
    def period_weeks(self) -> int:
        return sum(self.term_weeks)

    @property
    def n_terms(self) -> int:
        return len(self.term_weeks)

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
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _per_term(value, path: str, n_terms: int, default: int | None) -> tuple[int, ...]:
    if value is None:
        if default is None:
            raise InvalidDocument(path, "is required")
        value = default
    if _is(value, int):
        value = [value] * n_terms
    if not isinstance(value, list) or len(value) != n_terms:
        raise InvalidDocument(path, f"must be an integer or a list of {n_terms} integers, one per term")
    for i, v in enumerate(value):
        if not _is(v, int) or v < 0:
            raise InvalidDocument(f"{path}[{i}]", f"must be a non-negative integer, got {_show(v)}")
    return tuple(value)


def _unknown_keys(doc: dict, allowed: set[str], path: str) -> None:
    for key in doc:
        if key not in allowed:
            raise InvalidDocument(_join(path, key), "is not a known field")


# ---------------------------------------------------------------- instance

def parse_instance(doc: Any) -> Instance:
    """Validate an instance document and return it as an ``Instance``."""
    if not isinstance(doc, dict):
        raise InvalidDocument("(document)", "must be a JSON object")
    _unknown_keys(doc, {"format", "org", "cohort", "start_date", "period_weeks", "term_weeks",
                        "leave", "positions", "pins", "affinity"}, "")
    if doc.get("format") != INSTANCE_FORMAT:
        raise InvalidDocument("format", f"must be {INSTANCE_FORMAT!r}, got {_show(doc.get('format'))}")
    org = _get(doc, "org", "", dict)
    org_name = _get(org, "name", "org", str)
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
    return Instance(org_name.strip(), cohort, start_date, term_weeks, leave, positions, pins, affinity)


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
    if not 1 <= len(weeks) <= 13:
        raise InvalidDocument("term_weeks", "must list 1 to 13 terms")
    for i, w in enumerate(weeks):
        if not _is(w, int) or w < 1:
            raise InvalidDocument(f"term_weeks[{i}]", f"must be a positive integer, got {_show(w)}")
    period = doc.get("period_weeks")
    if period is not None:
        if not _is(period, int) or period < 1:
            raise InvalidDocument("period_weeks", f"must be a positive integer, got {_show(period)}")
        if sum(weeks) != period:
            raise InvalidDocument("term_weeks", f"term lengths sum to {sum(weeks)}, not the period of {period} weeks")
    if sum(weeks) > 104:
        raise InvalidDocument("term_weeks", f"term lengths sum to {sum(weeks)} weeks; a period is at most 104")
    return tuple(weeks)


def parse_leave(doc: Any, term_weeks: tuple[int, ...], path: str = "leave") -> Leave:
    if doc is None:
        return Leave()
    if not isinstance(doc, dict):
        raise InvalidDocument(path, "must be an object")
    _unknown_keys(doc, {"weeks", "patterns", "min_gap_weeks", "within_term", "max_concurrent",
                        "fixed_blocks", "front_load_target"}, path)
    period = sum(term_weeks)
    weeks = _get(doc, "weeks", path, int, 5)
    if not 0 <= weeks < period:
        raise InvalidDocument(f"{path}.weeks", f"must be between 0 and {period - 1}, got {weeks}")
    fixed = []
    for i, block in enumerate(_get(doc, "fixed_blocks", path, list, [])):
        bpath = f"{path}.fixed_blocks[{i}]"
        if not isinstance(block, dict):
            raise InvalidDocument(bpath, "must be an object {start_week, weeks}")
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
    for i, pattern in enumerate(_get(doc, "patterns", path, list, default_patterns)):
        ppath = f"{path}.patterns[{i}]"
        if not isinstance(pattern, list) or not all(_is(b, int) and b >= 1 for b in pattern):
            raise InvalidDocument(ppath, "must be a list of positive block lengths in weeks")
        if sum(pattern) != free_weeks:
            raise InvalidDocument(ppath, f"blocks sum to {sum(pattern)} weeks, but {free_weeks} leave weeks "
                                         "remain outside fixed blocks")
        patterns.append(tuple(pattern))
    if not patterns:
        raise InvalidDocument(f"{path}.patterns", "must list at least one pattern")
    if len(set(patterns)) != len(patterns):
        raise InvalidDocument(f"{path}.patterns", "lists a pattern twice")
    min_gap = _get(doc, "min_gap_weeks", path, int, 0)
    if min_gap < 0:
        raise InvalidDocument(f"{path}.min_gap_weeks", "must be non-negative")
    within_term = _get(doc, "within_term", path, bool, True)
    max_concurrent = _get(doc, "max_concurrent", path, int, None, nullable=True)
    if max_concurrent is not None and max_concurrent < 0:
        raise InvalidDocument(f"{path}.max_concurrent", "must be non-negative")
    front = _get(doc, "front_load_target", path, float, None, nullable=True)
    if front is not None and not 0 <= front <= 1:
        raise InvalidDocument(f"{path}.front_load_target", "must be a share between 0 and 1")
    return Leave(weeks, tuple(patterns), min_gap, within_term, max_concurrent, tuple(fixed), front)


def _parse_positions(items: list, n_terms: int) -> tuple[Position, ...]:
    if not items:
        raise InvalidDocument("positions", "must list at least one position")
    seen: set[str] = set()
    positions = []
    for i, item in enumerate(items):
        path = f"positions[{i}]"
        if not isinstance(item, dict):
            raise InvalidDocument(path, "must be an object")
        _unknown_keys(item, {"key", "name", "team", "specialty", "subspecialty", "categories",
                             "capacity", "min_fill", "terms", *FLAGS}, path)
        key = _get(item, "key", path, str).strip()
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
        terms = item.get("terms")
        if terms is None:
            terms = list(range(1, n_terms + 1))
        if not isinstance(terms, list) or not terms or \
                not all(_is(t, int) and 1 <= t <= n_terms for t in terms) or len(set(terms)) != len(terms):
            raise InvalidDocument(f"{path}.terms", f"must be null or distinct term numbers in 1..{n_terms}")
        for t in range(1, n_terms + 1):
            if t not in terms and min_fill[t - 1] > 0:
                raise InvalidDocument(f"{path}.min_fill[{t - 1}]", f"term {t} is not offered, so it must be 0")
        subspecialty = _get(item, "subspecialty", path, str, None, nullable=True)
        team = _get(item, "team", path, str, None, nullable=True)
        positions.append(Position(
            key=key, name=_get(item, "name", path, str, key), team=team,
            specialty=_get(item, "specialty", path, str).strip(),
            subspecialty=subspecialty.strip() if subspecialty else None,
            categories=tuple(sorted(categories)), capacity=capacity, min_fill=min_fill,
            terms=tuple(sorted(terms)), **flags))
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


def _parse_pins(items: Any, positions: tuple[Position, ...], n_terms: int) -> tuple[Pin, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise InvalidDocument("pins", "must be a list")
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
            if key not in keys:
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
    if not (_is(version, str) or _is(version, int)):
        raise InvalidDocument(f"{path}.version", "is required (a string or an integer)")
    _get(doc, "source", path, str)
    weights = _get(doc, "weights", path, dict)
    for a, row in weights.items():
        if not isinstance(row, dict):
            raise InvalidDocument(f"{path}.weights.{a}", "must be an object of weights")
        for b, w in row.items():
            wpath = f"{path}.weights.{a}.{b}"
            if not _is(w, int) or not -100 <= w <= 100:
                raise InvalidDocument(wpath, f"must be an integer in -100..100, got {_show(w)}")
            back = weights.get(b, {}).get(a, w) if isinstance(weights.get(b), dict) else w
            if back != w:
                raise InvalidDocument(wpath, f"is {w} but {path}.weights.{b}.{a} is {back}; weights are symmetric")
    return doc


# ---------------------------------------------------------------- request

def parse_request(doc: Any, cohort: str, n_terms: int) -> Request:
    """Validate a planner run request (n_job_lines, constraints and options)."""
    if not isinstance(doc, dict):
        raise InvalidDocument("(request)", "must be an object")
    n = _get(doc, "n_job_lines", "", int)
    if not 1 <= n <= MAX_LINES:
        raise InvalidDocument("n_job_lines", f"must be between 1 and {MAX_LINES}, got {n}")
    constraints = _get(doc, "constraints", "", list, ["UNRESTRICTED"])
    if not all(isinstance(c, str) for c in constraints):
        raise InvalidDocument("constraints", "must be a list of ruleset names")
    try:
        resolve_rules(constraints, cohort)
    except RuleError as e:
        raise InvalidDocument("constraints", str(e)) from None
    allow_partial = _get(doc, "allow_partial", "", bool, False)
    max_seconds = _get(doc, "max_seconds", "", float, 60.0)
    if not 0 < max_seconds <= 3600:
        raise InvalidDocument("max_seconds", f"must be more than 0 and at most 3600, got {max_seconds}")
    seed = _get(doc, "seed", "", int, 0)
    if not 0 <= seed < 2**31:
        raise InvalidDocument("seed", "must be a non-negative 32-bit integer")
    workers = _get(doc, "num_workers", "", int, 1)
    if not 1 <= workers <= 16:
        raise InvalidDocument("num_workers", f"must be between 1 and 16, got {workers}")
    return Request(n, tuple(constraints) or ("UNRESTRICTED",), allow_partial,
                   float(max_seconds), seed, workers)
