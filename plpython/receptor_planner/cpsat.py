"""How every CP-SAT solve of the package is set up, and whether it can be repeated.

A search is reproducible when it runs on one worker and ends by proof or by its
budget of deterministic time (CP-SAT's own count of work done, the same on every
run and machine). The wall clock is only a safety net: a search it stops ends
wherever the machine's load left it. Parallel workers race, so more than one is
never reproducible.
"""
from __future__ import annotations

from ortools.sat.python import cp_model

# Deterministic time one worker does per wall second, with margin: the searches
# of this package measured 0.48-0.65 on one core of the benchmark machine, and
# 0.27 on a stress service's largest model. A budget of max_seconds at this rate
# ends before the clock does on all but the largest models.
WORK_PER_SECOND = 0.3


def versions() -> dict[str, str]:
    """What the same seed's lines also depend on: another OR-Tools may search otherwise. Every result
    records them (metrics.versions)."""
    import platform

    import numpy
    import ortools

    return {"ortools": ortools.__version__, "numpy": numpy.__version__, "python": platform.python_version()}


def solver(seed: int, seconds: float, work: float | None, workers: int = 1) -> cp_model.CpSolver:
    """A solver stopped by ``work`` units of deterministic time (None: no such limit, for
    checking a complete assignment), and by the wall clock after ``seconds``. Derive
    ``work`` from deterministic quantities only (a request's max_seconds, work left
    after earlier searches), never from the time left on the clock."""
    s = cp_model.CpSolver()
    p = s.parameters
    p.random_seed = seed
    p.catch_sigint_signal = False  # CP-SAT must not take over the backend's SIGINT handler
    p.num_workers = workers  # never CP-SAT's default of one thread per core of the server
    p.max_time_in_seconds = max(seconds, 0.0)
    if work is not None:
        p.max_deterministic_time = max(work, 0.0)
    return s


def stopped_by_clock(s: cp_model.CpSolver, status: int) -> bool:
    """The wall clock, not a proof or the work budget, ended this search."""
    return status in (cp_model.FEASIBLE, cp_model.UNKNOWN) and \
        s.deterministic_time < s.parameters.max_deterministic_time * 0.999
