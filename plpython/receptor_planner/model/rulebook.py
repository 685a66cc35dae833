"""The rulebook: each rule a line keeps, in one place (docs/rules.md).

A line rule is a row of data: the groups a post counts in, what a term adds
to its group (weeks, or one term), and a limit every line keeps in every
group: at most (a cap) or at least (a minimum, in the groups every line must
reach). The CP-SAT constraint (``add_line_rule``), the constructed start and
its repair (``construct.LineLimits``) and the explanations (``explain``) all
read these rows; none restates a rule. A year rule depends on the allocation
run alone (its terms and leave), so it is checked before any post is placed.

The other codes are kept where the model is built: ONE_POSITION_PER_TERM,
NO_REPEAT_POSITION, CAPACITY, MIN_FILL and PIN in ``structure.py``,
AVAILABILITY in ``variables.py`` (no variable for a term a post is not
offered in), TILING in ``solution.rotations`` and the LEAVE_ codes in
``leave.py``. ``CODES`` lists every code the model keeps; a test holds it
equal to the checker's and to docs/rules.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ortools.sat.python import cp_model

from ..instance import Instance, Position
from ..rules import Rules, week_cap, week_floor
from .guards import Guard, unguarded

WEEKS, TERMS = "weeks", "terms"


@dataclass(frozen=True)
class LineRule:
    """For every group, what a line holds in it is at most (or at least) ``limit``.

    A term adds its weeks (``WEEKS``) or 1 (``TERMS``) to each group of the post
    held in it, if the term lasts ``min_weeks`` or more. ``words`` and
    ``group_words`` are the explanation, with ``{group}`` for the group's name.
    """

    groups: Callable[[Position], tuple[str, ...]]
    measure: str
    limit: int
    words: str
    at_least: bool = False
    required: tuple[str, ...] = ()  # at_least: the groups every line must reach
    min_weeks: int = 0
    by_group: bool = False  # a conflict names the group (one category), not the rule alone
    seek: bool = False  # the constructed start is drawn to posts that advance it (few posts serve it)
    group_words: str = ""  # at_least: the posts of a group, for the capacity arithmetic
    code: str = ""  # set from the rulebook's table

    def amount(self, weeks: int) -> int:
        """What a term of ``weeks`` adds to the group of the post held in it."""
        if weeks < self.min_weeks:
            return 0
        return weeks if self.measure == WEEKS else 1

    def reach(self, instance: Instance, group: str) -> int:
        """At least the most a line could hold in ``group``: per term, the most a placement of a post
        of the group covering it adds."""
        members = [post for post in instance.positions if group in self.groups(post)]
        return sum(max((self.amount(instance.placement_weeks(post, s)) for post in members
                        for s in post.start_terms if t in post.covers(s)), default=0)
                   for t in range(1, instance.n_terms + 1))

    def binding_groups(self, instance: Instance) -> list[str]:
        """The groups whose limit can bind on ``instance``: a cap no line can reach binds nothing."""
        if self.at_least:
            return list(self.required)
        names = sorted({g for post in instance.positions for g in self.groups(post)})
        return [g for g in names if self.reach(instance, g) > self.limit]

    def explain(self, group: str | None = None) -> str:
        return self.words.format(group=group)


def _share(fraction, period: int, weeks: int) -> str:
    return f"{weeks} weeks ({float(fraction):.0%} of {period})"


def _at_most_terms(most: int, what: str) -> str:
    return {0: f"no {what} terms", 1: f"at most one {what} term"}.get(most, f"at most {most} {what} terms")


# ---------------------------------------------------------------- line rules, one per code

# code -> its rows (one, a list, or None) for a ruleset on an instance
LINE_RULES: dict[str, Callable[[Rules, Instance], LineRule | list[LineRule] | None]] = {}


def _line_rule(code: str):
    def register(make):
        LINE_RULES[code] = make
        return make
    return register


@_line_rule("MIN_TERMS")
def min_terms(rules: Rules, instance: Instance) -> LineRule | None:
    if rules.min_terms is None:
        return None
    long = f"clinical terms of {rules.min_term_weeks} weeks or more"
    return LineRule(lambda post: () if post.non_clinical else ("clinical",), TERMS,
                    rules.min_terms, f"every line needs {rules.min_terms} {long}", at_least=True,
                    required=("clinical",), min_weeks=rules.min_term_weeks,
                    group_words=f"clinical posts in terms of {rules.min_term_weeks} weeks or more")


@_line_rule("CATEGORIES")
def categories(rules: Rules, instance: Instance) -> LineRule | None:
    if not rules.categories:
        return None
    return LineRule(lambda post: post.categories, TERMS, 1,
                    "every line needs a term in a category {group} post", at_least=True,
                    required=rules.categories, by_group=True, seek=True, group_words="category {group} posts")


@_line_rule("SPECIALTY_CAP")
def specialty_cap(rules: Rules, instance: Instance) -> LineRule | None:
    if rules.specialty_cap is None:
        return None
    cap = week_cap(rules.specialty_cap, instance.period_weeks)
    return LineRule(lambda post: (post.specialty,), WEEKS, cap,
                    f"at most {_share(rules.specialty_cap, instance.period_weeks, cap)} in one parent specialty")


@_line_rule("SUBSPECIALTY_CAP")
def subspecialty_cap(rules: Rules, instance: Instance) -> LineRule | None:
    if rules.subspecialty_cap is None:
        return None
    cap = week_cap(rules.subspecialty_cap, instance.period_weeks)
    return LineRule(lambda post: (post.subspecialty,) if post.subspecialty else (), WEEKS,
                    cap, f"at most {_share(rules.subspecialty_cap, instance.period_weeks, cap)} in one subspecialty")


@_line_rule("SERVICE_CAP")
def service_cap(rules: Rules, instance: Instance) -> LineRule | None:
    if rules.service_cap is None:
        return None
    cap = week_cap(rules.service_cap, instance.period_weeks)
    return LineRule(lambda post: ("service",) if post.service else (), WEEKS, cap,
                    f"at most {_share(rules.service_cap, instance.period_weeks, cap)} in service posts")


@_line_rule("TEAM_MIN")
def team_min(rules: Rules, instance: Instance) -> LineRule | None:
    if rules.team_min is None:
        return None
    need = week_floor(rules.team_min, instance.period_weeks)
    return LineRule(lambda post: () if post.service or post.non_clinical else ("team",), WEEKS, need,
                    f"at least {need} weeks in team (non-service clinical) posts", at_least=True,
                    required=("team",), group_words="team (non-service clinical) posts")


@_line_rule("NON_CLINICAL_MAX")
def non_clinical_max(rules: Rules, instance: Instance) -> LineRule | None:
    if rules.non_clinical_max is None:
        return None
    return LineRule(lambda post: ("non-clinical",) if post.non_clinical else (), TERMS,
                    rules.non_clinical_max, _at_most_terms(rules.non_clinical_max, "non-clinical"))


@_line_rule("MAX_1_RURAL")
def max_1_rural(rules: Rules, instance: Instance) -> LineRule | None:
    if rules.max_rural_terms is None:
        return None
    return LineRule(lambda post: ("rural",) if post.rural else (), TERMS,
                    rules.max_rural_terms, _at_most_terms(rules.max_rural_terms, "rural"))


@_line_rule("MAX_1_SERVICE")
def max_1_service(rules: Rules, instance: Instance) -> LineRule | None:
    if rules.max_service_terms is None:
        return None
    return LineRule(lambda post: ("service",) if post.service else (), TERMS,
                    rules.max_service_terms, _at_most_terms(rules.max_service_terms, "service"))


@_line_rule("NO_NIGHTS")
def no_nights(rules: Rules, instance: Instance) -> LineRule | None:
    if not rules.no_nights:
        return None
    return LineRule(lambda post: ("nights",) if post.nights else (), TERMS, 0, "no night posts")


@_line_rule("LINE_RULE")
def service_line_rules(rules: Rules, instance: Instance) -> list[LineRule]:
    """The service's own rules: placements of a group, at least ``min``, at most ``max``; each
    counts in a group of its own, named by the rule."""
    rows = []
    for spec in instance.line_rules:
        members = frozenset(instance.groups[spec.group])
        name = _literal(spec.name)

        def groups(post, name=spec.name, members=members):
            return (name,) if post.key in members else ()

        bounds = " and ".join(f"{word} {n}" for word, n in (("at least", spec.min), ("at most", spec.max))
                              if n is not None)
        words = f"{name}: every line holds {bounds} placements in group {_literal(spec.group)}"
        if spec.max is not None:
            rows.append(LineRule(groups, TERMS, spec.max, words, by_group=True))
        if spec.min:
            rows.append(LineRule(groups, TERMS, spec.min, words, at_least=True, required=(spec.name,),
                                 by_group=True, seek=True,
                                 group_words=f"{name}: the posts of group {_literal(spec.group)}"))
    return rows


@_line_rule("DISTINCT_SPECIALTIES")
def distinct_specialties(rules: Rules, instance: Instance) -> LineRule | None:
    if not rules.distinct_specialties:
        return None
    long = f" of {rules.min_term_weeks} weeks or more" if rules.min_term_weeks else ""
    return LineRule(lambda post: () if post.non_clinical else (post.subspecialty or post.specialty,), TERMS, 1,
                    f"no two clinical placements{long} in one unit ({{group}})", min_weeks=rules.min_term_weeks,
                    by_group=True)


def _literal(text: str) -> str:
    """User text inside explanation words, which are format strings."""
    return text.replace("{", "{{").replace("}", "}}")


def line_rules(rules: Rules, instance: Instance) -> list[LineRule]:
    """The line rules of ``rules`` and of the service, with their limits on this instance."""
    out = []
    for code, make in LINE_RULES.items():
        rows = make(rules, instance)
        for row in rows if isinstance(rows, list) else [rows] if rows is not None else []:
            out.append(replace(row, code=code))
    return out


# ---------------------------------------------------------------- the service's other rules

def add_links(model: cp_model.CpModel, v, guard: Guard = unguarded) -> None:
    """LINK: a line holding a link's post also holds one of the posts it is linked to."""
    keys = {post.key: p for p, post in enumerate(v.posts)}
    for link in v.instance.links:
        then = [keys[key] for key in link.then]
        for l in v.lines:
            when = v.held(l, keys[link.when])
            if when:
                guard(model.add(sum(when) <= sum(var for q in then for var in v.held(l, q))), "LINK", link.name)


