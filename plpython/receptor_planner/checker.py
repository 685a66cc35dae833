"""The independent checker: verifies a solution document against its instance.

Every test trusts this module as its oracle, so it shares no code with the
CP-SAT model (``model``, ``rules``, ``solve``) and does not even import the
instance parser: it reads the raw documents itself and restates each rule of
docs/rules.md in plain Python, week by week. It never raises on a malformed
solution; it reports it under the code ``FORMAT``. ``check_metrics`` recomputes
the metrics a solution reports from its lines and reports a mismatch under
``METRICS``: together they are the gate every solve passes before it writes.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from itertools import combinations
from math import comb
from typing import Any, Callable, Iterable, Iterator

SOLUTION_FORMAT = "receptor-planner/solution@1"

# Report order: the order of docs/rules.md, document problems first.
RULE_CODES = (
    "FORMAT",
    "ONE_POSITION_PER_TERM", "TILING", "NO_REPEAT_POSITION", "AVAILABILITY", "CAPACITY",
    "MIN_FILL", "PIN", "LEAVE_WEEKS", "LEAVE_PATTERN", "LEAVE_GAP", "LEAVE_WITHIN_TERM",
    "LEAVE_MAX_CONCURRENT",
    "SPAN", "LINE_RULE", "LINK", "HOME_SITE", "LEAVE_BLOCKED",
    "CLINICAL_WEEKS", "MIN_TERMS", "CATEGORIES", "SPECIALTY_CAP", "SUBSPECIALTY_CAP",
    "SERVICE_CAP", "TEAM_MIN", "NON_CLINICAL_MAX", "TERM_COUNT",
    "MAX_1_RURAL", "MAX_1_SERVICE", "NO_NIGHTS", "DISTINCT_SPECIALTIES",
)
STRUCTURAL = RULE_CODES[1:RULE_CODES.index("LEAVE_MAX_CONCURRENT") + 1]
# The service's own rules: they come with the instance, so every ruleset checks them.
LOCAL = RULE_CODES[RULE_CODES.index("SPAN"):RULE_CODES.index("LEAVE_BLOCKED") + 1]

# The ruleset table, restated from docs/rules.md. It is deliberately kept apart
# from the model's table (receptor_planner.rules): a mistake there must not be
# copied here, so the checker stays an independent oracle.
_AMC_PGY1 = {
    "CLINICAL_WEEKS": 47, "MIN_TERMS": (4, 10), "CATEGORIES": frozenset("ABCD"),
    "SPECIALTY_CAP": Fraction(1, 2), "SUBSPECIALTY_CAP": Fraction(1, 4),
    "SERVICE_CAP": Fraction(1, 5), "TEAM_MIN": Fraction(1, 2), "NON_CLINICAL_MAX": 0,
}
_AMC_PGY2 = {
    "CLINICAL_WEEKS": 47, "MIN_TERMS": (3, 10), "CATEGORIES": frozenset("ABC"),
    "SUBSPECIALTY_CAP": Fraction(1, 4),
    "SERVICE_CAP": Fraction(1, 4), "TEAM_MIN": Fraction(1, 2), "NON_CLINICAL_MAX": 1,
}
# name -> (the cohort it is for, or None for any; its accreditation rules)
BASE_RULESETS: dict[str, tuple[str | None, dict[str, Any]]] = {
    "UNRESTRICTED": (None, {}),
    "AMC_PGY1": ("PGY1", _AMC_PGY1),
    "AMC_PGY2": ("PGY2", _AMC_PGY2),
    "VIC_PGY1": ("PGY1", {**_AMC_PGY1, "TERM_COUNT": (5, 5)}),
    "VIC_PGY2": ("PGY2", {**_AMC_PGY2, "TERM_COUNT": (4, 4)}),
    "NSW_PGY1": ("PGY1", {**_AMC_PGY1, "TERM_COUNT": (5, 5), "MAX_1_SERVICE": True}),
    "NSW_PGY2": ("PGY2", {**_AMC_PGY2, "TERM_COUNT": (5, 5), "MAX_1_SERVICE": True}),
    "WA_PGY1": ("PGY1", _AMC_PGY1),
    "WA_PGY2": ("PGY2", {**_AMC_PGY2, "TERM_COUNT": (3, 5)}),
}
MODIFIERS = ("MAX_1_RURAL", "MAX_1_SERVICE", "NO_NIGHTS", "DISTINCT_SPECIALTIES")


@dataclass(frozen=True)
class Violation:
    rule: str
    line: int | None  # 1-based index into solution["lines"]; None for cross-line rules
    message: str
    # Where it happens, for a reader that places it (a frontend marks the term or the post); left
    # out of comparisons: the message already says it, and two reports of one fault are equal.
    term: int | None = field(default=None, compare=False)
    position: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


# ---------------------------------------------------------------- the instance

@dataclass(frozen=True)
class _Position:
    key: str
    specialty: str
    subspecialty: str | None
    categories: frozenset[str]
    capacity: tuple[int, ...]  # one per term
    min_fill: tuple[int, ...]  # one per term
    terms: frozenset[int]  # 1-based terms a line may hold it in: every term a placement covers
    starts: frozenset[int]  # terms a placement may start in (the document's ``terms``)
    span: int  # consecutive terms one placement lasts
    site: str | None
    service: bool
    nights: bool
    rural: bool
    non_clinical: bool
    excludable: bool

    @property
    def unit(self) -> str:
        """What DISTINCT_SPECIALTIES tells apart: the subspecialty when there is one, else the specialty."""
        return self.subspecialty or self.specialty


@dataclass(frozen=True)
class _Leave:
    weeks: int
    patterns: tuple[tuple[int, ...], ...]
    min_gap_weeks: int
    within_term: bool
    max_concurrent: int | None
    fixed_blocks: tuple[tuple[int, int], ...]  # (first week, last week), in date order
    blocked_weeks: frozenset[int]  # no planned block may hold one
    preferred_groups: tuple[str, ...]  # groups in whose terms planned leave should fall (soft)

    @cached_property
    def fixed_weeks(self) -> frozenset[int]:
        """The weeks of the fixed blocks: service-wide closures, not planned leave."""
        return frozenset(w for first, last in self.fixed_blocks for w in range(first, last + 1))


@dataclass(frozen=True)
class _Pin:
    line: int
    term: int
    position: str


@dataclass(frozen=True)
class _LineRule:
    name: str
    group: str
    min: int | None
    max: int | None


@dataclass(frozen=True)
class _Link:
    name: str
    when: str  # the document's ``if``
    then: tuple[str, ...]


@dataclass(frozen=True)
class _Instance:
    cohort: str
    start_date: dt.date
    term_weeks: tuple[int, ...]
    positions: dict[str, _Position]
    leave: _Leave
    pins: tuple[_Pin, ...]
    groups: dict[str, frozenset[str]]  # name -> position keys
    line_rules: tuple[_LineRule, ...]
    links: tuple[_Link, ...]
    home_site_min_terms: int | None

    @property
    def period(self) -> int:
        return sum(self.term_weeks)

    @property
    def n_terms(self) -> int:
        return len(self.term_weeks)

    @cached_property
    def _week_terms(self) -> tuple[int, ...]:
        return tuple(t for t, w in enumerate(self.term_weeks, start=1) for _ in range(w))

    def term_of(self, week: int) -> int:
        return self._week_terms[week - 1]


def _value(doc: dict, key: str, default: Any) -> Any:
    """doc[key], or default when it is absent or null (the instance convention)."""
    value = doc.get(key)
    return default if value is None else value


def _per_term(value: int | list[int], n_terms: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, list) else (value,) * n_terms


def _read_instance(doc: dict) -> _Instance:
    """Normalise an (already valid) instance document, filling the documented defaults."""
    term_weeks = tuple(doc["term_weeks"])
    n_terms = len(term_weeks)
    positions = {}
    for item in doc["positions"]:
        key = item["key"].strip()
        subspecialty = _value(item, "subspecialty", "").strip()
        span = _value(item, "span", 1)
        # For a post of several terms, ``terms`` lists where a placement may start; by default
        # every start that leaves room for the whole placement.
        starts = frozenset(_value(item, "terms", range(1, n_terms - span + 2)))
        positions[key] = _Position(
            key=key,
            specialty=item["specialty"].strip(),
            subspecialty=subspecialty or None,
            categories=frozenset(_value(item, "categories", [])),
            capacity=_per_term(item["capacity"], n_terms),
            min_fill=_per_term(_value(item, "min_fill", 0), n_terms),
            terms=frozenset(start + k for start in starts for k in range(span)),
            starts=starts,
            span=span,
            site=_value(item, "site", "").strip() or None,
            **{flag: bool(item.get(flag)) for flag in
               ("service", "nights", "rural", "non_clinical", "excludable")},
        )
    return _Instance(
        cohort=doc["cohort"],
        start_date=dt.date.fromisoformat(doc["start_date"]),
        term_weeks=term_weeks,
        positions=positions,
        leave=_read_leave(_value(doc, "leave", {})),
        pins=_read_pins(_value(doc, "pins", [])),
        groups={name: frozenset(key.strip() for key in keys) for name, keys in _value(doc, "groups", {}).items()},
        line_rules=tuple(_LineRule(rule["name"], rule["group"], rule.get("min"), rule.get("max"))
                         for rule in _value(doc, "line_rules", [])),
        links=tuple(_Link(link["name"], link["if"].strip(), tuple(key.strip() for key in link["then"]))
                    for link in _value(doc, "links", [])),
        home_site_min_terms=doc.get("home_site_min_terms"),
    )


def _read_leave(doc: dict) -> _Leave:
    weeks = _value(doc, "weeks", 5)
    fixed = tuple(sorted((b["start_week"], b["start_week"] + b["weeks"] - 1)
                         for b in _value(doc, "fixed_blocks", [])))
    free_weeks = weeks - sum(last - first + 1 for first, last in fixed)
    default_patterns = [[free_weeks]] if free_weeks else [[]]
    return _Leave(
        weeks=weeks,
        patterns=tuple(tuple(p) for p in _value(doc, "patterns", default_patterns)),
        min_gap_weeks=_value(doc, "min_gap_weeks", 0),
        within_term=_value(doc, "within_term", True),
        max_concurrent=doc.get("max_concurrent"),
        fixed_blocks=fixed,
        blocked_weeks=frozenset(_value(doc, "blocked_weeks", [])),
        preferred_groups=tuple(_value(doc, "preferred_groups", [])),
    )


def _read_pins(items: list[dict]) -> tuple[_Pin, ...]:
    pins = set()
    for item in items:
        if "positions" in item:  # a whole line: one key per term
            pins.update(_Pin(item["line"], t, key.strip())
                        for t, key in enumerate(item["positions"], start=1))
        else:
            pins.add(_Pin(item["line"], item["term"], item["position"].strip()))
    return tuple(sorted(pins, key=lambda p: (p.line, p.term)))


# ---------------------------------------------------------------- the solution

_ROTATION_FIELDS = {"kind": str, "term": int, "start_week": int, "end_week": int,
                    "start_date": str, "end_date": str}
_REQUIRED_FIELDS = ("status", "request", "lines", "metrics", "explanation")


@dataclass(frozen=True)
class _Rotation:
    index: int  # 1-based, in document order
    kind: str
    position: str | None
    term: int
    start: int
    end: int
    start_date: str
    end_date: str


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based index into solution["lines"]
    rotations: tuple[_Rotation, ...]  # the readable ones
    holds: dict[int, frozenset[str]]  # term -> position keys its clinical weeks name
    leave_weeks: frozenset[int]  # inside 1..P

    @cached_property
    def leave_blocks(self) -> tuple[tuple[int, int], ...]:
        """Runs of consecutive leave weeks, as (first, last), in date order."""
        return tuple(_runs(sorted(self.leave_weeks)))


@dataclass(frozen=True)
class _Placement:
    """One stay of a line in a post: a term, or for a post of several terms its consecutive terms."""
    position: _Position
    terms: tuple[int, ...]  # the terms it covers, consecutive

    @property
    def key(self) -> str:
        return self.position.key

    @property
    def start(self) -> int:
        return self.terms[0]

    def weeks(self, inst: _Instance) -> int:
        return sum(inst.term_weeks[t - 1] for t in self.terms)


def _placements(inst: _Instance, line: _Line) -> list[_Placement]:
    """A line's placements in term order.

    A term that holds exactly one known post continues the placement of the term before when
    it is the same post and that placement has not yet lasted the post's span; otherwise it
    starts a new one. So a span post held longer than its span is two placements, and a post of
    one term held in two consecutive terms is two placements as before. A term holding no post,
    several posts or an unknown one ends the placement before it (other rules report the term).
    """
    placements: list[_Placement] = []
    current: list[int] = []
    current_post: _Position | None = None
    for t in range(1, inst.n_terms + 1):
        keys = line.holds.get(t, frozenset())
        post = inst.positions.get(next(iter(keys))) if len(keys) == 1 else None
        if post is not None and post == current_post and len(current) < post.span:
            current.append(t)
            continue
        if current_post is not None:
            placements.append(_Placement(current_post, tuple(current)))
        current, current_post = ([t], post) if post is not None else ([], None)
    if current_post is not None:
        placements.append(_Placement(current_post, tuple(current)))
    return placements


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _rotation_problem(rot: Any) -> str | None:
    """Why a rotation cannot be read at all, or None."""
    if not isinstance(rot, dict):
        return "is not an object"
    for name, kind in _ROTATION_FIELDS.items():
        if name not in rot:
            return f"has no {name}"
        if not _is(rot[name], kind):
            return f"has {name} {rot[name]!r}, which is not {'an integer' if kind is int else 'a string'}"
    if rot["kind"] not in ("clinical", "leave"):
        return f"has kind {rot['kind']!r}; a rotation is 'clinical' or 'leave'"
    if rot.get("position") is not None and not isinstance(rot["position"], str):
        return f"has position {rot['position']!r}, which is not a string"
    return None


def _readable_lines(solution: Any) -> list[tuple[int, dict]]:
    """(number, line) for every line whose rotations can be walked."""
    lines = solution.get("lines") if isinstance(solution, dict) else None
    if not isinstance(lines, list):
        return []
    return [(n, line) for n, line in enumerate(lines, start=1)
            if isinstance(line, dict) and isinstance(line.get("rotations"), list)]


def _read_line(inst: _Instance, number: int, doc: dict) -> _Line:
    rotations = tuple(
        _Rotation(i, rot["kind"], rot.get("position") or None, rot["term"],
                  rot["start_week"], rot["end_week"], rot["start_date"], rot["end_date"])
        for i, rot in enumerate(doc["rotations"], start=1) if _rotation_problem(rot) is None)
    holds: dict[int, set[str]] = defaultdict(set)
    leave: set[int] = set()
    for rot in rotations:
        # Weeks outside 1..P belong to no term; TILING reports them.
        for week in range(max(rot.start, 1), min(rot.end, inst.period) + 1):
            if rot.kind == "leave":
                leave.add(week)
            elif rot.position is not None:
                holds[inst.term_of(week)].add(rot.position)
    return _Line(number, rotations, {t: frozenset(k) for t, k in holds.items()}, frozenset(leave))


def _resolve_rules(constraints: Any, cohort: str) -> tuple[dict[str, Any], list[str]]:
    """The rules a request names, code -> parameter (True when it has none), and its problems."""
    problems = []
    if not isinstance(constraints, list):
        problems.append(f"request.constraints must be a list of ruleset names, got {constraints!r}")
        constraints = []
    for name in constraints:
        if name not in BASE_RULESETS and name not in MODIFIERS:
            problems.append(f"request.constraints names an unknown ruleset {name!r}")
    bases = [name for name in constraints if name in BASE_RULESETS]
    if len(bases) > 1:
        problems.append(f"request.constraints names {len(bases)} base rulesets ({', '.join(bases)}); "
                        f"only {bases[0]} is checked")
    base = bases[0] if bases else "UNRESTRICTED"
    for_cohort, accreditation = BASE_RULESETS[base]
    if cohort == "PGY3+":
        accreditation = {}  # PGY3+ has no accreditation caps; its modifiers still apply
    elif for_cohort not in (None, cohort):
        problems.append(f"request.constraints names {base}, a {for_cohort} ruleset, for a {cohort} cohort")
    rules = {code: True for code in STRUCTURAL + LOCAL}
    rules.update(accreditation)
    rules.update((name, True) for name in constraints if name in MODIFIERS)
    return rules, problems


def _constraints(solution: dict) -> Any:
    request = solution.get("request")
    return request.get("constraints", ["UNRESTRICTED"]) if isinstance(request, dict) else ["UNRESTRICTED"]


@dataclass
class _Context:
    inst: _Instance
    lines: list[_Line]  # the readable lines
    n_lines: int  # lines in the document, readable or not
    rules: dict[str, Any]

    @cached_property
    def held(self) -> Counter[tuple[str, int]]:
        """(position, term) -> lines holding it."""
        return Counter((key, t) for line in self.lines for t, keys in line.holds.items() for key in keys)

    def placed(self, line: _Line) -> list[tuple[int, _Position]]:
        """(term, position) for each term in which the line holds exactly one known position."""
        return [(t, self.inst.positions[key]) for t, keys in sorted(line.holds.items())
                for key in keys if len(keys) == 1 and key in self.inst.positions]

    def weeks(self, placed: Iterable[tuple[int, _Position]]) -> int:
        return sum(self.inst.term_weeks[t - 1] for t, _ in placed)

    @cached_property
    def _placements_of(self) -> dict[int, list[_Placement]]:
        return {line.number: _placements(self.inst, line) for line in self.lines}

    def placements(self, line: _Line) -> list[_Placement]:
        """The line's placements in term order: what the count rules count."""
        return self._placements_of[line.number]


