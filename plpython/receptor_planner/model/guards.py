"""Rule groups as assumption literals, so an explanation can ask which groups conflict."""
from __future__ import annotations

from typing import Callable

from ortools.sat.python import cp_model

# guard(constraint, rule code, detail): ties a constraint to its rule group
Guard = Callable[..., None]


def unguarded(constraint, code: str, detail: str | None = None) -> None:
    """An ordinary solve: every rule always holds."""


class Guards:
    """One literal per rule group (a rule code, or a code and a post, category or pin)."""

    def __init__(self, model: cp_model.CpModel):
        self.model = model
        self.literals: dict[tuple[str, str | None], cp_model.IntVar] = {}

    def __call__(self, constraint, code: str, detail: str | None = None) -> None:
        key = (code, detail)
        if key not in self.literals:
            self.literals[key] = self.model.new_bool_var(f"holds[{code}:{detail}]")
        constraint.only_enforce_if(self.literals[key])
