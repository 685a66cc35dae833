"""Annual leave: the ways one line can take its leave, and a choice for every line.

Under the rules of docs/rules.md leave never depends on which posts a line
holds, so it is solved on its own: lines are interchangeable, so the model
counts how many lines take each leave option instead of giving every line a
boolean per option. That keeps it small (hundreds of integers, not hundreds
of thousands of booleans) whatever the line count.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ortools.sat.python import cp_model

from . import cpsat
from .instance import Instance

Block = tuple[int, int]  # (start_week, weeks), 1-based


@dataclass(frozen=True)
class LeaveOption:
    blocks: tuple[Block, ...]  # every block of the line, fixed ones included, in date order
    free: tuple[Block, ...]  # the blocks that come from a pattern (count against relief cover)

    def weeks(self) -> set[int]:
        return {s + i for s, n in self.blocks for i in range(n)}


def leave_options(instance: Instance) -> list[LeaveOption]:
    """Every placement of every allowed pattern, in a fixed order."""
    leave = instance.leave
    period = instance.period_weeks
    fixed = list(leave.fixed_blocks)
    term_of = [0] + [instance.term_of_week(w) for w in range(1, period + 1)]
    gap = max(leave.min_gap_weeks, 1)  # blocks closer than one week would merge into one

    def fits(start: int, length: int) -> bool:
        end = start + length - 1
        if start < 1 or end > period:
            return False
        return not leave.within_term or term_of[start] == term_of[end]

    blocked = set(leave.blocked_weeks)

    def open_weeks(start: int, length: int) -> bool:  # LEAVE_BLOCKED: planned blocks only
        return not any(start <= week < start + length for week in blocked)

    def apart(a: Block, b: Block) -> bool:
        (s1, n1), (s2, n2) = sorted((a, b))
        return s2 - (s1 + n1 - 1) - 1 >= gap

    fixed_ok = all(fits(s, n) for s, n in fixed) and all(
        apart(a, b) for i, a in enumerate(fixed) for b in fixed[i + 1:])
    if not fixed_ok:
        return []
    options: list[LeaveOption] = []

    def place(pattern: tuple[int, ...], earliest: int, chosen: list[Block]) -> None:
        if not pattern:
            option = LeaveOption(tuple(sorted(chosen + fixed)), tuple(chosen))
            if _keeps_every_term(instance, option):
                options.append(option)
            return
        length = pattern[0]
        for start in range(earliest, period - length + 2):
            block = (start, length)
            if fits(start, length) and open_weeks(start, length) and all(apart(block, f) for f in fixed):
                place(pattern[1:], start + length + gap, chosen + [block])

    for pattern in leave.patterns:
        place(pattern, 1, [])
    return options


def _keeps_every_term(instance: Instance, option: LeaveOption) -> bool:
    """A term entirely on leave would hold no post (ONE_POSITION_PER_TERM)."""
    weeks = option.weeks()
    return all(any(w not in weeks for w in range(instance.term_start_week(t),
                                                  instance.term_start_week(t) + instance.term_weeks[t - 1]))
               for t in range(1, instance.n_terms + 1))


WORK = 5.0  # deterministic time for the leave plan: small models, usually proven in a fraction


@dataclass
class LeavePlan:
    options: list[LeaveOption]  # one per line, in line order
    peak: int  # most lines on (non-fixed) leave in any week
    reproducible: bool = True  # not cut short by the wall clock


def plan_leave(instance: Instance, most_lines: int, seconds: float, seed: int,
               held: list[tuple[str, ...]] | None = None) -> LeavePlan:
    """Choose a leave option for as many lines as possible, up to ``most_lines``.

    Respects ``max_concurrent`` per week. Among the plans with the most
    lines, it comes closest to ``front_load_target`` (the share of leave weeks
    in the first half of the year) when one is set, then puts the most planned
    leave weeks in terms where a line holds a post of ``preferred_groups``
    (given the posts each line ``held``, a post key per term), then keeps the
    weekly peak lowest so relief cover is spread over the year. Fewer lines
    are always possible than more, so the result for the line count a post
    solve built is exact. With ``held``, the options come in the order of its lines.
    """
    options = leave_options(instance)
    if most_lines == 0 or not options:
        return LeavePlan([], 0)
    # Lines that hold preferred posts in the same terms are alike for leave: one count per option each.
    preferred_keys = instance.preferred_posts()
    kinds = [tuple(t for t, key in enumerate(line, start=1) if key in preferred_keys) for line in held] \
        if held else [()] * most_lines
    sizes = Counter(kinds)
    model = cp_model.CpModel()
    count = {(kind, i): model.new_int_var(0, sizes[kind], f"take[{i}]" if len(sizes) == 1 else f"take[{kind},{i}]")
             for kind in sizes for i in range(len(options))}
    lines = model.new_int_var(0, most_lines, "lines")
    model.add(sum(count.values()) == lines)
    if len(sizes) > 1:
        for kind, size in sizes.items():
            model.add(sum(count[kind, i] for i in range(len(options))) <= size)
    cap = instance.leave.max_concurrent
    peak = model.new_int_var(0, most_lines if cap is None else min(cap, most_lines), "peak")
    for week in range(1, instance.period_weeks + 1):
        covering = [i for i, o in enumerate(options) if any(s <= week < s + n for s, n in o.free)]
        if covering:
            model.add(sum(count[kind, i] for kind in sizes for i in covering) <= peak)
    deviation = _front_load_deviation(model, instance, options, count, sizes, lines)
    preferred = sum(_weeks_in(options[i].free, kind, instance) * var for (kind, i), var in count.items() if kind)
    # lexicographic: lines, then the front-load deviation, then the preferred weeks, then the peak
    peak_weight = 1
    preferred_weight = most_lines + 1
    deviation_weight = preferred_weight * (instance.leave.weeks * most_lines + 1) if _prefers(instance) \
        else preferred_weight
    lines_weight = deviation_weight * (_deviation_bound(instance, most_lines) + 1)
    model.maximize(lines_weight * lines - deviation_weight * deviation + preferred_weight * preferred
                   - peak_weight * peak)
    solver = cpsat.solver(seed, max(seconds, 1.0), WORK)
    status = solver.solve(model)
    reproducible = not cpsat.stopped_by_clock(solver, status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return LeavePlan([], 0, reproducible)
    chosen: dict[tuple, list[LeaveOption]] = {}
    for kind in sizes:
        taken = [option for i, option in enumerate(options) for _ in range(solver.value(count[kind, i]))]
        chosen[kind] = iter(_interleave(taken))
    if not held:
        return LeavePlan(list(chosen[()]), solver.value(peak), reproducible)
    plan = [next(chosen[kind], None) for kind in kinds]
    if None in plan:  # fewer lines than held can take their leave
        plan = []
    return LeavePlan(plan, solver.value(peak), reproducible)


def _prefers(instance: Instance) -> bool:
    return bool(instance.leave.preferred_groups)


def _weeks_in(blocks: tuple[Block, ...], terms: tuple[int, ...], instance: Instance) -> int:
    """Weeks of ``blocks`` that fall in ``terms``."""
    return sum(1 for s, n in blocks for w in range(s, s + n) if instance.term_of_week(w) in terms)


def _front_load_deviation(model, instance: Instance, options, count, kinds, lines):
    """|leave weeks in the first half - target * all leave weeks|, in hundredths of a week; 0 without a target."""
    target = instance.leave.front_load_target
    if target is None or instance.leave.weeks == 0:
        return 0
    half = instance.period_weeks / 2
    first_half = [sum(1 for w in o.weeks() if w <= half) for o in options]
    wanted = round(target * 100) * instance.leave.weeks
    deviation = model.new_int_var(0, _deviation_bound(instance, 2000), "front_load_deviation")
    reached = sum(100 * weeks * count[kind, i] for kind in kinds for i, weeks in enumerate(first_half))
    model.add(deviation >= reached - wanted * lines)
    model.add(deviation >= wanted * lines - reached)
    return deviation


def _deviation_bound(instance: Instance, lines: int) -> int:
    return 100 * instance.leave.weeks * lines


def _interleave(chosen: list[LeaveOption]) -> list[LeaveOption]:
    """Spread equal options over the lines instead of giving them to neighbours."""
    stride = len(chosen)
    step = next((k for k in range(max(stride // 3, 1), stride + 1) if _coprime(k, stride)), 1)
    return [chosen[(i * step) % stride] for i in range(stride)]


def _coprime(a: int, b: int) -> bool:
    while b:
        a, b = b, a % b
    return a == 1
