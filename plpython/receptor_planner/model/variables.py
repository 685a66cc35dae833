"""The decision variables: which post each line holds in each term, and where its placements start."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from ..instance import Instance, Position


@dataclass
class Variables:
    """``x[l, t, p]`` is true when line ``l`` holds post ``p`` in term ``t``.

    ``placed[l, t, p]`` is true when a placement of ``p`` starts in term ``t``: the
    same variable as ``x`` for a post of one term; for a span post it holds ``p``
    in the ``span`` terms from ``t`` on (SPAN: ``x`` is the sum of the placements
    covering its term). Only offered cells with capacity get a variable, so
    AVAILABILITY holds by construction. ``active[l]`` is false for a line that is
    not built (only with allow_partial).
    """

    instance: Instance
    n_lines: int
    x: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    placed: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    active: list = field(default_factory=list)

    def line_terms(self, line: int, term: int) -> list[tuple[int, cp_model.IntVar]]:
        """(post index, variable) for every post line ``line`` may hold in ``term``."""
        return self._by_line_term.get((line, term), [])

    def post_term(self, post: int, term: int) -> list[cp_model.IntVar]:
        """The variables of every line for ``post`` in ``term``."""
        return self._by_post_term.get((post, term), [])

    def cells(self, selects) -> list[tuple[int, int]]:
        """(term, post) with a variable and ``selects(post)``: the same for every line."""
        return [(t, p) for t in self.terms for p in self._offered[t] if selects(self.posts[p])]

    def placements(self, selects) -> list[tuple[int, int, int]]:
        """(start term, post, weeks) of every placement a line may make of a post that ``selects``."""
        return [(t, p, weeks) for t, p, weeks in self._starts if selects(self.posts[p])]

    def held(self, line: int, post: int) -> list[cp_model.IntVar]:
        """The placement variables of ``post`` in line ``line`` (at most one is true)."""
        return [self.placed[line, t, post] for t in self._post_starts.get(post, ())]

    def line_placements(self, line: int) -> list[tuple[int, int, cp_model.IntVar]]:
        """(start term, post, variable) of every placement line ``line`` may make."""
        return [(t, p, self.placed[line, t, p]) for t, p, _ in self._starts]

    @property
    def posts(self) -> tuple[Position, ...]:
        return self.instance.positions

    @property
    def terms(self) -> range:
        return range(1, self.instance.n_terms + 1)

    @property
    def lines(self) -> range:
        return range(self.n_lines)

    def index(self) -> None:
        self._by_line_term: dict = {}
        self._by_post_term: dict = {}
        self._offered: dict[int, list[int]] = {t: [] for t in self.terms}
        for (l, t, p), var in self.x.items():
            self._by_line_term.setdefault((l, t), []).append((p, var))
            self._by_post_term.setdefault((p, t), []).append(var)
            if l == 0:
                self._offered[t].append(p)
        first_line = itertools.takewhile(lambda key: key[0] == 0, self.placed)  # every line has the same cells
        self._starts = [(t, p, self.instance.placement_weeks(self.posts[p], t)) for _, t, p in first_line]
        self._post_starts: dict[int, list[int]] = {}
        for t, p, _ in self._starts:
            self._post_starts.setdefault(p, []).append(t)


def placement_starts(instance: Instance, p: int) -> list[int]:
    """The terms a placement of post ``p`` may start in: allowed, and with capacity in every term it covers."""
    post = instance.positions[p]
    return [t for t in post.start_terms
            if all(post.offered(u) and post.capacity[u - 1] > 0 for u in post.covers(t))]


def create_variables(model: cp_model.CpModel, instance: Instance, n_lines: int,
                     allow_partial: bool, forced_lines: set[int]) -> Variables:
    v = Variables(instance, n_lines)
    starts = {p: set(placement_starts(instance, p)) for p in range(len(instance.positions))}
    for l in range(n_lines):
        if allow_partial and l not in forced_lines:
            v.active.append(model.new_bool_var(f"active[{l}]"))
        else:
            v.active.append(1)
        for t in range(1, instance.n_terms + 1):
            for p, post in enumerate(instance.positions):
                if post.span == 1 and t in starts[p]:
                    v.x[l, t, p] = v.placed[l, t, p] = model.new_bool_var(f"x[{l},{t},{post.key}]")
        for p, post in enumerate(instance.positions):
            if post.span == 1:
                continue
            covering: dict[int, list] = {}
            for t in sorted(starts[p]):
                v.placed[l, t, p] = model.new_bool_var(f"placed[{l},{t},{post.key}]")
                for u in post.covers(t):
                    covering.setdefault(u, []).append(v.placed[l, t, p])
            for u, placements in sorted(covering.items()):  # SPAN
                v.x[l, u, p] = model.new_bool_var(f"x[{l},{u},{post.key}]")
                model.add(v.x[l, u, p] == sum(placements))
    v.index()
    return v
