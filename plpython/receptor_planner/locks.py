"""Locked job lines kept through a re-solve: a planner run's ``options.keep_locked``.

A planner locks a line (planner.lock_line) to keep it as it is. A solve that asks
for keep_locked makes each locked line a whole-line pin of its instance, so the
model places the other lines around its posts. The leave plan chooses leave for
every line afresh, so each locked line then gets its own leave back; where that
puts more lines on leave in a week than ``max_concurrent`` allows, other lines'
planned blocks move to weeks with room. The metrics that read leave are measured
again from the lines, and the gate checks the result like any other. An
impossible request is explained with the locked lines named.

``locked`` is what planner._locked_lines gives: ``[{"line": n, "rotations": [...]}]``,
rotations as in a solution document. Nothing here imports the solver at load time:
pg.py, which the schema's triggers import, imports this module.
"""
from __future__ import annotations

import copy
from collections import Counter

from . import metrics
from .instance import Instance, InvalidDocument

FIELD = "options.keep_locked"


def keep_locked_error(options: dict) -> str | None:
    """``field: reason`` when the options give keep_locked a value that is not a boolean, else None."""
    if "keep_locked" in options and not isinstance(options["keep_locked"], bool):
        return f"keep_locked: must be true or false, got {options['keep_locked']!r:.40}"
    return None


# ---------------------------------------------------------------- before the solve: pins

def locked_posts(locked_line: dict, n_terms: int) -> list[str]:
    """The post of each term of a locked line; InvalidDocument when a term holds none or several."""
    held: dict[int, set[str]] = {t: set() for t in range(1, n_terms + 1)}
    for rotation in locked_line["rotations"]:
        if rotation["kind"] == "clinical":
            held.setdefault(rotation["term"], set()).add(rotation["position"])
    for term, keys in sorted(held.items()):
        if len(keys) != 1:
            what = "no post" if not keys else f"{len(keys)} posts ({', '.join(sorted(keys))})"
            raise InvalidDocument(FIELD, f"locked line {locked_line['line']} holds {what} in term {term}; a line "
                                         "kept through a solve holds one post in every term")
    return [next(iter(held[t])) for t in range(1, n_terms + 1)]


def pin_locked_lines(instance_doc: dict, locked: list[dict]) -> dict:
    """The instance document with every locked line added as a whole-line pin.

    A pin of the allocation run that names another post for a locked line's term is an
    InvalidDocument naming both, rather than the parser's "already pinned"."""
    if not locked:
        return instance_doc
    n_terms = len(instance_doc["term_weeks"])
    pins = list(instance_doc.get("pins") or [])
    pinned = {}
    for pin in pins:
        placements = enumerate(pin["positions"], start=1) if "positions" in pin else [(pin["term"], pin["position"])]
        for term, key in placements:
            pinned[(pin["line"], term)] = key
    for line in locked:
        posts = locked_posts(line, n_terms)
        for term, key in enumerate(posts, start=1):
            other = pinned.get((line["line"], term))
            if other is not None and other != key:
                raise InvalidDocument(FIELD, f"locked line {line['line']} holds {key} in term {term}, but the "
                                             f"allocation run pins that line to {other} there")
        pins.append({"line": line["line"], "positions": posts})
    return {**instance_doc, "pins": pins}


# ---------------------------------------------------------------- after the solve: the locked lines as they were

def keep_locked(instance: Instance, document: dict, locked: list[dict]) -> dict:
    """The solution document with the locked lines as they were.

    COMPLETED: each locked line (pinned, so it kept its number and posts) gets its own
    rotations back, leave included; the other lines' leave makes room for it where the
    relief cover needs it; the leave metrics are measured again. Otherwise the explanation
    says which lines were locked."""
    if not locked:
        return document
    document = copy.deepcopy(document)
    numbers = [line["line"] for line in locked]
    if document["status"] != "COMPLETED":
        document["explanation"] = _explain(document.get("explanation"), numbers)
        return document
    lines = document["lines"]
    for line in locked:
        if line["line"] <= len(lines):  # always, as a pinned line keeps its number; the gate judges the rest
            lines[line["line"] - 1]["rotations"] = copy.deepcopy(line["rotations"])
    _make_room_for_locked_leave(instance, lines, set(numbers))
    document["metrics"] = {**document["metrics"], **leave_metrics(instance, lines), "locked_lines": numbers}
    return document