# ---------------------------------------------------------------- public API

def check(instance: dict, solution: dict) -> list[Violation]:
    """Every violation of the solution against the instance, ordered by rule then line."""
    inst = _read_instance(instance)
    violations = list(check_format(inst, solution))
    if isinstance(solution, dict) and solution.get("status") not in (None, "COMPLETED"):
        # a run that did not complete writes no lines, and there is nothing else to check
        if solution.get("lines"):
            violations.append(Violation("FORMAT", None, f"a {solution['status']} solution holds lines"))
    elif isinstance(solution, dict) and isinstance(solution.get("lines"), list):
        rules, _ = _resolve_rules(_constraints(solution), inst.cohort)
        lines = [_read_line(inst, n, doc) for n, doc in _readable_lines(solution)]
        ctx = _Context(inst, lines, len(solution["lines"]), rules)
        for code, rule_check in _CHECKS.items():
            if code in rules:
                violations.extend(rule_check(ctx))
    return sorted(violations, key=lambda v: (RULE_CODES.index(v.rule), v.line or 0))


# The code of a metric the solution reports that its own lines contradict. Not a rule of
# docs/rules.md: the lines may keep every rule while the report about them is wrong.
METRICS = "METRICS"
# The metrics a solve reports about its lines, each recomputed here from the lines alone.
REPORTED_METRICS = ("lines_built", "unfilled_total", "duplicate_lines", "hamming_min", "hamming_mean")
# Reported, and so compared, only when the instance names preferred_groups.
PREFERENCE_METRICS = ("leave_preferred_share",)
_ROUNDED = ("hamming_mean", "leave_preferred_share")
_MEAN_DECIMALS = 3  # the _ROUNDED metrics are reported rounded to this many decimals


