"""Seeded instance generator: fictional Australian health services with a planted solution.

``generate(size, seed)`` returns an instance document (``receptor-planner/instance@1``)
for a PGY1 year of five terms ``[10, 10, 10, 10, 12]`` and five weeks of leave.
Sizes: ``rural`` (5-10 lines, 5-6 posts), ``regional`` (38-42 lines, 13 posts),
``metropolitan`` (115-125 lines, 48-59 posts on 3-4 campuses) and ``stress``
(290-310 lines, 112-119 posts on 7 campuses).

How an instance is made:

1. Posts are drawn from the template tables below, campus by campus.
2. A plan of N job lines is built line by line, one post per term, each line
   keeping the VIC_PGY1 rules of ``docs/rules.md`` and MAX_1_RURAL (``RULESETS``),
   preferring posts still short of a per-term target so places spread like a
   real service's (big emergency and general medicine units, small subspecialties).
3. Each post's per-term capacity is set from the plan. TIGHT mode: capacity and
   ``min_fill`` are exactly the planted count, so every post is filled to capacity
   and the plan is a solution; excludable posts get a lower ``min_fill``. Loose
   mode: capacity is the count plus 0-2 spare places, ``min_fill`` at most the count.
   A term a post holds no place in is left out of its ``terms``.

The plan does not depend on the flags: the same seed gives the same posts and plan
in every mode. ``leave.max_concurrent`` is ``ceil(1.5 * 5N / 52) + 1``, more than
the ``ceil(N / 10)`` that one 5-week block per line needs when the lines are dealt
round-robin over the ten disjoint 5-week slots inside the terms, so leave never
blocks the plan.

Randomness comes only from ``random.Random(seed)``. The rules are the solver's
rulebook (the partial-line check of the constructed start) while planting, and the
independent checker in ``line_violations``, which the tests hold every plan to.
``python -m receptor_planner_tools.generator SIZE`` prints an instance.
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass

from receptor_planner.checker import SOLUTION_FORMAT, check
from receptor_planner.instance import parse_instance
from receptor_planner.model.construct import LineLimits
from receptor_planner.rules import resolve_rules
from receptor_planner.solution import rotations

FORMAT = "receptor-planner/instance@1"
TERM_WEEKS = (10, 10, 10, 10, 12)
TEN_WEEK_TERMS = (1, 2, 3, 4)
LEAVE_WEEKS = 5
LEAVE_PATTERNS = [[5], [2, 3], [3, 2]]
LEAVE_MIN_GAP_WEEKS = 13
START_MONDAYS = ("2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25")
FLAGS = ("service", "nights", "rural", "non_clinical", "excludable")

# The rules every planted line keeps: VIC_PGY1 (docs/rules.md), plus at most one rural
# term, so that planted lines also pass the MAX_1_RURAL modifier.
RULESETS = ("VIC_PGY1", "MAX_1_RURAL")


@dataclass(frozen=True)
class Template:
    """A kind of post; ``weight`` is its relative share of a term's places."""

    name: str
    team: str
    specialty: str
    subspecialty: str | None
    categories: str
    weight: int
    flags: tuple[str, ...] = ()
    terms: tuple[int, ...] | None = None  # None: every term


MED, SURG = "General Medicine", "General Surgery"