def _make_room_for_locked_leave(instance: Instance, lines: list[dict], locked: set[int]) -> None:
    """Where the locked lines' own leave puts more lines on planned leave in a week than
    max_concurrent allows, move the planned leave of unlocked lines on those weeks to the
    first leave option (every pattern, gap and blocked week kept) that fits the cover.
    Lines whose leave cannot move stay as they are: the gate then reports the week."""
    cap = instance.leave.max_concurrent
    if cap is None:
        return
    fixed = _fixed_weeks(instance)
    planned = [set(_leave_weeks(line)) - fixed for line in lines]
    count = Counter(w for weeks in planned for w in weeks)
    if all(n <= cap for n in count.values()):
        return
    from .leave import leave_options  # the solver's own list of ways to take leave
    from .solution import rotations

    options = leave_options(instance)
    for index, line in enumerate(lines):
        if index + 1 in locked or not any(count[w] > cap for w in planned[index]):
            continue
        for w in planned[index]:
            count[w] -= 1
        option = next((o for o in options if all(count[w] < cap for w in set(o.weeks()) - fixed)), None)
        if option is not None:
            line["rotations"] = rotations(instance, _posts(instance, line), option.weeks())
            planned[index] = set(option.weeks()) - fixed
        for w in planned[index]:
            count[w] += 1


def leave_metrics(instance: Instance, lines: list[dict]) -> dict:
    """The metrics a solve reports that depend on the lines' leave (solution lines in)."""
    fixed = _fixed_weeks(instance)
    posts, leave, planned = [], [], []
    for line in lines:
        weeks = _leave_weeks(line)
        posts.append(_posts(instance, line))
        leave.append(_blocks(weeks))
        planned.append(_blocks([w for w in weeks if w not in fixed]))
    on_leave = Counter(w for blocks in planned for s, n in blocks for w in range(s, s + n))
    return {"leave_first_half_share": metrics.line_metrics(instance, list(zip(posts, leave)))["leave_first_half_share"],
            "leave_preferred_share": metrics.leave_preferred_share(instance, list(zip(posts, planned))),
            "leave_peak_weekly": max(on_leave.values(), default=0)}


def _posts(instance: Instance, line: dict) -> tuple[str | None, ...]:
    held = {r["term"]: r["position"] for r in line["rotations"] if r["kind"] == "clinical"}
    return tuple(held.get(t) for t in range(1, instance.n_terms + 1))


def _leave_weeks(line: dict) -> list[int]:
    return sorted(w for r in line["rotations"] if r["kind"] == "leave"
                  for w in range(r["start_week"], r["end_week"] + 1))


def _fixed_weeks(instance: Instance) -> set[int]:
    return {s + i for s, n in instance.leave.fixed_blocks for i in range(n)}


def _blocks(weeks: list[int]) -> tuple[tuple[int, int], ...]:
    """Sorted weeks as (start_week, weeks) blocks of consecutive weeks."""
    blocks: list[list[int]] = []
    for week in weeks:
        if blocks and week == blocks[-1][0] + blocks[-1][1]:
            blocks[-1][1] += 1
        else:
            blocks.append([week, 1])
    return tuple((s, n) for s, n in blocks)


def _explain(explanation: dict | None, numbers: list[int]) -> dict | None:
    if explanation is None:
        return None
    if len(numbers) == 1:
        kept = f"Locked line {numbers[0]} is kept as it is (options.keep_locked): its posts are pins of this solve."
    else:
        kept = (f"Locked lines {', '.join(map(str, numbers[:-1]))} and {numbers[-1]} are kept as they are "
                "(options.keep_locked): their posts are pins of this solve.")
    note = f"{kept} Unlock a line (planner.unlock_line), or solve without keep_locked, to let the solver change it."
    return {**explanation, "summary": f"{explanation.get('summary') or ''} {note}".strip(), "locked_lines": numbers}
