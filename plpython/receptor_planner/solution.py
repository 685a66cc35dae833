"""The solution document (receptor-planner/solution@1) of a solve result."""
from __future__ import annotations

import datetime as dt

from .instance import Instance, Request
from .solve import SolveResult

SOLUTION_FORMAT = "receptor-planner/solution@1"


def rotations(instance: Instance, posts: tuple[str, ...], leave_weeks: set[int]) -> list[dict]:
    """A line's rotations in date order: each term's post, split around leave."""
    out = []
    for term, key in enumerate(posts, start=1):
        first = instance.term_start_week(term)
        last = first + instance.term_weeks[term - 1] - 1
        run_start = first
        for week in range(first, last + 2):
            on_leave = week in leave_weeks if week <= last else None
            starts_new = week > last or on_leave != (run_start in leave_weeks)
            if starts_new and week > run_start:
                kind = "leave" if run_start in leave_weeks else "clinical"
                out.append(_rotation(instance, kind, None if kind == "leave" else key, term, run_start, week - 1))
                run_start = week
    return out


def _rotation(instance: Instance, kind: str, key: str | None, term: int, start: int, end: int) -> dict:
    row = {"kind": kind}
    if key is not None:
        row["position"] = key
    row.update({"term": term, "start_week": start, "end_week": end,
                "start_date": week_start(instance.start_date, start).isoformat(),
                "end_date": week_end(instance.start_date, end).isoformat()})
    return row


def week_start(start_date: dt.date, week: int) -> dt.date:
    return start_date + dt.timedelta(days=7 * (week - 1))


def week_end(start_date: dt.date, week: int) -> dt.date:
    return start_date + dt.timedelta(days=7 * week - 1)


def to_document(instance: Instance, request: Request, result: SolveResult) -> dict:
    return {
        "format": SOLUTION_FORMAT,
        "status": result.status,
        "request": request.as_dict(),
        "lines": [{"name": f"Line {line.number}",
                   "rotations": rotations(instance, line.posts, line.leave.weeks())}
                  for line in result.lines],
        "metrics": result.metrics,
        "explanation": result.explanation,
        **({"error": result.error} if result.error else {}),
    }