TEMPLATES: dict[str, Template] = {
    "ED": Template("Emergency Medicine", "Emergency", "Emergency Medicine", None, "AC", 10),
    "GMED": Template("General Medicine", "General Medicine", MED, None, "AB", 8),
    "CARD": Template("Cardiology", "Cardiology", MED, "Cardiology", "AC", 4),
    "RESP": Template("Respiratory Medicine", "Respiratory", MED, "Respiratory Medicine", "AB", 4),
    "RENAL": Template("Renal Medicine", "Nephrology", MED, "Renal Medicine", "B", 3),
    "GASTRO": Template("Gastroenterology", "Gastroenterology", MED, "Gastroenterology", "AB", 3),
    "NEURO": Template("Neurology and Stroke", "Neurology", MED, "Neurology", "AC", 3),
    "GERI": Template("Geriatric Medicine", "Aged Care", MED, "Geriatric Medicine", "B", 4),
    "ONC": Template("Medical Oncology", "Oncology", MED, "Medical Oncology", "B", 3, ("excludable",)),
    "REHAB": Template("Rehabilitation Medicine", "Rehabilitation", "Rehabilitation Medicine", None, "B", 2,
                      ("excludable",)),
    "GSURG": Template("General Surgery", "General Surgery", SURG, None, "D", 6),
    "ASU": Template("Acute Surgical Unit", "Acute Surgery", SURG, "Acute Surgery", "CD", 4),
    "COLO": Template("Colorectal Surgery", "Colorectal", SURG, "Colorectal Surgery", "D", 3),
    "VASC": Template("Vascular Surgery", "Vascular", SURG, "Vascular Surgery", "CD", 3),
    "ORTHO": Template("Orthopaedic Surgery", "Orthopaedics", SURG, "Orthopaedics", "D", 4),
    "UROL": Template("Urology", "Urology", SURG, "Urology", "D", 3),
    "ANAES": Template("Anaesthetics", "Anaesthesia", "Anaesthetics", None, "CD", 3),
    "ICU": Template("Intensive Care", "Intensive Care", "Intensive Care Medicine", None, "CD", 3),
    "PSYCH": Template("Psychiatry", "Mental Health", "Psychiatry", None, "AB", 4),
    "PAEDS": Template("Paediatrics", "Paediatrics", "Paediatrics", None, "AC", 4),
    "OBGYN": Template("Obstetrics and Gynaecology", "Women's Health", "Obstetrics and Gynaecology", None,
                      "CD", 4),
    "RELIEF": Template("Medical Relief", "Relief", MED, None, "A", 4, ("service",), TEN_WEEK_TERMS),
    "SRELIEF": Template("Surgical Relief", "Relief", SURG, None, "D", 3, ("service",), TEN_WEEK_TERMS),
    "NIGHTS": Template("Night Medical Cover", "After Hours", MED, None, "AC", 4, ("service", "nights"),
                       TEN_WEEK_TERMS),
    "RURGM": Template("Rural General Medicine", "Rural Secondment", MED, None, "AB", 3,
                      ("rural", "excludable")),
    "RURED": Template("Rural Emergency Medicine", "Rural Secondment", "Emergency Medicine", None, "AC", 3,
                      ("rural",)),
}

# A campus tier: the post templates it always has, optional extras, and how many
# extras to draw (a code listed twice is two units).
TIERS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[int, int]]] = {
    "major": (("ED", "ED", "ASU", "GMED", "GMED", "GMED", "CARD", "RESP", "RENAL", "GASTRO", "NEURO",
               "GSURG", "GSURG", "COLO", "VASC", "ORTHO", "UROL", "ANAES", "ICU", "PSYCH", "OBGYN",
               "RELIEF", "NIGHTS", "RURGM"),
              ("ONC", "SRELIEF", "PAEDS"), (1, 2)),
    "medium": (("ED", "GMED", "GMED", "CARD", "GERI", "RESP", "GSURG", "ORTHO", "UROL", "ANAES", "PSYCH",
                "PAEDS", "OBGYN", "RELIEF", "NIGHTS", "RURED"),
               ("GASTRO", "ICU", "REHAB"), (0, 1)),
    "small": (("ED", "GMED", "GERI", "GSURG", "ORTHO", "PSYCH", "RELIEF"),
              ("REHAB", "UROL", "RURGM"), (0, 1)),
    "regional": (("ED", "GMED", "GMED", "CARD", "GERI", "GSURG", "ORTHO", "OBGYN", "PAEDS", "PSYCH",
                  "ANAES", "RELIEF", "RURGM"), (), (0, 0)),
    "rural": (("ED", "GMED", "GSURG", "OBGYN"), ("PAEDS", "PSYCH", "RELIEF", "RURGM"), (1, 2)),
}


@dataclass(frozen=True)
class Service:
    """A fictional health service: campuses ``(code, hospital, tier)``, of which
    the first ``campus_count`` (a range) are used, and a range of line counts."""

    org: str
    campuses: tuple[tuple[str, str, str], ...]
    campus_count: tuple[int, int]
    lines: tuple[int, int]


SERVICES: dict[str, Service] = {
    "rural": Service("Wirrinda District Health",
                     (("WDH", "Wirrinda District Hospital", "rural"),), (1, 1), (5, 10)),
    "regional": Service("Coolabah Valley Health",
                        (("CVH", "Coolabah Valley Base Hospital", "regional"),), (1, 1), (38, 42)),
    "metropolitan": Service("Banksia Health",
                            (("BCH", "Banksia Central Hospital", "major"),
                             ("NTH", "Northgate Hospital", "medium"),
                             ("RVB", "Riverbend Hospital", "small"),
                             ("WMH", "Westmere Hospital", "small")), (3, 4), (115, 125)),
    "stress": Service("Grevillea Health Alliance",
                      (("GCH", "Grevillea City Hospital", "major"),
                       ("MTH", "Mount Tarrant Hospital", "major"),
                       ("ELH", "Eastlake Hospital", "medium"),
                       ("LBH", "Lyrebird Bay Hospital", "medium"),
                       ("IBH", "Ironbark Hospital", "medium"),
                       ("SBH", "Saltbush Hospital", "small"),
                       ("KWH", "Kurrajong West Hospital", "small")), (7, 7), (290, 310)),
}

