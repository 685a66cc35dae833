"""Explanations a workforce planner can act on, starting with capacity arithmetic.

Arithmetic bounds the line count before any search: every line needs one
place per term, one term in a post of each required category, enough weeks in
team posts; ordinary posts need enough lines to be staffed. Each bound that
bites becomes a reason naming the rule, the posts and the terms.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from .instance import Instance
from .model import rulebook
from .rules import Rules


@dataclass
class Reason:
    rule: str
    message: str
    lines_possible: int | None = None  # the most lines this reason allows
    posts: list[str] = field(default_factory=list)
    terms: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}


def _places(instance: Instance, selects, terms=None) -> tuple[int, list[str]]:
    total, keys = 0, []
    for post in instance.positions:
        if not selects(post):
            continue
        places = sum(post.capacity[t - 1] for t in (range(1, instance.n_terms + 1) if terms is None else terms)
                     if post.offered(t))
        if places:
            total += places
            keys.append(post.key)
    return total, keys


def capacity_reasons(instance: Instance, rules: Rules, n_lines: int) -> list[Reason]:
    """Upper bounds on the line count from arithmetic alone, tightest first."""
    reasons = []
    for t in range(1, instance.n_terms + 1):
        places, _ = _places(instance, lambda post: True, [t])
        reasons.append(Reason("CAPACITY", f"term {t} offers {places} places in all, "
                                          f"but {n_lines} lines each need one", places, terms=[t]))
    for rule in rulebook.line_rules(rules, instance):
        if rule.at_least:
            reasons.extend(_group_places(instance, rule, group, n_lines) for group in rule.required)
    binding = [r for r in reasons if r.lines_possible is not None and r.lines_possible < n_lines]
    return sorted(binding, key=lambda r: r.lines_possible)


def _group_places(instance: Instance, rule: rulebook.LineRule, group: str, n_lines: int) -> Reason:
    """The lines an at-least rule's group has places for: each line needs the fewest terms that
    reach the rule's limit there, and a place holds one line for one term."""
    counted = [t for t, w in enumerate(instance.term_weeks, start=1) if rule.amount(w)]
    places, keys = _places(instance, lambda post: group in rule.groups(post), counted)
    k = _fewest_terms([rule.amount(instance.term_weeks[t - 1]) for t in counted], rule.limit)
    need = "one" if k == 1 else f"{k} terms in them"
    if rule.measure == rulebook.WEEKS:
        need += f" ({rule.limit} weeks)"
    return Reason(rule.code, f"{rule.group_words.format(group=group)} offer {places} term places, "
                             f"but {n_lines} lines each need {need}", places // k if k else 0,
                  posts=keys if rule.by_group else [], terms=counted if len(counted) < instance.n_terms else [])


def _fewest_terms(amounts: list[int], limit: int) -> int | None:
    """The fewest terms whose amounts reach ``limit``; None when all of them do not."""
    total = 0
    for k, amount in enumerate(sorted(amounts, reverse=True), start=1):
        total += amount
        if total >= limit:
            return k
    return None


def staffing_reasons(instance: Instance, n_lines: int, possible: bool = False) -> list[Reason]:
    """Terms whose ordinary posts need more lines than there are to staff them: than
    ``n_lines`` requested, or with ``possible``, than the ``n_lines`` other rules allow."""
    reasons = []
    for t in range(1, instance.n_terms + 1):
        need = sum(p.min_fill[t - 1] for p in instance.positions if not p.excludable)
        if need > n_lines:
            keys = [p.key for p in instance.positions if not p.excludable and p.min_fill[t - 1]]
            reasons.append(Reason("MIN_FILL", f"term {t}: ordinary posts need {need} lines to be staffed "
                                              f"(min_fill), but only {n_lines} lines "
                                              + ("are possible" if possible else "are requested"),
                                  0 if possible else None, terms=[t], posts=keys))
    return reasons