def check_metrics(instance: dict, solution: dict) -> list[Violation]:
    """Each metric a COMPLETED solution reports that its lines contradict, as a METRICS finding.

    Restated from their definitions, not from the solver's code: lines_built counts the lines;
    unfilled_total sums, over every post and term, the places short of min_fill; duplicate_lines
    counts lines whose post sequence another line already has; hamming_min and hamming_mean are
    the smallest and mean number of terms in which two lines hold different posts (null for fewer
    than two lines; the mean rounded to three decimals). When the leave names preferred_groups,
    leave_preferred_share is the share of planned (not fixed) leave weeks, over all lines, that fall
    in a term where the line holds a post of one of those groups (null without planned leave;
    rounded to three decimals).
    """
    if not isinstance(solution, dict) or solution.get("status") != "COMPLETED" \
            or not isinstance(solution.get("lines"), list):
        return []  # only a completed solution holds lines to measure; check() reports the rest
    reported = solution.get("metrics")
    if not isinstance(reported, dict):
        return [Violation(METRICS, None, "the solution reports no metrics object")]
    inst = _read_instance(instance)
    lines = [_read_line(inst, n, doc) for n, doc in _readable_lines(solution)]
    # A term holding anything but exactly one post reads as None; ONE_POSITION_PER_TERM reports it.
    posts = [tuple(next(iter(line.holds[t])) if len(line.holds.get(t, ())) == 1 else None
                   for t in range(1, inst.n_terms + 1)) for line in lines]
    actual = {"lines_built": len(solution["lines"]), "unfilled_total": _unfilled_total(inst, posts),
              "duplicate_lines": len(posts) - len(set(posts)),
              "hamming_min": _smallest_distance(posts), "hamming_mean": _mean_distance(posts),
              "leave_preferred_share": _leave_preferred_share(inst, lines)}
    compared = REPORTED_METRICS + (PREFERENCE_METRICS if inst.leave.preferred_groups else ())
    found = []
    for name in compared:
        if name not in reported:
            found.append(Violation(METRICS, None, f"the solution does not report {name}"))
        elif not _same_metric(name, reported[name], actual[name]):
            found.append(Violation(METRICS, None, f"the solution reports {name} {reported[name]!r}, but its "
                                                  f"lines give {_metric_text(actual[name])}"))
    return found