RURAL_TOWNS = ("Mallee Springs", "Karrawong", "Yallock Creek", "Tallowood Ridge", "Coolabah Crossing",
               "Wombat Gully", "Quandong Flat", "Brolga Plains", "Myall Bend", "Gidgee Hill")


# ---------------------------------------------------------------- API

def generate(size: str, seed: int = 0, tight: bool = True, impossible: bool = False) -> dict:
    """An instance document; see ``generate_with_plan``."""
    return generate_with_plan(size, seed, tight, impossible)[0]


def generate_with_plan(size: str, seed: int = 0, tight: bool = True,
                       impossible: bool = False) -> tuple[dict, list[list[str]]]:
    """An instance document and its planted plan: one list of post keys per line,
    one key per term. The plan passes ``line_violations`` and fills every post's
    ``min_fill``; with ``tight`` it fills every capacity exactly.

    ``impossible`` makes the instance infeasible with a known bottleneck: category D.
    Category D is taken off posts (two-category posts first, so Obstetrics (C,D)
    becomes (C); a D-only post becomes C) until the posts with D offer fewer term
    places (capacity summed over posts and terms) than there are lines. Every line
    needs a term in a D post, so no N lines exist; capacities, ``min_fill`` and
    everything else stay as they were, and the returned plan is the one planted
    before the change.
    """
    if size not in SERVICES:
        raise ValueError(f"unknown size {size!r}; sizes: {', '.join(SERVICES)}")
    service = SERVICES[size]
    rng = random.Random(seed)
    n_lines = rng.randint(*service.lines)
    start_date = rng.choice(START_MONDAYS)
    posts, weights = _draw_posts(service, rng)
    plan = _plant(posts, weights, n_lines, rng)
    positions = [_position(post, _counts(plan, post["key"]), tight, rng)
                 for post in posts if any(post["key"] in line for line in plan)]
    if impossible:
        _withdraw_category_d(positions, n_lines, rng)
    doc = {
        "format": FORMAT,
        "org": {"name": service.org},
        "cohort": "PGY1",
        "start_date": start_date,
        "term_weeks": list(TERM_WEEKS),
        "leave": {"weeks": LEAVE_WEEKS, "patterns": [list(p) for p in LEAVE_PATTERNS],
                  "min_gap_weeks": LEAVE_MIN_GAP_WEEKS, "within_term": True,
                  "max_concurrent": max_concurrent_leave(n_lines)},
        "positions": positions,
        "pins": [],
        "affinity": None,
    }
    return doc, plan