def add_home_site(model: cp_model.CpModel, v, guard: Guard = unguarded) -> None:
    """HOME_SITE: every line holds posts of one site in at least ``home_site_min_terms`` terms."""
    need = v.instance.home_site_min_terms
    if need is None:
        return
    sites = sorted({post.site for post in v.posts})
    for l in v.lines:
        homes = []
        for site in sites:
            at_site = [[var for p, var in v.line_terms(l, t) if v.posts[p].site == site] for t in v.terms]
            if sum(1 for cells in at_site if cells) < need:
                continue  # the site is not offered in enough terms
            home = model.new_bool_var(f"home[{l},{site}]")
            model.add(sum(var for cells in at_site for var in cells) >= need).only_enforce_if(home)
            homes.append(home)
        guard(model.add(sum(homes) >= v.active[l]), "HOME_SITE", None)


def home_site_words(instance: Instance) -> str:
    return f"every line holds posts of one site in at least {instance.home_site_min_terms} of its terms"


# ---------------------------------------------------------------- year rules, one per code

def term_count(rules: Rules, instance: Instance) -> str | None:
    if not rules.term_count or rules.term_count[0] <= instance.n_terms <= rules.term_count[1]:
        return None
    low, high = rules.term_count
    wanted = str(low) if low == high else f"{low} to {high}"
    return f"{', '.join(rules.names)} needs {wanted} terms a year; this allocation run has {instance.n_terms}"