def check_all(instance: dict, solution: dict) -> list[Violation]:
    """Every rule the solution breaks and every metric it misreports: the gate before any write."""
    return check(instance, solution) + check_metrics(instance, solution)


def _leave_preferred_share(inst: _Instance, lines: list[_Line]) -> Fraction | None:
    preferred = frozenset().union(*(inst.groups.get(name, frozenset()) for name in inst.leave.preferred_groups))
    planned = [(line, week) for line in lines for week in sorted(line.leave_weeks - inst.leave.fixed_weeks)]
    if not preferred or not planned:
        return None
    in_preferred = sum(1 for line, week in planned if line.holds.get(inst.term_of(week), frozenset()) & preferred)
    return Fraction(in_preferred, len(planned))


def _unfilled_total(inst: _Instance, posts: list[tuple]) -> int:
    held = Counter((key, t) for line in posts for t, key in enumerate(line, start=1))
    return sum(max(0, need - held[(key, t)]) for key, pos in inst.positions.items()
               for t, need in enumerate(pos.min_fill, start=1))


def _smallest_distance(posts: list[tuple]) -> int | None:
    """The fewest terms in which two lines differ: the number of terms less the most in which two agree.

    Two lines agree in at least k terms exactly when, for some set of k terms, they hold the same
    posts in it. That is monotone in k, so k rises until no set of k terms makes two lines collide:
    a few passes over the lines instead of comparing every pair (which it falls back to when the
    passes would cost more).
    """
    if len(posts) < 2:
        return None
    n_terms = len(posts[0])
    if len(set(posts)) < len(posts):
        return 0
    pairs = len(posts) * (len(posts) - 1) // 2
    most_agreed = 0
    for k in range(1, n_terms):
        if sum(comb(n_terms, j) for j in range(1, k + 1)) * len(posts) > pairs:
            return min(sum(a != b for a, b in zip(x, y)) for x, y in combinations(posts, 2))
        if not any(_collide(posts, terms) for terms in combinations(range(n_terms), k)):
            break
        most_agreed = k
    return n_terms - most_agreed


def _collide(posts: list[tuple], terms: tuple[int, ...]) -> bool:
    """Whether two lines hold the same posts in every one of ``terms``."""
    seen = set()
    for line in posts:
        key = tuple(line[t] for t in terms)
        if key in seen:
            return True
        seen.add(key)
    return False