def max_concurrent_leave(n_lines: int) -> int:
    """Relief cover: ``ceil(1.5 * 5N / 52) + 1`` lines on leave in any one week."""
    return -(-3 * LEAVE_WEEKS * n_lines // (2 * sum(TERM_WEEKS))) + 1


def category_places(positions: list[dict], category: str) -> int:
    """Term places (capacity summed over terms) of the posts with ``category``."""
    return sum(sum(_per_term(p["capacity"])) for p in positions if category in p["categories"])


def line_violations(line: list[str], positions: dict[str, dict], term_weeks=TERM_WEEKS) -> list[str]:
    """The rule codes the independent checker finds in one job line under ``RULESETS``, in the
    order of docs/rules.md; empty if it complies.

    ``line`` lists one position key per term; ``positions`` maps keys to position
    objects of an instance document (only the rule-relevant fields are read). The
    line is checked alone, so the rules on how lines share a post (CAPACITY,
    MIN_FILL) and its leave are left out: it gets no leave, in a year without any.
    """
    if len(line) != len(term_weeks) or any(key not in positions for key in line):
        return ["ONE_POSITION_PER_TERM"]
    doc = {"format": FORMAT, "org": {"name": "one line"}, "cohort": "PGY1", "start_date": START_MONDAYS[0],
           "term_weeks": list(term_weeks), "leave": {"weeks": 0},
           "positions": [{**_rule_fields(positions[key]), "capacity": 1} for key in dict.fromkeys(line)]}
    solution = {"format": SOLUTION_FORMAT, "status": "COMPLETED",
                "request": {"n_job_lines": 1, "constraints": list(RULESETS)},
                "lines": [{"name": "Line 1", "rotations": rotations(parse_instance(doc), tuple(line), set())}],
                "metrics": {}, "explanation": None}
    found = [v.rule for v in check(doc, solution) if v.rule not in ("CAPACITY", "MIN_FILL")]
    return list(dict.fromkeys(found))


def _rule_fields(post: dict) -> dict:
    return {"key": post["key"], "name": post.get("name", post["key"]), **{
        field: post[field] for field in ("specialty", "subspecialty", "categories", "terms", *FLAGS)
        if post.get(field) is not None}}


def _offered(post: dict, term: int) -> bool:
    return post.get("terms") is None or term in post["terms"]


def _line_limits(posts: list[dict]) -> LineLimits:
    """The rulebook's partial-line check for ``RULESETS`` on these posts, in this year."""
    doc = {"format": FORMAT, "org": {"name": "rules"}, "cohort": "PGY1", "start_date": START_MONDAYS[0],
           "term_weeks": list(TERM_WEEKS), "leave": {"weeks": LEAVE_WEEKS},
           "positions": [{**_rule_fields(post), "capacity": 1} for post in posts]}
    return LineLimits(parse_instance(doc), resolve_rules(list(RULESETS), "PGY1"))


# ---------------------------------------------------------------- posts

def _draw_posts(service: Service, rng: random.Random) -> tuple[list[dict], dict[str, int]]:
    """The service's posts (rule fields, no capacities yet) and their weights."""
    towns = list(RURAL_TOWNS)
    rng.shuffle(towns)
    posts, weights = [], {}
    for code, hospital, tier in service.campuses[:rng.randint(*service.campus_count)]:
        core, extras, n_extras = TIERS[tier]
        picked = set(rng.sample(range(len(extras)), rng.randint(*n_extras)))
        codes = list(core) + [c for i, c in enumerate(extras) if i in picked]
        for kind, unit in _units(codes):
            template = TEMPLATES[kind]
            key = f"{code}-{kind}{unit or ''}"
            place = f"{towns.pop()} (secondment)" if "rural" in template.flags else hospital
            posts.append(_post(template, key, code, unit, place))
            weights[key] = template.weight
    return posts, weights


def _units(codes: list[str]) -> list[tuple[str, int | None]]:
    """Each code with its unit number, or None when the campus has one such post."""
    seen: dict[str, int] = {}
    numbered = []
    for code in codes:
        seen[code] = seen.get(code, 0) + 1
        numbered.append((code, seen[code]))
    return [(code, unit if codes.count(code) > 1 else None) for code, unit in numbered]


def _post(template: Template, key: str, campus: str, unit: int | None, place: str) -> dict:
    label = f"{template.name} Unit {unit}" if unit else template.name
    return {
        "key": key,
        "name": f"{label}, {place}",
        "team": f"{campus} {template.team}",
        "specialty": template.specialty,
        "subspecialty": template.subspecialty,
        "categories": list(template.categories),
        "terms": list(template.terms) if template.terms else None,
        **{flag: flag in template.flags for flag in FLAGS},
    }


def _position(post: dict, counts: list[int], tight: bool, rng: random.Random) -> dict:
    """The position object: the post with capacity and min_fill from its planted counts."""
    if tight:
        capacity, min_fill = counts, counts
    else:
        capacity = [c + rng.randint(0, 2) if _offered(post, t) else 0 for t, c in enumerate(counts, start=1)]
        min_fill = [max(0, c - rng.randint(0, 1)) for c in counts]
    if post["excludable"]:
        min_fill = [max(0, c - 1) for c in counts] if rng.random() < 0.5 else [0] * len(counts)
    terms = [t for t, cap in enumerate(capacity, start=1) if cap > 0]
    return {
        **{field: post[field] for field in ("key", "name", "team", "specialty", "subspecialty", "categories")},
        "capacity": _compact(capacity),
        "min_fill": _compact(min_fill),
        "terms": None if len(terms) == len(capacity) else terms,
        **{flag: post[flag] for flag in FLAGS},
    }


def _compact(per_term: list[int]) -> int | list[int]:
    return per_term[0] if len(set(per_term)) == 1 else list(per_term)


def _per_term(value: int | list[int]) -> list[int]:
    return [value] * len(TERM_WEEKS) if isinstance(value, int) else value


def _counts(plan: list[list[str]], key: str) -> list[int]:
    return [sum(line[t] == key for line in plan) for t in range(len(TERM_WEEKS))]


def _withdraw_category_d(positions: list[dict], n_lines: int, rng: random.Random) -> None:
    """Take D off posts, two-category posts first, until D places < lines."""
    d_posts = [p for p in positions if "D" in p["categories"]]
    rng.shuffle(d_posts)
    d_posts.sort(key=lambda p: len(p["categories"]), reverse=True)
    places = category_places(positions, "D")
    for post in d_posts:
        if places < n_lines:
            break
        places -= sum(_per_term(post["capacity"]))
        post["categories"] = [c for c in post["categories"] if c != "D"] or ["C"]


# ---------------------------------------------------------------- planting

def _plant(posts: list[dict], weights: dict[str, int], n_lines: int,
           rng: random.Random) -> list[list[str]]:
    """N compliant lines, spread over the posts by per-term targets."""
    n_terms = len(TERM_WEEKS)
    by_term = [[p for p in posts if _offered(p, t)] for t in range(1, n_terms + 1)]
    targets = {}
    for t, offered in enumerate(by_term):
        targets.update({(p["key"], t): n for p, n in zip(offered, _apportion(offered, weights, n_lines, rng))})
    counts = dict.fromkeys(targets, 0)
    limits, index = _line_limits(posts), {post["key"]: p for p, post in enumerate(posts)}
    plan = []
    for _ in range(n_lines):
        line = _plant_line(by_term, targets, counts, rng, limits, index)
        for t, key in enumerate(line):
            counts[key, t] += 1
        plan.append(line)
    return plan


def _apportion(offered: list[dict], weights: dict[str, int], n_lines: int, rng: random.Random) -> list[int]:
    """Split a term's N places over its posts by weight (largest remainder, random ties)."""
    total = sum(weights[p["key"]] for p in offered)
    shares = [divmod(n_lines * weights[p["key"]], total) for p in offered]
    left = n_lines - sum(q for q, _ in shares)
    ranked = sorted(range(len(offered)), key=lambda i: (-shares[i][1], rng.random()))
    bonus = set(ranked[:left])
    return [q + (i in bonus) for i, (q, _) in enumerate(shares)]


def _plant_line(by_term: list[list[dict]], targets: dict, counts: dict, rng: random.Random,
                limits: LineLimits, index: dict[str, int]) -> list[str]:
    """One compliant line: depth-first over the terms in random order, trying posts
    below their target first (weighted by how far below), pruning a partial line that
    breaks a rule of the rulebook or can no longer keep one."""
    n_terms = len(by_term)
    order = list(range(n_terms))
    rng.shuffle(order)
    chosen: dict[int, dict] = {}

    def extend(depth: int) -> bool:
        if depth == n_terms:
            return True
        t = order[depth]
        for post in _ranked(by_term[t], t, targets, counts, rng):
            chosen[t] = post
            if not limits.fails([(term + 1, index[p["key"]]) for term, p in chosen.items()]) and extend(depth + 1):
                return True
            del chosen[t]
        return False

    if not extend(0):
        raise RuntimeError("the posts admit no compliant line")
    return [chosen[t]["key"] for t in range(n_terms)]


def _ranked(posts: list[dict], t: int, targets: dict, counts: dict, rng: random.Random) -> list[dict]:
    """Posts short of their target first, in weighted random order (a post k places
    short is k times as likely to lead), then the rest in random order."""
    short, spare = [], []
    for post in posts:
        deficit = targets[post["key"], t] - counts[post["key"], t]
        if deficit > 0:
            short.append((rng.random() ** (1 / deficit), post))
        else:
            spare.append((rng.random(), post))
    short.sort(key=lambda pair: pair[0], reverse=True)
    spare.sort(key=lambda pair: pair[0])
    return [post for _, post in short + spare]


# ---------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> None:
    """Print a generated instance as JSON."""
    parser = argparse.ArgumentParser(prog="python -m receptor_planner_tools.generator", description=main.__doc__)
    parser.add_argument("size", choices=list(SERVICES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loose", action="store_true", help="spare capacity instead of a tight instance")
    parser.add_argument("--impossible", action="store_true", help="too few category D places")
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.size, args.seed, not args.loose, args.impossible), indent=2))


if __name__ == "__main__":
    main()
