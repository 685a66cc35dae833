"""Rulesets: which accreditation rules a planner run obeys, with their parameters.

Parameters are data, not code: where a rule is unconfirmed (NSW's single
service term) it is a parameter of the ruleset, never a constant in the model.
See docs/rules.md for each rule's formula and source.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction


class RuleError(ValueError):
    """A ruleset list that cannot be applied."""


@dataclass(frozen=True)
class Rules:
    """The effective rules of one planner run. ``None`` switches a rule off."""

    clinical_weeks_min: int | None = None
    min_terms: int | None = None
    min_term_weeks: int = 0  # a term counts toward min_terms if it lasts this long
    categories: tuple[str, ...] = ()
    specialty_cap: Fraction | None = None
    subspecialty_cap: Fraction | None = None
    service_cap: Fraction | None = None
    team_min: Fraction | None = None
    non_clinical_max: int | None = None
    term_count: tuple[int, int] | None = None
    max_rural_terms: int | None = None
    max_service_terms: int | None = None
    no_nights: bool = False
    distinct_specialties: bool = False  # the placements min_terms counts are in different units
    names: tuple[str, ...] = field(default=(), compare=False)

    def as_dict(self) -> dict:
        """The parameters as reported in result metadata."""
        out: dict = {"constraints": list(self.names)}
        for name in ("clinical_weeks_min", "min_terms", "min_term_weeks", "non_clinical_max", "max_rural_terms",
                     "max_service_terms", "no_nights", "distinct_specialties"):
            out[name] = getattr(self, name)
        out["categories"] = list(self.categories)
        for name in ("specialty_cap", "subspecialty_cap", "service_cap", "team_min"):
            value = getattr(self, name)
            out[name] = None if value is None else float(value)
        out["term_count"] = list(self.term_count) if self.term_count else None
        return out


_AMC_PGY1 = Rules(clinical_weeks_min=47, min_terms=4, min_term_weeks=10, categories=("A", "B", "C", "D"),
                  specialty_cap=Fraction(1, 2), subspecialty_cap=Fraction(1, 4),
                  service_cap=Fraction(1, 5), team_min=Fraction(1, 2), non_clinical_max=0)
_AMC_PGY2 = Rules(clinical_weeks_min=47, min_terms=3, min_term_weeks=10, categories=("A", "B", "C"),
                  specialty_cap=None, subspecialty_cap=Fraction(1, 4),
                  service_cap=Fraction(1, 4), team_min=Fraction(1, 2), non_clinical_max=1)

# name -> (cohort it is written for, rules)
BASE_RULESETS: dict[str, tuple[str | None, Rules]] = {
    "UNRESTRICTED": (None, Rules()),
    "AMC_PGY1": ("PGY1", _AMC_PGY1),
    "AMC_PGY2": ("PGY2", _AMC_PGY2),
    "VIC_PGY1": ("PGY1", replace(_AMC_PGY1, term_count=(5, 5))),
    "VIC_PGY2": ("PGY2", replace(_AMC_PGY2, term_count=(4, 4))),
    "NSW_PGY1": ("PGY1", replace(_AMC_PGY1, term_count=(5, 5), max_service_terms=1)),
    "NSW_PGY2": ("PGY2", replace(_AMC_PGY2, term_count=(5, 5), max_service_terms=1)),
    "WA_PGY1": ("PGY1", _AMC_PGY1),
    "WA_PGY2": ("PGY2", replace(_AMC_PGY2, term_count=(3, 5))),
}

MODIFIERS: dict[str, dict] = {
    "MAX_1_RURAL": {"max_rural_terms": 1},
    "MAX_1_SERVICE": {"max_service_terms": 1},
    "NO_NIGHTS": {"no_nights": True},
    "DISTINCT_SPECIALTIES": {"distinct_specialties": True},
}

KNOWN_NAMES = tuple(BASE_RULESETS) + tuple(MODIFIERS)


def resolve_rules(constraints, cohort: str) -> Rules:
    """The effective rules for a run's ``constraints`` and the cohort.

    One base ruleset (default UNRESTRICTED) plus modifiers; unknown names are
    errors. PGY3+ has no accreditation caps, so its base is UNRESTRICTED
    whatever is named.
    """
    names = list(constraints or [])
    for name in names:
        if name not in KNOWN_NAMES:
            hint = " (names are upper case)" if isinstance(name, str) and name.upper() in KNOWN_NAMES else ""
            raise RuleError(f"unknown ruleset {name!r}{hint}; known: {', '.join(KNOWN_NAMES)}")
    if len(set(names)) != len(names):
        raise RuleError("a ruleset is named twice")
    bases = [n for n in names if n in BASE_RULESETS]
    if len(bases) > 1:
        raise RuleError(f"name one base ruleset, not {len(bases)} ({', '.join(bases)})")
    base = bases[0] if bases else "UNRESTRICTED"
    written_for, rules = BASE_RULESETS[base]
    if cohort == "PGY3+":
        rules = BASE_RULESETS["UNRESTRICTED"][1]
    elif written_for is not None and written_for != cohort:
        raise RuleError(f"{base} is written for {written_for}, but this allocation run is {cohort}")
    for name in names:
        if name in MODIFIERS:
            rules = replace(rules, **_tighten(rules, MODIFIERS[name]))
    return replace(rules, names=tuple(names) or ("UNRESTRICTED",))


def _tighten(rules: Rules, changes: dict) -> dict:
    """A modifier never loosens a ruleset's own limit."""
    out = {}
    for key, value in changes.items():
        current = getattr(rules, key)
        if isinstance(value, bool):
            out[key] = current or value
        else:
            out[key] = value if current is None else min(current, value)
    return out


def week_cap(fraction: Fraction, period_weeks: int) -> int:
    """Most whole weeks allowed by an inclusive cap: weeks <= fraction * P."""
    return (fraction.numerator * period_weeks) // fraction.denominator


def week_floor(fraction: Fraction, period_weeks: int) -> int:
    """Fewest whole weeks required by an inclusive minimum: weeks >= fraction * P."""
    return -((-fraction.numerator * period_weeks) // fraction.denominator)
