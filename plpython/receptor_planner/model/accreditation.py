"""Accreditation rules of the ruleset, one function per rule code (docs/rules.md).

Each adds one constraint per line; a rule that cannot bind on this instance
(its limit exceeds what any line could reach) adds nothing.
"""
from __future__ import annotations

from ortools.sat.python import cp_model

from ..rules import Rules, week_cap, week_floor
from .variables import Variables


def _clinical(post) -> bool:
    return not post.non_clinical


def add_min_terms(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    if rules.min_terms is None:
        return
    long_terms = [t for t in v.terms if v.instance.term_weeks[t - 1] >= 10]
    for l in v.lines:
        model.add(v.terms_in(l, _clinical, long_terms) >= rules.min_terms * v.active[l])


def add_categories(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    for category in rules.categories:
        for l in v.lines:
            model.add(v.terms_in(l, lambda post: category in post.categories) >= v.active[l])


def _add_week_caps(model, v: Variables, groups: dict[str, callable], cap_weeks: int) -> None:
    for selects in groups.values():
        reach = sum(v.instance.term_weeks[t - 1] for t in v.terms
                    if any(selects(post) and post.offered(t) for post in v.posts))
        if reach <= cap_weeks:
            continue
        for l in v.lines:
            model.add(v.weeks_in(l, selects) <= cap_weeks)


def add_specialty_cap(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    if rules.specialty_cap is None:
        return
    names = {post.specialty for post in v.posts}
    groups = {s: (lambda post, s=s: post.specialty == s) for s in names}
    _add_week_caps(model, v, groups, week_cap(rules.specialty_cap, v.instance.period_weeks))


def add_subspecialty_cap(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    if rules.subspecialty_cap is None:
        return
    names = {post.subspecialty for post in v.posts if post.subspecialty}
    groups = {s: (lambda post, s=s: post.subspecialty == s) for s in names}
    _add_week_caps(model, v, groups, week_cap(rules.subspecialty_cap, v.instance.period_weeks))


def add_service_cap(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    if rules.service_cap is None:
        return
    groups = {"service": lambda post: post.service}
    _add_week_caps(model, v, groups, week_cap(rules.service_cap, v.instance.period_weeks))


def add_team_min(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    if rules.team_min is None:
        return
    need = week_floor(rules.team_min, v.instance.period_weeks)
    for l in v.lines:
        weeks = v.weeks_in(l, lambda post: not post.service and not post.non_clinical)
        model.add(weeks >= need * v.active[l])


def _add_term_limit(model, v: Variables, selects, most: int | None) -> None:
    if most is None:
        return
    for l in v.lines:
        model.add(v.terms_in(l, selects) <= most)


def add_non_clinical_max(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    _add_term_limit(model, v, lambda post: post.non_clinical, rules.non_clinical_max)


def add_max_1_rural(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    _add_term_limit(model, v, lambda post: post.rural, rules.max_rural_terms)


def add_max_1_service(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    _add_term_limit(model, v, lambda post: post.service, rules.max_service_terms)


def add_no_nights(model: cp_model.CpModel, v: Variables, rules: Rules) -> None:
    _add_term_limit(model, v, lambda post: post.nights, 0 if rules.no_nights else None)


RULES = (add_min_terms, add_categories, add_specialty_cap, add_subspecialty_cap,
         add_service_cap, add_team_min, add_non_clinical_max, add_max_1_rural,
         add_max_1_service, add_no_nights)