def _mean_distance(posts: list[tuple]) -> Fraction | None:
    """Mean over pairs of lines of the terms in which they differ: per term, every pair differs
    except the pairs holding the same post, so the counts per post and term give it exactly."""
    n = len(posts)
    if n < 2:
        return None
    pairs = n * (n - 1) // 2
    differing = 0
    for t in range(len(posts[0])):
        differing += pairs - sum(c * (c - 1) // 2 for c in Counter(line[t] for line in posts).values())
    return Fraction(differing, pairs)


def _same_metric(name: str, reported: Any, actual: Any) -> bool:
    if actual is None or reported is None:
        return actual is None and reported is None
    if not isinstance(reported, (int, float)) or isinstance(reported, bool):
        return False
    if name in _ROUNDED:  # reported rounded: equal when within half its last decimal
        # (plus a hair for the float the rounding produced)
        return abs(Fraction(reported) - actual) <= Fraction(1, 2 * 10 ** _MEAN_DECIMALS) + Fraction(1, 10 ** 9)
    return reported == actual


def _metric_text(value: Any) -> str:
    return f"{float(value):.{_MEAN_DECIMALS}f}" if isinstance(value, Fraction) else repr(value)


def summarize(violations: list[Violation]) -> str:
    """A human-readable report: a count per rule, then one violation per row."""
    if not violations:
        return "no violations"
    counts = Counter(v.rule for v in violations)
    head = f"{len(violations)} {_plural(len(violations), 'violation')}: " + \
        ", ".join(f"{rule} {n}" for rule, n in counts.items())
    return "\n".join([head, *(f"  {v}" for v in violations)])


# ---------------------------------------------------------------- document

def check_format(inst: _Instance, solution: Any) -> Iterator[Violation]:
    """The solution document has the solution@1 shape, names known positions and a valid ruleset."""
    if not isinstance(solution, dict):
        yield Violation("FORMAT", None, "the solution document is not a JSON object")
        return
    if solution.get("format") != SOLUTION_FORMAT:
        yield Violation("FORMAT", None, f"format is {solution.get('format')!r}, not {SOLUTION_FORMAT!r}")
    for name in _REQUIRED_FIELDS:
        if name not in solution:
            yield Violation("FORMAT", None, f"the solution has no {name}")
    if "request" in solution and not isinstance(solution["request"], dict):
        yield Violation("FORMAT", None, "request is not an object")
    for problem in _resolve_rules(_constraints(solution), inst.cohort)[1]:
        yield Violation("FORMAT", None, problem)
    lines = solution.get("lines")
    if "lines" in solution and not isinstance(lines, list):
        yield Violation("FORMAT", None, "lines is not a list")
        return
    for n, line in enumerate(lines or [], start=1):
        if not isinstance(line, dict) or not isinstance(line.get("rotations"), list):
            yield Violation("FORMAT", n, f"line {n} is not an object with a list of rotations; "
                                         "it is not checked further")
            continue
        if not isinstance(line.get("name"), str):
            yield Violation("FORMAT", n, f"line {n} has no name")
        for i, rot in enumerate(line["rotations"], start=1):
            problem = _rotation_problem(rot)
            if problem is not None:
                yield Violation("FORMAT", n, f"line {n} rotation {i} {problem}; it is ignored")
            elif rot.get("position") and rot["position"] not in inst.positions:
                yield Violation("FORMAT", n, f"line {n} rotation {i} names an unknown position "
                                             f"{rot['position']!r}")


# ---------------------------------------------------------------- structural rules

def check_one_position_per_term(ctx: _Context) -> Iterator[Violation]:
    """Every line holds exactly one position in every term."""
    for line in ctx.lines:
        for t in range(1, ctx.inst.n_terms + 1):
            keys = line.holds.get(t, frozenset())
            if not keys:
                yield Violation("ONE_POSITION_PER_TERM", line.number,
                                f"line {line.number} holds no position in term {t}", t)
            elif len(keys) > 1:
                yield Violation("ONE_POSITION_PER_TERM", line.number,
                                f"line {line.number} holds {len(keys)} positions in term {t}: "
                                f"{', '.join(sorted(keys))}", t)


def check_tiling(ctx: _Context) -> Iterator[Violation]:
    """Rotations cover weeks 1..P once, each inside one term, with the right term, dates and kind."""
    period = ctx.inst.period
    for line in ctx.lines:
        cover: Counter[int] = Counter()
        for rot in line.rotations:
            for problem in _rotation_tiling_problems(ctx.inst, rot):
                yield Violation("TILING", line.number,
                                f"line {line.number} rotation {rot.index} (weeks {rot.start}-{rot.end}) {problem}",
                                _term_of(ctx.inst, rot.start))
            cover.update(range(max(rot.start, 1), min(rot.end, period) + 1))
        weeks = range(1, period + 1)
        for first, last in _runs([w for w in weeks if cover[w] == 0]):
            yield Violation("TILING", line.number, f"line {line.number} does not cover {_weeks(first, last)}",
                            _term_of(ctx.inst, first))
        for first, last in _runs([w for w in weeks if cover[w] > 1]):
            yield Violation("TILING", line.number,
                            f"line {line.number} covers {_weeks(first, last)} more than once",
                            _term_of(ctx.inst, first))


def _rotation_tiling_problems(inst: _Instance, rot: _Rotation) -> Iterator[str]:
    if rot.kind == "clinical" and rot.position is None:
        yield "is clinical but names no position"
    if rot.kind == "leave" and rot.position is not None:
        yield f"is leave but names position {rot.position}"
    if rot.start > rot.end:
        yield "ends before it starts"
        return
    if rot.start < 1 or rot.end > inst.period:
        yield f"lies outside the period, weeks 1-{inst.period}"
        return  # its term and dates are meaningless (and may not even be valid dates)
    first_term, last_term = inst.term_of(rot.start), inst.term_of(rot.end)
    if rot.term != first_term:
        yield f"says term {rot.term} but starts in term {first_term}"
    if last_term != first_term:
        yield f"crosses from term {first_term} into term {last_term}"
    start_date = inst.start_date + dt.timedelta(weeks=rot.start - 1)
    end_date = inst.start_date + dt.timedelta(weeks=rot.end, days=-1)
    if rot.start_date != start_date.isoformat():
        yield f"has start_date {rot.start_date}, not {start_date.isoformat()}"
    if rot.end_date != end_date.isoformat():
        yield f"has end_date {rot.end_date}, not {end_date.isoformat()}"


def check_no_repeat_position(ctx: _Context) -> Iterator[Violation]:
    """A position is one placement of a line at most."""
    for line in ctx.lines:
        placements_of: dict[str, list[_Placement]] = defaultdict(list)
        for placement in ctx.placements(line):
            placements_of[placement.key].append(placement)
        for key, placements in sorted(placements_of.items()):
            if len(placements) > 1:
                yield Violation("NO_REPEAT_POSITION", line.number,
                                f"line {line.number} holds {key} in {_where(placements)}",
                                placements[1].start, key)


def check_availability(ctx: _Context) -> Iterator[Violation]:
    """A position is used only in the terms it is offered in (for a span post, the terms its
    allowed placements cover)."""
    for line in ctx.lines:
        # A placement of a span post in a term no allowed placement covers starts or ends where
        # none may: SPAN reports that fault once, for the whole placement.
        judged_by_span = {(p.key, t) for p in ctx.placements(line) if p.position.span > 1 for t in p.terms}
        for t, keys in sorted(line.holds.items()):
            for key in sorted(keys):
                pos = ctx.inst.positions.get(key)
                if pos is not None and t not in pos.terms and (key, t) not in judged_by_span:
                    yield Violation("AVAILABILITY", line.number,
                                    f"line {line.number} holds {key} in term {t}, but it is offered "
                                    f"only in terms {_list(sorted(pos.terms))}", t, key)


def check_capacity(ctx: _Context) -> Iterator[Violation]:
    """Per position and term, lines holding it <= capacity."""
    for (key, t), count in sorted(ctx.held.items()):
        pos = ctx.inst.positions.get(key)
        if pos is not None and count > pos.capacity[t - 1]:
            yield Violation("CAPACITY", None, f"position {key} term {t} holds {count} "
                                              f"{_plural(count, 'line')}, capacity {pos.capacity[t - 1]}", t, key)


def check_min_fill(ctx: _Context) -> Iterator[Violation]:
    """Per position and term, lines holding it >= min_fill, except for excludable posts."""
    for key, pos in sorted(ctx.inst.positions.items()):
        if pos.excludable:
            continue  # its shortfall is reported as unfilled, not as a violation
        for t, need in enumerate(pos.min_fill, start=1):
            count = ctx.held[(key, t)]
            if count < need:
                yield Violation("MIN_FILL", None, f"position {key} term {t} holds {count} "
                                                  f"{_plural(count, 'line')}, min_fill {need}", t, key)


def check_pin(ctx: _Context) -> Iterator[Violation]:
    """Every pinned placement (line, term, position) is kept."""
    for n in sorted({pin.line for pin in ctx.inst.pins if pin.line > ctx.n_lines}):
        yield Violation("PIN", None, f"line {n} is pinned but was not built "
                                     f"({ctx.n_lines} {_plural(ctx.n_lines, 'line')} built)")
    lines = {line.number: line for line in ctx.lines}
    for pin in ctx.inst.pins:
        line = lines.get(pin.line)
        if line is not None and line.holds.get(pin.term) != {pin.position}:
            held = ", ".join(sorted(line.holds.get(pin.term, ()))) or "no position"
            yield Violation("PIN", pin.line, f"line {pin.line} term {pin.term} is pinned to "
                                             f"{pin.position} but holds {held}", pin.term, pin.position)


def check_leave_weeks(ctx: _Context) -> Iterator[Violation]:
    """A line's leave weeks total leave.weeks."""
    for line in ctx.lines:
        if len(line.leave_weeks) != ctx.inst.leave.weeks:
            yield Violation("LEAVE_WEEKS", line.number, f"line {line.number} has {len(line.leave_weeks)} "
                                                        f"leave weeks, not {ctx.inst.leave.weeks}")


def check_leave_pattern(ctx: _Context) -> Iterator[Violation]:
    """A line holds every fixed block exactly, and its other blocks, in date order, follow a pattern."""
    leave = ctx.inst.leave
    for line in ctx.lines:
        for first, last in leave.fixed_blocks:
            if (first, last) not in line.leave_blocks:
                yield Violation("LEAVE_PATTERN", line.number, f"line {line.number} does not hold the "
                                                              f"fixed leave block {_weeks(first, last)} exactly",
                                _term_of(ctx.inst, first))
        lengths = tuple(last - first + 1 for first, last in line.leave_blocks
                        if (first, last) not in leave.fixed_blocks)
        if lengths not in leave.patterns:
            yield Violation("LEAVE_PATTERN", line.number,
                            f"line {line.number} has leave blocks of {list(lengths)} weeks outside fixed "
                            f"blocks; the allowed patterns are {_list(list(p) for p in leave.patterns)}")


def check_leave_gap(ctx: _Context) -> Iterator[Violation]:
    """Between two consecutive leave blocks of a line lie at least min_gap_weeks weeks."""
    min_gap = ctx.inst.leave.min_gap_weeks
    for line in ctx.lines:
        for (first1, last1), (first2, last2) in zip(line.leave_blocks, line.leave_blocks[1:]):
            gap = first2 - last1 - 1
            if gap < min_gap:
                yield Violation("LEAVE_GAP", line.number,
                                f"line {line.number} has {gap} {_plural(gap, 'week')} between leave "
                                f"{_weeks(first1, last1)} and {_weeks(first2, last2)}, fewer than {min_gap}",
                                _term_of(ctx.inst, first2))


def check_leave_within_term(ctx: _Context) -> Iterator[Violation]:
    """With within_term, every leave block lies inside one term."""
    if not ctx.inst.leave.within_term:
        return
    for line in ctx.lines:
        for first, last in line.leave_blocks:
            if ctx.inst.term_of(first) != ctx.inst.term_of(last):
                yield Violation("LEAVE_WITHIN_TERM", line.number,
                                f"line {line.number} leave {_weeks(first, last)} crosses from term "
                                f"{ctx.inst.term_of(first)} into term {ctx.inst.term_of(last)}",
                                ctx.inst.term_of(first))


def check_leave_max_concurrent(ctx: _Context) -> Iterator[Violation]:
    """Per week, lines on leave outside fixed blocks <= max_concurrent."""
    cap = ctx.inst.leave.max_concurrent
    if cap is None:
        return
    # Fixed blocks are service-wide closures: nobody on them needs relief cover.
    on_leave = Counter(w for line in ctx.lines for w in line.leave_weeks - ctx.inst.leave.fixed_weeks)
    for week, count in sorted(on_leave.items()):
        if count > cap:
            yield Violation("LEAVE_MAX_CONCURRENT", None,
                            f"week {week} has {count} lines on leave outside fixed blocks, max_concurrent {cap}",
                            _term_of(ctx.inst, week))


# ---------------------------------------------------------------- the service's own rules

def check_span(ctx: _Context) -> Iterator[Violation]:
    """A post of several terms is held for exactly its span of consecutive terms, from an allowed start."""
    for line in ctx.lines:
        for p in ctx.placements(line):
            post = p.position
            if post.span == 1:
                continue  # a one-term post offered where it is held is AVAILABILITY's business
            if len(p.terms) != post.span:
                yield Violation("SPAN", line.number,
                                f"line {line.number} holds {p.key} in {_where([p])} only; a placement of "
                                f"{p.key} lasts {post.span} consecutive terms", p.start, p.key)
            if p.start not in post.starts:
                yield Violation("SPAN", line.number,
                                f"line {line.number} holds {p.key} from term {p.start}; a placement of {p.key} "
                                f"starts only in {_plural(len(post.starts), 'term')} {_list(sorted(post.starts))}",
                                p.start, p.key)


def check_line_rule(ctx: _Context) -> Iterator[Violation]:
    """Every line holds between min and max placements of each line rule's group."""
    for rule in ctx.inst.line_rules:
        members = ctx.inst.groups.get(rule.group, frozenset())
        for line in ctx.lines:
            placements = [p for p in ctx.placements(line) if p.key in members]
            count = len(placements)
            held = f"{count} {_plural(count, 'placement')} of group {rule.group}"
            if count:
                held += " (" + ", ".join(f"{p.key} in {_where([p])}" for p in placements) + ")"
            if rule.min is not None and count < rule.min:
                yield Violation("LINE_RULE", line.number,
                                f"line {line.number} holds {held}; {rule.name} needs at least {rule.min}")
            if rule.max is not None and count > rule.max:
                extra = placements[rule.max]
                yield Violation("LINE_RULE", line.number,
                                f"line {line.number} holds {held}; {rule.name} allows at most {rule.max}",
                                extra.start, extra.key)


def check_link(ctx: _Context) -> Iterator[Violation]:
    """A line holding a link's ``if`` post also holds one of its ``then`` posts."""
    for link in ctx.inst.links:
        for line in ctx.lines:
            held: dict[str, _Placement] = {}
            for p in ctx.placements(line):
                held.setdefault(p.key, p)
            start = held.get(link.when)
            if start is not None and not set(link.then) & set(held):
                yield Violation("LINK", line.number,
                                f"line {line.number} holds {link.when} in {_where([start])} but none of "
                                f"{_list(link.then)}; {link.name} needs one of them", start.start, link.when)


def check_home_site(ctx: _Context) -> Iterator[Violation]:
    """With home_site_min_terms, every line holds posts of one site in at least that many terms."""
    needed = ctx.inst.home_site_min_terms
    if needed is None:
        return
    for line in ctx.lines:
        terms_at: dict[str, list[int]] = defaultdict(list)
        for t, pos in ctx.placed(line):
            if pos.site is not None:
                terms_at[pos.site].append(t)
        # the site holding the most terms; the first by name on a tie, so the message is stable
        site, terms = max(sorted(terms_at.items()), key=lambda item: len(item[1]), default=(None, []))
        if len(terms) < needed:
            most = (f"at most {len(terms)} {_plural(len(terms), 'term')} at one site "
                    f"({site}: {_plural(len(terms), 'term')} {_list(terms)})") if site else "no term at a site"
            yield Violation("HOME_SITE", line.number, f"line {line.number} spends {most}; home_site_min_terms "
                                                      f"needs {needed} terms at one site")


def check_leave_blocked(ctx: _Context) -> Iterator[Violation]:
    """No planned (not fixed) leave week is one of leave.blocked_weeks."""
    leave = ctx.inst.leave
    if not leave.blocked_weeks:
        return
    for line in ctx.lines:
        for first, last in _runs(sorted(line.leave_weeks - leave.fixed_weeks)):
            blocked = sorted(leave.blocked_weeks.intersection(range(first, last + 1)))
            if blocked:
                yield Violation("LEAVE_BLOCKED", line.number,
                                f"line {line.number} plans leave in {_weeks(first, last)}, which holds blocked "
                                f"{_plural(len(blocked), 'week')} {_list(blocked)}", _term_of(ctx.inst, blocked[0]))


# ---------------------------------------------------------------- accreditation rules

def check_clinical_weeks(ctx: _Context) -> Iterator[Violation]:
    """P minus a line's leave weeks >= the ruleset's minimum."""
    minimum = ctx.rules["CLINICAL_WEEKS"]
    for line in ctx.lines:
        clinical = ctx.inst.period - len(line.leave_weeks)
        if clinical < minimum:
            yield Violation("CLINICAL_WEEKS", line.number,
                            f"line {line.number} has {clinical} clinical weeks, fewer than {minimum}")


def check_min_terms(ctx: _Context) -> Iterator[Violation]:
    """Placements of at least the ruleset's weeks in clinical (not non_clinical) posts >= the minimum."""
    minimum, weeks = ctx.rules["MIN_TERMS"]
    for line in ctx.lines:
        count = len(_counted_placements(ctx, line))
        if count < minimum:
            yield Violation("MIN_TERMS", line.number,
                            f"line {line.number} has {count} clinical {_plural(count, 'placement')} of at least "
                            f"{weeks} weeks, fewer than {minimum}")


def _counted_placements(ctx: _Context, line: _Line) -> list[_Placement]:
    """The clinical placements MIN_TERMS counts: of at least its weeks (all of them without MIN_TERMS).
    A placement's weeks are those of every term it covers, leave included."""
    weeks = ctx.rules["MIN_TERMS"][1] if "MIN_TERMS" in ctx.rules else 0
    return [p for p in ctx.placements(line) if not p.position.non_clinical and p.weeks(ctx.inst) >= weeks]


def check_categories(ctx: _Context) -> Iterator[Violation]:
    """Every required category is among the categories of some placement's position."""
    required = ctx.rules["CATEGORIES"]
    for line in ctx.lines:
        covered = set().union(*(p.position.categories for p in ctx.placements(line)))
        missing = sorted(required - covered)
        if missing:
            yield Violation("CATEGORIES", line.number,
                            f"line {line.number} covers no term in {_plural(len(missing), 'category')} "
                            f"{', '.join(missing)}")


def check_specialty_cap(ctx: _Context) -> Iterator[Violation]:
    """For each parent specialty, weeks in it <= the cap fraction of P."""
    yield from _group_caps(ctx, "SPECIALTY_CAP", "specialty", lambda pos: pos.specialty)


def check_subspecialty_cap(ctx: _Context) -> Iterator[Violation]:
    """For each non-null subspecialty, weeks in it <= the cap fraction of P."""
    yield from _group_caps(ctx, "SUBSPECIALTY_CAP", "subspecialty", lambda pos: pos.subspecialty)


def _group_caps(ctx: _Context, code: str, what: str,
                group_of: Callable[[_Position], str | None]) -> Iterator[Violation]:
    cap = ctx.rules[code]
    for line in ctx.lines:
        weeks: Counter[str] = Counter()
        for t, pos in ctx.placed(line):
            if group_of(pos) is not None:
                weeks[group_of(pos)] += ctx.inst.term_weeks[t - 1]
        for group, count in sorted(weeks.items()):
            if count > cap * ctx.inst.period:
                yield Violation(code, line.number, f"line {line.number} spends {count} weeks in {what} "
                                                   f"{group}, more than {_share(cap, ctx.inst.period)}")


def check_service_cap(ctx: _Context) -> Iterator[Violation]:
    """Weeks in service posts <= the cap fraction of P."""
    cap = ctx.rules["SERVICE_CAP"]
    for line in ctx.lines:
        weeks = ctx.weeks((t, pos) for t, pos in ctx.placed(line) if pos.service)
        if weeks > cap * ctx.inst.period:
            yield Violation("SERVICE_CAP", line.number, f"line {line.number} spends {weeks} weeks in "
                                                        f"service posts, more than {_share(cap, ctx.inst.period)}")


def check_team_min(ctx: _Context) -> Iterator[Violation]:
    """Weeks in positions neither service nor non_clinical >= the fraction of P."""
    share = ctx.rules["TEAM_MIN"]
    for line in ctx.lines:
        weeks = ctx.weeks((t, pos) for t, pos in ctx.placed(line) if not (pos.service or pos.non_clinical))
        if weeks < share * ctx.inst.period:
            yield Violation("TEAM_MIN", line.number, f"line {line.number} spends {weeks} weeks in team "
                                                     f"posts, fewer than {_share(share, ctx.inst.period)}")


def check_non_clinical_max(ctx: _Context) -> Iterator[Violation]:
    """Placements in non_clinical positions <= the maximum."""
    maximum = ctx.rules["NON_CLINICAL_MAX"]
    for line in ctx.lines:
        placements = [p for p in ctx.placements(line) if p.position.non_clinical]
        if len(placements) > maximum:
            yield Violation("NON_CLINICAL_MAX", line.number,
                            f"line {line.number} holds non-clinical posts in {_where(placements)}, "
                            f"more than {maximum}", placements[maximum].start)


def check_term_count(ctx: _Context) -> Iterator[Violation]:
    """The number of terms lies in the ruleset's range."""
    low, high = ctx.rules["TERM_COUNT"]
    if not low <= ctx.inst.n_terms <= high:
        wanted = f"exactly {low}" if low == high else f"{low} to {high}"
        yield Violation("TERM_COUNT", None, f"the year has {ctx.inst.n_terms} terms; the ruleset needs {wanted}")


# ---------------------------------------------------------------- modifiers

def check_max_1_rural(ctx: _Context) -> Iterator[Violation]:
    """At most one placement of a line is in a rural position."""
    yield from _at_most_one(ctx, "MAX_1_RURAL", "rural", lambda pos: pos.rural)


def check_max_1_service(ctx: _Context) -> Iterator[Violation]:
    """At most one placement of a line is in a service position."""
    yield from _at_most_one(ctx, "MAX_1_SERVICE", "service", lambda pos: pos.service)


def _at_most_one(ctx: _Context, code: str, what: str,
                 flagged: Callable[[_Position], bool]) -> Iterator[Violation]:
    for line in ctx.lines:
        placements = [p for p in ctx.placements(line) if flagged(p.position)]
        if len(placements) > 1:
            yield Violation(code, line.number,
                            f"line {line.number} holds {what} posts in {_where(placements)}; "
                            "at most one placement is allowed", placements[1].start)


def check_no_nights(ctx: _Context) -> Iterator[Violation]:
    """No placement of a line is in a nights position."""
    for line in ctx.lines:
        for p in ctx.placements(line):
            if p.position.nights:
                yield Violation("NO_NIGHTS", line.number,
                                f"line {line.number} holds the nights post {p.key} in {_where([p])}", p.start, p.key)


def check_distinct_specialties(ctx: _Context) -> Iterator[Violation]:
    """The placements MIN_TERMS counts are in pairwise different units (subspecialty, else specialty)."""
    for line in ctx.lines:
        by_unit: dict[str, list[_Placement]] = defaultdict(list)
        for p in _counted_placements(ctx, line):
            by_unit[p.position.unit].append(p)
        for unit, placements in sorted(by_unit.items()):
            if len(placements) > 1:
                held = ", ".join(f"{p.key} in {_where([p])}" for p in placements)
                yield Violation("DISTINCT_SPECIALTIES", line.number,
                                f"line {line.number} holds {len(placements)} placements in {unit} ({held}); "
                                "DISTINCT_SPECIALTIES allows one",
                                placements[1].start, placements[1].key)


_CHECKS: dict[str, Callable[[_Context], Iterator[Violation]]] = {
    "ONE_POSITION_PER_TERM": check_one_position_per_term,
    "TILING": check_tiling,
    "NO_REPEAT_POSITION": check_no_repeat_position,
    "AVAILABILITY": check_availability,
    "CAPACITY": check_capacity,
    "MIN_FILL": check_min_fill,
    "PIN": check_pin,
    "LEAVE_WEEKS": check_leave_weeks,
    "LEAVE_PATTERN": check_leave_pattern,
    "LEAVE_GAP": check_leave_gap,
    "LEAVE_WITHIN_TERM": check_leave_within_term,
    "LEAVE_MAX_CONCURRENT": check_leave_max_concurrent,
    "SPAN": check_span,
    "LINE_RULE": check_line_rule,
    "LINK": check_link,
    "HOME_SITE": check_home_site,
    "LEAVE_BLOCKED": check_leave_blocked,
    "CLINICAL_WEEKS": check_clinical_weeks,
    "MIN_TERMS": check_min_terms,
    "CATEGORIES": check_categories,
    "SPECIALTY_CAP": check_specialty_cap,
    "SUBSPECIALTY_CAP": check_subspecialty_cap,
    "SERVICE_CAP": check_service_cap,
    "TEAM_MIN": check_team_min,
    "NON_CLINICAL_MAX": check_non_clinical_max,
    "TERM_COUNT": check_term_count,
    "MAX_1_RURAL": check_max_1_rural,
    "MAX_1_SERVICE": check_max_1_service,
    "NO_NIGHTS": check_no_nights,
    "DISTINCT_SPECIALTIES": check_distinct_specialties,
}


def _term_of(inst: _Instance, week: int) -> int | None:
    """The term of a week, or None for a week outside the period."""
    return inst.term_of(week) if 1 <= week <= inst.period else None


# ---------------------------------------------------------------- wording

def _runs(weeks: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted weeks as maximal runs of consecutive weeks, (first, last)."""
    start = None
    for prev, week in zip([None, *weeks], weeks):
        if prev is None or week != prev + 1:
            if start is not None:
                yield start, prev
            start = week
    if start is not None:
        yield start, weeks[-1]


def _weeks(first: int, last: int) -> str:
    return f"week {first}" if first == last else f"weeks {first}-{last}"


def _where(placements: list[_Placement]) -> str:
    """The terms of placements, one item each: "term 4", "terms 2, 5", "terms 1-2, 4"."""
    items = [str(p.start) if len(p.terms) == 1 else f"{p.start}-{p.terms[-1]}" for p in placements]
    single = len(placements) == 1 and len(placements[0].terms) == 1
    return f"{'term' if single else 'terms'} {_list(items)}"


def _list(items: Iterable[Any]) -> str:
    return ", ".join(str(item) for item in items)


def _plural(count: int, word: str) -> str:
    if count == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def _number(value: Fraction) -> str:
    """A fraction for a message only; every comparison stays exact."""
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def _share(fraction: Fraction, period: int) -> str:
    return f"{_number(fraction * 100)}% of {period} weeks ({_number(fraction * period)})"
