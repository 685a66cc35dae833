"""Quality metrics of a set of lines: what a result reports about itself.

Computed from the lines alone (never from solver variables), so a result's
report and the benchmark's columns mean the same thing.
"""
from __future__ import annotations

from collections import Counter
from itertools import combinations

from .instance import Instance


def line_metrics(instance: Instance, lines: list[tuple[tuple[str, ...], tuple[tuple[int, int], ...]]]) -> dict:
    """``lines``: (post key per term, leave blocks as (start_week, weeks)) per line."""
    posts = [p for p, _ in lines]
    return {
        "duplicate_lines": len(posts) - len(set(posts)),
        **hamming(posts),
        "hamming_min_upper_bound": hamming_min_upper_bound(instance, len(posts)),
        **unfilled(instance, posts),
        "leave_first_half_share": _first_half_share(instance, [b for _, b in lines]),
        "affinity_total": affinity_total(instance, posts),
    }


def affinity_total(instance: Instance, posts: list[tuple[str, ...]]) -> int | None:
    """Sum over lines of the profile's weights between the distinct specialties each line holds."""
    if not instance.affinity:
        return None
    weights = instance.affinity["weights"]
    specialty = {p.key: p.specialty for p in instance.positions}
    total = 0
    for line in posts:
        held = sorted({specialty[key] for key in line})
        total += sum(weights.get(a, {}).get(b, weights.get(b, {}).get(a, 0)) for a, b in combinations(held, 2))
    return total


def hamming(posts: list[tuple[str, ...]]) -> dict:
    """Smallest and mean number of terms in which two lines differ."""
    if len(posts) < 2:
        return {"hamming_min": None, "hamming_mean": None}
    distances = [sum(a != b for a, b in zip(x, y)) for x, y in combinations(posts, 2)]
    return {"hamming_min": min(distances), "hamming_mean": round(sum(distances) / len(distances), 3)}


def hamming_min_upper_bound(instance: Instance, n_lines: int) -> int | None:
    """No two lines can differ in more terms than there are; one fewer when some term offers fewer
    posts than there are lines, for then two lines share a post in it. A smallest distance equal to
    this bound is proven the largest possible."""
    if n_lines < 2:
        return None
    posts_offered = [sum(1 for p in instance.positions if p.offered(t) and p.capacity[t - 1] > 0)
                     for t in range(1, instance.n_terms + 1)]
    return instance.n_terms - (1 if any(n_lines > offered for offered in posts_offered) else 0)


def unfilled(instance: Instance, posts: list[tuple[str, ...]]) -> dict:
    """Places short of min_fill, per post and term (only excludable posts may be short)."""
    held = Counter((key, t) for line in posts for t, key in enumerate(line, start=1))
    short = []
    for post in instance.positions:
        for t in range(1, instance.n_terms + 1):
            gap = post.min_fill[t - 1] - held[post.key, t]
            if gap > 0:
                short.append({"position": post.key, "term": t, "unfilled": gap})
    return {"unfilled": short, "unfilled_total": sum(s["unfilled"] for s in short)}


def _first_half_share(instance: Instance, leave: list) -> float | None:
    half = instance.period_weeks / 2
    weeks = [s + i for blocks in leave for s, n in blocks for i in range(n)]
    if not weeks:
        return None
    return round(sum(w <= half for w in weeks) / len(weeks), 3)


def leave_preferred_share(instance: Instance, lines: list[tuple[tuple[str, ...], tuple[tuple[int, int], ...]]]
                          ) -> float | None:
    """Share of planned leave weeks that fall in a term where the line holds a post of a
    preferred group; None without preferred groups or planned leave. ``lines``: (post key per
    term, planned blocks as (start_week, weeks)) per line."""
    if not instance.leave.preferred_groups:
        return None
    preferred = instance.preferred_posts()
    weeks = [(line[instance.term_of_week(w) - 1] in preferred) for line, blocks in lines
             for s, n in blocks for w in range(s, s + n)]
    return round(sum(weeks) / len(weeks), 3) if weeks else None