def clinical_weeks(rules: Rules, instance: Instance) -> str | None:
    if rules.clinical_weeks_min is None:
        return None
    clinical = instance.period_weeks - instance.leave.weeks
    if clinical >= rules.clinical_weeks_min:
        return None
    return (f"{instance.leave.weeks} weeks of leave leave {clinical} clinical weeks, "
            f"fewer than the {rules.clinical_weeks_min} required")


YEAR_RULES = {"TERM_COUNT": term_count, "CLINICAL_WEEKS": clinical_weeks}


def year_breaks(rules: Rules, instance: Instance) -> list[tuple[str, str]]:
    """(code, message) for each year rule the allocation run breaks whatever its lines."""
    found = ((code, rule(rules, instance)) for code, rule in YEAR_RULES.items())
    return [(code, message) for code, message in found if message]


# ---------------------------------------------------------------- the model

def add_line_rule(model: cp_model.CpModel, v, rule: LineRule, guard: Guard = unguarded) -> None:
    """``rule`` for every line of ``v`` (``model.variables.Variables``), one constraint per group that binds."""
    for group in rule.binding_groups(v.instance):
        cells = [(t, p, rule.amount(weeks)) for t, p, weeks in v.placements(lambda post: group in rule.groups(post))]
        cells = [(t, p, a) for t, p, a in cells if a]
        amounts = [a for *_, a in cells]
        detail = group if rule.by_group else None
        placed = v.placed
        for l in v.lines:
            held = cp_model.LinearExpr.weighted_sum([placed[l, t, p] for t, p, _ in cells], amounts)
            if rule.at_least:
                guard(model.add(held >= rule.limit * v.active[l]), rule.code, detail)
            else:
                guard(model.add(held <= rule.limit), rule.code, detail)


def add_line_rules(model: cp_model.CpModel, v, rules: Rules, guard: Guard = unguarded,
                   checkpoint=lambda: None) -> None:
    """Every line rule of ``rules`` and of the service; ``checkpoint`` runs between rules (a cancel
    need not wait)."""
    for rule in line_rules(rules, v.instance):
        checkpoint()
        add_line_rule(model, v, rule, guard)
    add_links(model, v, guard)
    add_home_site(model, v, guard)


STRUCTURAL_CODES = ("ONE_POSITION_PER_TERM", "TILING", "NO_REPEAT_POSITION", "AVAILABILITY", "CAPACITY",
                    "MIN_FILL", "PIN", "SPAN", "LEAVE_WEEKS", "LEAVE_PATTERN", "LEAVE_GAP", "LEAVE_WITHIN_TERM",
                    "LEAVE_MAX_CONCURRENT", "LEAVE_BLOCKED")
SERVICE_CODES = ("LINK", "HOME_SITE")  # the service's rules that are not a row of LINE_RULES
CODES = STRUCTURAL_CODES + tuple(YEAR_RULES) + tuple(LINE_RULES) + SERVICE_CODES
