"""Accreditation rules of the ruleset, one function per rule code (docs/rules.md).

Each adds one constraint per line; a rule that cannot bind on this instance
(its limit exceeds what any line could reach) adds nothing. ``guard`` ties
each constraint to its rule group, so an explanation can switch groups off.
"""
from __future__ import annotations

from ortools.sat.python import cp_model

from ..rules import Rules, week_cap, week_floor
from .guards import Guard, unguarded
from .variables import Variables


def _clinical(post) -> bool:
    return not post.non_clinical


def _team(post) -> bool:
    return not post.service and not post.non_clinical


def add_min_terms(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    if rules.min_terms is None:
        return
    long_terms = [t for t in v.terms if v.instance.term_weeks[t - 1] >= 10]
    for l in v.lines:
        guard(model.add(v.terms_in(l, _clinical, long_terms) >= rules.min_terms * v.active[l]), "MIN_TERMS")


def add_categories(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    for category in rules.categories:
        has_category = lambda post, c=category: c in post.categories  # noqa: E731 (one per category: cached)
        for l in v.lines:
            guard(model.add(v.terms_in(l, has_category) >= v.active[l]), "CATEGORIES", category)


def _add_week_caps(model, v: Variables, groups: dict[str, callable], cap_weeks: int, guard: Guard,
                   code: str) -> None:
    for selects in groups.values():
        reach = sum(v.instance.term_weeks[t - 1] for t in v.terms
                    if any(selects(post) and post.offered(t) for post in v.posts))
        if reach <= cap_weeks:
            continue
        for l in v.lines:
            guard(model.add(v.weeks_in(l, selects) <= cap_weeks), code)


def add_specialty_cap(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    if rules.specialty_cap is None:
        return
    names = {post.specialty for post in v.posts}
    groups = {s: (lambda post, s=s: post.specialty == s) for s in names}
    _add_week_caps(model, v, groups, week_cap(rules.specialty_cap, v.instance.period_weeks), guard,
                   "SPECIALTY_CAP")


def add_subspecialty_cap(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    if rules.subspecialty_cap is None:
        return
    names = {post.subspecialty for post in v.posts if post.subspecialty}
    groups = {s: (lambda post, s=s: post.subspecialty == s) for s in names}
    _add_week_caps(model, v, groups, week_cap(rules.subspecialty_cap, v.instance.period_weeks), guard,
                   "SUBSPECIALTY_CAP")


def add_service_cap(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    if rules.service_cap is None:
        return
    groups = {"service": lambda post: post.service}
    _add_week_caps(model, v, groups, week_cap(rules.service_cap, v.instance.period_weeks), guard,
                   "SERVICE_CAP")


def add_team_min(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    if rules.team_min is None:
        return
    need = week_floor(rules.team_min, v.instance.period_weeks)
    for l in v.lines:
        guard(model.add(v.weeks_in(l, _team) >= need * v.active[l]), "TEAM_MIN")


def _add_term_limit(model, v: Variables, selects, most: int | None, guard: Guard, code: str) -> None:
    if most is None:
        return
    for l in v.lines:
        guard(model.add(v.terms_in(l, selects) <= most), code)


def add_non_clinical_max(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    _add_term_limit(model, v, lambda post: post.non_clinical, rules.non_clinical_max, guard, "NON_CLINICAL_MAX")


def add_max_1_rural(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    _add_term_limit(model, v, lambda post: post.rural, rules.max_rural_terms, guard, "MAX_1_RURAL")


def add_max_1_service(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    _add_term_limit(model, v, lambda post: post.service, rules.max_service_terms, guard, "MAX_1_SERVICE")


def add_no_nights(model: cp_model.CpModel, v: Variables, rules: Rules, guard: Guard = unguarded) -> None:
    _add_term_limit(model, v, lambda post: post.nights, 0 if rules.no_nights else None, guard, "NO_NIGHTS")


RULES = (add_min_terms, add_categories, add_specialty_cap, add_subspecialty_cap,
         add_service_cap, add_team_min, add_non_clinical_max, add_max_1_rural,
         add_max_1_service, add_no_nights)
