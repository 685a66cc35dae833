"""The decision variables: which post each line holds in each term."""
from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from ..instance import Instance, Position


@dataclass
class Variables:
    """``x[l, t, p]`` is true when line ``l`` holds post ``p`` in term ``t``.

    Only offered (post, term) pairs with capacity get a variable, so
    AVAILABILITY holds by construction. ``active[l]`` is false for a line
    that is not built (only with allow_partial).
    """

    instance: Instance
    n_lines: int
    x: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
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


def create_variables(model: cp_model.CpModel, instance: Instance, n_lines: int,
                     allow_partial: bool, forced_lines: set[int]) -> Variables:
    v = Variables(instance, n_lines)
    for l in range(n_lines):
        if allow_partial and l not in forced_lines:
            v.active.append(model.new_bool_var(f"active[{l}]"))
        else:
            v.active.append(1)
        for t in range(1, instance.n_terms + 1):
            for p, post in enumerate(instance.positions):
                if post.offered(t) and post.capacity[t - 1] > 0:
                    v.x[l, t, p] = model.new_bool_var(f"x[{l},{t},{post.key}]")
    v.index()
    return v