def structure_reasons(instance: Instance, rules: Rules, n_lines: int) -> list[Reason]:
    """Rules the allocation run breaks before any post is placed."""
    reasons = [Reason(code, message, 0) for code, message in rulebook.year_breaks(rules, instance)]
    highest_pin = max((pin.line for pin in instance.pins), default=0)
    if highest_pin > n_lines:
        reasons.append(Reason("PIN", f"line {highest_pin} is pinned, but only {n_lines} lines are requested",
                              0))
    return reasons


def explanation(summary: str, reasons: list[Reason]) -> dict:
    return {"summary": summary, "reasons": [r.as_dict() for r in reasons]}


# ---------------------------------------------------------------- conflicting rule groups

def conflicting_rules(instance: Instance, rules: Rules, n_lines: int, seconds: float,
                      search) -> list[Reason] | None:
    """A small set of rule groups that cannot all hold for ``n_lines`` lines, or None.

    Every rule group (a rule, a category, one post's staffing, one pin) hangs
    on an assumption literal. CP-SAT, with one worker (with more it may
    return every assumption), names a sufficient set; the set is shrunk by
    dropping each group in turn while the rest stays infeasible, and kept only
    if re-solving with that set alone is infeasible: every group it names is
    needed for the conflict. ``search`` runs CP-SAT (cancellable).
    """
    from ortools.sat.python import cp_model

    from . import cpsat
    from .model import build_model

    deadline = time.monotonic() + seconds
    lm = build_model(instance, rules, n_lines, allow_partial=False, explain=True)
    groups = lm.guards.literals
    if not groups:
        return None
    by_index = {lit.index: key for key, lit in groups.items()}

    def conflict(keys) -> list | None:
        """The core CP-SAT names when ``keys`` cannot all hold; [] when they can; None when unknown."""
        left = deadline - time.monotonic()
        if left <= 0:
            search.cut_short("explain")
            return None
        lm.model.clear_assumptions()
        lm.model.add_assumptions([groups[k] for k in keys])
        solver = cpsat.solver(0, left, search.work_left)
        status = search.run("explain", solver, lm.model, None)
        if status == cp_model.INFEASIBLE:
            named = [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]
            return sorted(set(named)) or list(keys)
        return [] if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None

    core = conflict(list(groups))
    if not core:
        return None
    for key in list(core):
        trial = [k for k in core if k != key]
        if trial and conflict(trial):
            core = trial
    if not conflict(core):  # verified on its own, or not reported
        return None
    return [_group_reason(instance, rules, code, detail) for code, detail in core]


def _group_reason(instance: Instance, rules: Rules, code: str, detail: str | None) -> Reason:
    if code == "MIN_FILL":
        post = next(p for p in instance.positions if p.key == detail)
        terms = [t for t in range(1, instance.n_terms + 1) if post.min_fill[t - 1]]
        needs = ", ".join(f"{post.min_fill[t - 1]} in term {t}" for t in terms)
        return Reason(code, f"post {detail} must be staffed (min_fill): {needs}", posts=[detail], terms=terms)
    if code == "PIN":
        line, term, key = detail.replace("line ", "").replace("term ", "").split()
        return Reason(code, f"line {line} is pinned to {key} in term {term}", posts=[key], terms=[int(term)])
    if code == "LINK":
        link = next(link for link in instance.links if link.name == detail)
        return Reason(code, f"{link.name}: a line holding {link.when} also holds one of {', '.join(link.then)}",
                      posts=[link.when, *link.then])
    if code == "HOME_SITE":
        return Reason(code, rulebook.home_site_words(instance))
    rows = [rule for rule in rulebook.line_rules(rules, instance) if rule.code == code]
    rule = next((rule for rule in rows if not rule.by_group or detail in rule.required
                 or detail in rule.binding_groups(instance)), rows[0])
    return Reason(code, rule.explain(detail))
