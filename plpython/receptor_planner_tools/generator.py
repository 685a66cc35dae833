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

Services with local rules (``REAL_SIZES``: ``real-regional``, 41-45 lines, and
``real-metropolitan``, 120-150 lines) are shaped like real Victorian programmes: every line
does one term each of emergency, general medicine and general surgery (line rules on three
core groups of few large posts); the other terms go to many small non-core posts of 1 to 3
places, or to a community post held for two terms (span 2); the second site's emergency post
is linked to main-site posts, and a line spends at least 4 of its 5 terms at one site; leave
has a fixed year-end block, blocked orientation weeks and is preferred in non-core terms.
Their plan is built by construction and its solution, leave included, is passed by the
independent checker before the instance is returned (``_generate_real``).

Randomness comes only from ``random.Random(seed)``. The rules are the solver's
rulebook (the partial-line check of the constructed start) while planting, and the
independent checker in ``line_violations``, which the tests hold every plan to.
``python -m receptor_planner_tools.generator SIZE`` prints an instance.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
from collections import Counter
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
    terms: tuple[int, ...] | None = None  # None: every term; for a span post, the terms it may start in
    span: int = 1  # consecutive terms one placement lasts


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

# ---------------------------------------------------------------- services with local rules

# Besides the instance's own rules (line rules, link, home site, span, leave), every planted line
# of a service with local rules keeps VIC_PGY1 and PMCV's "terms in different specialties".
REAL_CONSTRAINTS = ("VIC_PGY1", "DISTINCT_SPECIALTIES")
# core group -> (its post template, the name of its line rule: every line holds exactly one)
CORE_GROUPS = {"core-ed": ("ED", "core emergency"), "core-gmed": ("GMED", "core general medicine"),
               "core-gsurg": ("GSURG", "core general surgery")}
NON_CORE = "non-core"  # every other post, the community one included: where leave is preferred
COMMUNITY = "community"  # a line's role in the terms its community placement covers
HOME_SITE_MIN_TERMS = 4  # of 5 terms: a line spends at most one term at the second site
MOST_SMALL_PLACES = 3  # lines a non-core post holds in a term
FILL_ATTEMPTS = 50  # line orders tried when filling the non-core terms

# Victorian practice: 3 weeks at year end for everybody; the other 2 planned outside the
# orientation weeks and 13 weeks from any other block, preferably in a non-core term.
REAL_LEAVE = {"weeks": 5, "patterns": [[2], [1, 1]], "min_gap_weeks": 13, "within_term": True,
              "fixed_blocks": [{"start_week": 50, "weeks": 3}], "blocked_weeks": [1, 2],
              "preferred_groups": [NON_CORE]}
PLANTED_BLOCK = 2  # weeks: the planted lines take their planned leave as one block, pattern [2]

# The weight of a template only spreads places in the other family; here the plan sets them.
REAL_TEMPLATES: dict[str, Template] = {
    "ED": Template("Emergency Medicine", "Emergency", "Emergency Medicine", None, "AC", 0),
    "GMED": Template("General Medicine", "General Medicine", MED, None, "AB", 0),
    "GSURG": Template("General Surgery", "General Surgery", SURG, None, "D", 0),
    "COMM": Template("Community General Practice", "Community Health", "General Practice", None, "AB", 0,
                     terms=(1, 3), span=2),
    "CARD": Template("Cardiology", "Cardiology", MED, "Cardiology", "AC", 0),
    "RESP": Template("Respiratory Medicine", "Respiratory", MED, "Respiratory Medicine", "AB", 0),
    "RENAL": Template("Renal Medicine", "Nephrology", MED, "Renal Medicine", "B", 0),
    "GASTRO": Template("Gastroenterology", "Gastroenterology", MED, "Gastroenterology", "AB", 0),
    "NEURO": Template("Neurology and Stroke", "Neurology", MED, "Neurology", "AC", 0),
    "GERI": Template("Geriatric Medicine", "Aged Care", MED, "Geriatric Medicine", "B", 0),
    "ONC": Template("Medical Oncology", "Oncology", MED, "Medical Oncology", "B", 0),
    "HAEM": Template("Haematology", "Haematology", MED, "Haematology", "B", 0),
    "ENDO": Template("Endocrinology", "Endocrinology", MED, "Endocrinology", "B", 0),
    "ID": Template("Infectious Diseases", "Infectious Diseases", MED, "Infectious Diseases", "AC", 0),
    "RHEUM": Template("Rheumatology", "Rheumatology", MED, "Rheumatology", "B", 0),
    "COLO": Template("Colorectal Surgery", "Colorectal", SURG, "Colorectal Surgery", "D", 0),
    "VASC": Template("Vascular Surgery", "Vascular", SURG, "Vascular Surgery", "CD", 0),
    "UGI": Template("Upper GI Surgery", "Upper GI", SURG, "Upper Gastrointestinal Surgery", "D", 0),
    "BREAST": Template("Breast and Endocrine Surgery", "Breast", SURG, "Breast and Endocrine Surgery", "D", 0),
    "UROL": Template("Urology", "Urology", SURG, "Urology", "D", 0),
    "ORTHO": Template("Orthopaedic Surgery", "Orthopaedics", SURG, "Orthopaedics", "D", 0),
    "PLAST": Template("Plastic Surgery", "Plastics", SURG, "Plastic Surgery", "D", 0),
    "ENT": Template("Ear, Nose and Throat Surgery", "ENT", SURG, "Otolaryngology", "D", 0),
    "CTS": Template("Cardiothoracic Surgery", "Cardiothoracic", SURG, "Cardiothoracic Surgery", "CD", 0),
    "PSYCH": Template("Psychiatry", "Mental Health", "Psychiatry", None, "AB", 0),
    "PAEDS": Template("Paediatrics", "Paediatrics", "Paediatrics", None, "AC", 0),
    "OBGYN": Template("Obstetrics and Gynaecology", "Women's Health", "Obstetrics and Gynaecology", None,
                      "CD", 0),
    "ANAES": Template("Anaesthetics", "Anaesthesia", "Anaesthetics", None, "CD", 0),
    "ICU": Template("Intensive Care", "Intensive Care", "Intensive Care Medicine", None, "CD", 0),
    "REHAB": Template("Rehabilitation Medicine", "Rehabilitation", "Rehabilitation Medicine", None, "B", 0,
                      ("excludable",)),
    "PALL": Template("Palliative Care", "Palliative Care", "Palliative Medicine", None, "B", 0, ("excludable",)),
    "ADDICT": Template("Addiction Medicine", "Addiction", "Addiction Medicine", None, "AB", 0, ("excludable",)),
    # A relief roster is a unit of its own (DISTINCT_SPECIALTIES), not the wards it covers.
    "MRELIEF": Template("Medical Relief", "Relief", MED, "Medical Relief", "A", 0, ("service",), TEN_WEEK_TERMS),
    "SRELIEF": Template("Surgical Relief", "Relief", SURG, "Surgical Relief", "D", 0, ("service",),
                        TEN_WEEK_TERMS),
    "NIGHTS": Template("Night Medical Cover", "After Hours", MED, "After Hours Medicine", "AC", 0,
                       ("service", "nights"), TEN_WEEK_TERMS),
}
# The non-core units, drawn in turn so that a service gets some of each.
MEDICAL_UNITS = ("CARD", "RESP", "RENAL", "GASTRO", "NEURO", "GERI", "ONC", "HAEM", "ENDO", "ID", "RHEUM")
SURGICAL_UNITS = ("COLO", "VASC", "UGI", "BREAST", "UROL", "ORTHO", "PLAST", "ENT", "CTS")
OTHER_UNITS = ("PSYCH", "PAEDS", "OBGYN", "ANAES", "ICU", "REHAB", "PALL", "ADDICT")
SERVICE_UNITS = ("MRELIEF", "SRELIEF", "NIGHTS")


@dataclass(frozen=True)
class RealService:
    """A fictional service with the local rules of a real one: a main site ``(code, hospital)`` and a
    second one, a range of line counts, and how its posts are made."""

    org: str
    main: tuple[str, str]
    second: tuple[str, str]
    lines: tuple[int, int]
    core_units: tuple[int, int, int]  # main-site posts of each core group, in CORE_GROUPS order
    external_places: int  # per term, of the second site's emergency post (in core-ed)
    link_then: tuple[str, ...]  # the main-site posts a line at the second site's emergency post also holds
    second_extras: tuple[str, ...]  # the second site's non-core posts
    service_posts: int  # relief posts among the main site's non-core posts
    community_places: int  # per term, of the community post (one placement over two terms)


REAL_SERVICES: dict[str, RealService] = {
    "real-regional": RealService("Wattle Plains Health", ("WPB", "Wattle Plains Base Hospital"),
                                 ("EFD", "Emu Flat District Hospital"), lines=(41, 45), core_units=(1, 2, 1),
                                 external_places=1, link_then=("ONC",), second_extras=("GERI",),
                                 service_posts=1, community_places=2),
    "real-metropolitan": RealService("Jacaranda Health", ("JCH", "Jacaranda Central Hospital"),
                                     ("PBB", "Paperbark Bay Hospital"), lines=(120, 150), core_units=(1, 3, 2),
                                     external_places=2, link_then=("ONC", "HAEM"), second_extras=("GERI", "REHAB"),
                                     service_posts=3, community_places=4),
}
REAL_SIZES = tuple(REAL_SERVICES)
SIZES = tuple(SERVICES) + REAL_SIZES


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

    For a service with local rules (``REAL_SIZES``) see ``_generate_real``: there the plan also
    keeps the instance's own rules, and ``impossible`` starves a core group instead.
    """
    if size in REAL_SERVICES:
        doc, plan, _ = _generate_real(size, seed, tight, impossible)
        return doc, plan
    if size not in SERVICES:
        raise ValueError(f"unknown size {size!r}; sizes: {', '.join(SIZES)}")
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


def planted_solution(size: str, seed: int = 0, tight: bool = True) -> dict:
    """The solution document of the lines planted in a service with local rules, leave included:
    the one the independent checker passed when the instance was made."""
    if size not in REAL_SERVICES:
        raise ValueError(f"size {size!r} plants no leave; sizes with a planted solution: {', '.join(REAL_SIZES)}")
    return _generate_real(size, seed, tight, impossible=False)[2]


def planted_rules(size: str) -> list[str]:
    """The rulesets (``request.constraints``) every planted line of ``size`` keeps."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; sizes: {', '.join(SIZES)}")
    return list(REAL_CONSTRAINTS if size in REAL_SERVICES else RULESETS)


def group_places(doc: dict, group: str) -> int:
    """Placements the posts of ``group`` offer in the year: each post's places summed over the terms,
    divided by its span (a placement takes a place in every term it covers). A line rule that asks
    every line for at least one placement of the group allows at most this many lines."""
    members = doc["groups"][group]
    return sum(sum(_per_term(p["capacity"])) // p.get("span", 1) for p in doc["positions"] if p["key"] in members)


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


# ---------------------------------------------------------------- services with local rules

def _generate_real(size: str, seed: int, tight: bool, impossible: bool) -> tuple[dict, list[list[str]], dict]:
    """A service with local rules, its planted plan (a post key per term; a community placement
    shows its key in both terms it covers) and the planted solution document, leave included.

    How it is made, by construction rather than search:

    1. Posts (``_real_posts``): few large core posts in three groups (emergency, general medicine,
       general surgery), of which the second site's emergency post is linked to main-site posts;
       small non-core units, about one per two places a term needs; a community post held for
       two terms; a few posts at the second site.
    2. Roles (``_lay_out_roles``): each line does one term of each core group, the others non-core
       (or its community placement), laid out so every term carries about the same load of each.
    3. Core posts (``_place_core``), then non-core posts (``_fill_non_core``): each non-core term
       takes the least held small post (at most MOST_SMALL_PLACES lines) that the line can hold
       beside its others (``_Fit.fits``).
    4. Leave (``_plant_leave``): the fixed year-end block, and one planned block per line in one of
       its non-core terms (so all planned leave is preferred), where the fewest lines are away.
    5. Capacities from the plan, as in the other family (tight: exact; loose: 0-2 spare places),
       and ``max_concurrent`` the planted peak (loose: one more).

    The planted solution is checked by the independent checker under REAL_CONSTRAINTS; a finding
    stops the generator. ``impossible`` then moves places from one core group to non-core posts
    until the group offers fewer placements than there are lines (``_starve_core_group``).
    """
    service = REAL_SERVICES[size]
    rng = random.Random(seed)
    n_lines = rng.randint(*service.lines)
    start_date = rng.choice(START_MONDAYS)
    posts, group_of = _real_posts(service, n_lines, rng)
    plan = _real_plan(service, posts, group_of, n_lines, rng)
    firsts, peak = _plant_leave(plan, group_of, rng)
    positions = [_real_position(post, plan, tight, rng) for post in posts
                 if any(post["key"] in line for line in plan)]
    doc = _real_document(service, start_date, positions, group_of, peak if tight else peak + 1)
    solution = _planted_document(doc, plan, firsts)
    found = check(doc, solution)
    if found:
        raise RuntimeError(f"{size} seed {seed}: the planted lines break the instance's rules: "
                           + "; ".join(str(v) for v in found[:5]))
    if impossible:
        _starve_core_group(doc, n_lines, rng)
    for position in positions:
        position["capacity"], position["min_fill"] = _compact(position["capacity"]), _compact(position["min_fill"])
    return doc, plan, solution


def _real_document(service: RealService, start_date: str, positions: list[dict], group_of: dict[str, str],
                   max_concurrent: int) -> dict:
    """The instance document: the positions, the groups, the three core line rules, the link, the
    home site and the leave with its local settings."""
    kept = [p["key"] for p in positions]
    then = " or ".join(REAL_TEMPLATES[code].name.lower() for code in service.link_then)
    return {
        "format": FORMAT,
        "org": {"name": service.org},
        "cohort": "PGY1",
        "start_date": start_date,
        "term_weeks": list(TERM_WEEKS),
        "leave": {**json.loads(json.dumps(REAL_LEAVE)), "max_concurrent": max_concurrent},
        "positions": positions,
        "pins": [],
        "affinity": None,
        "groups": {group: [key for key in kept if group_of[key] == group] for group in (*CORE_GROUPS, NON_CORE)},
        "line_rules": [{"name": name, "group": group, "min": 1, "max": 1}
                       for group, (_, name) in CORE_GROUPS.items()],
        "links": [{"name": f"{service.second[1]} emergency with {then}", "if": _external_key(service),
                   "then": _link_targets(service)}],
        "home_site_min_terms": HOME_SITE_MIN_TERMS,
    }


def _external_key(service: RealService) -> str:
    return f"{service.second[0]}-{CORE_GROUPS['core-ed'][0]}"


def _link_targets(service: RealService) -> list[str]:
    return [f"{service.main[0]}-{code}" for code in service.link_then]


def _real_posts(service: RealService, n_lines: int, rng: random.Random) -> tuple[list[dict], dict[str, str]]:
    """The service's posts (rule fields, site and span; no capacities yet) and each post's group."""
    (main, main_name), (second, second_name) = service.main, service.second
    posts, group_of = [], {}

    def add(code: str, campus: str, hospital: str, group: str, unit: int | None = None) -> None:
        template = REAL_TEMPLATES[code]
        key = f"{campus}-{code}{unit or ''}"
        posts.append({**_post(template, key, campus, unit, hospital), "site": hospital, "span": template.span})
        group_of[key] = group

    for (group, (code, _)), units in zip(CORE_GROUPS.items(), service.core_units):
        for unit in range(1, units + 1):
            add(code, main, main_name, group, unit if units > 1 else None)
    add(CORE_GROUPS["core-ed"][0], second, second_name, "core-ed")
    for code in _non_core_codes(service, n_lines, rng):
        add(code, main, main_name, NON_CORE)
    add("COMM", main, main_name, NON_CORE)
    for code in service.second_extras:
        add(code, second, second_name, NON_CORE)
    return posts, group_of


def _community_lines(service: RealService) -> int:
    return len(REAL_TEMPLATES["COMM"].terms) * service.community_places


def _non_core_codes(service: RealService, n_lines: int, rng: random.Random) -> list[str]:
    """The main site's non-core units: the link's targets, relief posts, then medicine, surgery and
    other units in turn. Lines without a community placement hold two non-core terms, so a term
    needs about 2 (N - community lines) / 5 places: one post per two of them, second site included."""
    wanted = -(-(n_lines - _community_lines(service)) // 5) - len(service.second_extras)
    codes = list(service.link_then) + rng.sample(SERVICE_UNITS, service.service_posts)
    streams = [[code for code in units if code not in codes and code not in service.second_extras]
               for units in (MEDICAL_UNITS, SURGICAL_UNITS, OTHER_UNITS)]
    for units in streams:
        rng.shuffle(units)
    while len(codes) < wanted and any(streams):
        for units in streams:
            if units and len(codes) < wanted:
                codes.append(units.pop())
    return codes


def _real_plan(service: RealService, posts: list[dict], group_of: dict[str, str], n_lines: int,
               rng: random.Random) -> list[list[str]]:
    """N lines of the service: community placements first, then core posts, then non-core posts."""
    community = next(post for post in posts if post["span"] > 1)
    starts = [start for start in community["terms"] for _ in range(service.community_places)]
    community_start = dict(zip(rng.sample(range(n_lines), len(starts)), starts))  # line -> start term
    roles = _lay_out_roles(n_lines, community_start, community["span"], rng)
    plan: list[list[str | None]] = [[None] * len(TERM_WEEKS) for _ in range(n_lines)]
    for line, start in community_start.items():
        for t in range(start - 1, start - 1 + community["span"]):
            plan[line][t] = community["key"]
    _place_core(plan, roles, posts, group_of, service, rng)
    return _fill_non_core(plan, roles, posts, group_of, service, rng)


def _lay_out_roles(n_lines: int, community_start: dict[int, int], span: int,
                   rng: random.Random) -> list[tuple[str, ...]]:
    """Each line's role per term: one term in each core group, the others non-core or its community
    placement. Line by line, the layout whose (term, role) pairs are held least so far (random among
    equals), so each term carries about N/5 lines of each role."""
    load: Counter = Counter()
    layouts = []
    for line in range(n_lines):
        options = _role_layouts(community_start.get(line), span)
        best = min(options, key=lambda roles: (sum(load[pair] for pair in enumerate(roles)), rng.random()))
        load.update(enumerate(best))
        layouts.append(best)
    return layouts


def _role_layouts(community_start: int | None, span: int) -> list[tuple[str, ...]]:
    """Every way to put the core groups in distinct terms around a community placement (if any)."""
    base = [NON_CORE] * len(TERM_WEEKS)
    if community_start is not None:
        for t in range(community_start - 1, community_start - 1 + span):
            base[t] = COMMUNITY
    free = [t for t, role in enumerate(base) if role == NON_CORE]
    layouts = []
    for terms in itertools.permutations(free, len(CORE_GROUPS)):
        roles = list(base)
        for t, group in zip(terms, CORE_GROUPS):
            roles[t] = group
        layouts.append(tuple(roles))
    return layouts


def _place_core(plan: list[list], roles: list[tuple[str, ...]], posts: list[dict], group_of: dict[str, str],
                service: RealService, rng: random.Random) -> None:
    """Each term's lines of a core group dealt over the group's posts. A second-site post takes its
    places first, from lines without a community placement: its link needs a free non-core term."""
    main_site = service.main[1]
    for group in CORE_GROUPS:
        members = [post for post in posts if group_of[post["key"]] == group]
        at_main = [post["key"] for post in members if post["site"] == main_site]
        elsewhere = [post["key"] for post in members if post["site"] != main_site]
        for t in range(len(TERM_WEEKS)):
            lines = [line for line, layout in enumerate(roles) if layout[t] == group]
            rng.shuffle(lines)
            for key in elsewhere:
                taken = [line for line in lines if COMMUNITY not in roles[line]][:service.external_places]
                for line in taken:
                    plan[line][t] = key
                lines = [line for line in lines if line not in taken]
            for i, line in enumerate(lines):
                plan[line][t] = at_main[(i + t) % len(at_main)]


def _fill_non_core(plan: list[list], roles: list[tuple[str, ...]], posts: list[dict], group_of: dict[str, str],
                   service: RealService, rng: random.Random) -> list[list[str]]:
    """Every non-core term of every line, by ``_try_fill_non_core``; a line order that leaves a line
    without a post is dropped and the filling starts again in another order."""
    fit = _Fit({post["key"]: post for post in posts}, group_of, service.main[1])
    pool = [post for post in posts if group_of[post["key"]] == NON_CORE and post["span"] == 1]
    targets = [fit.posts[key] for key in _link_targets(service)]
    for _ in range(FILL_ATTEMPTS):
        trial = [list(line) for line in plan]
        if _try_fill_non_core(trial, roles, pool, targets, _external_key(service), fit, rng):
            return trial
    raise RuntimeError(f"{service.org}: no way found to fill the non-core terms of {len(plan)} lines "
                       f"in {FILL_ATTEMPTS} line orders")


@dataclass(frozen=True)
class _Fit:
    """What a line may hold besides its posts so far (``fits``), by design of the family."""

    posts: dict[str, dict]
    group_of: dict[str, str]
    main_site: str

    def fits(self, line: list[str | None], post: dict) -> bool:
        """No repeat; no two posts of one unit (DISTINCT_SPECIALTIES); no two non-core posts of one
        specialty (a core post gives each core specialty one placement, so a line holds at most 22
        weeks of a specialty, under the 50% cap); at most one service term (a second would exceed
        the 20% cap); and enough terms at the main site for the home-site rule."""
        held = [self.posts[key] for key in dict.fromkeys(key for key in line if key is not None)]
        if post["key"] in line or _unit(post) in {_unit(other) for other in held}:
            return False
        if any(self.group_of[other["key"]] == NON_CORE and other["specialty"] == post["specialty"]
               for other in held):
            return False
        if post["service"] and any(other["service"] for other in held):
            return False
        away = sum(1 for key in line if key is not None and self.posts[key]["site"] != self.main_site)
        return away + (post["site"] != self.main_site) <= len(TERM_WEEKS) - HOME_SITE_MIN_TERMS


def _unit(post: dict) -> str:
    return post["subspecialty"] or post["specialty"]


def _try_fill_non_core(plan: list[list], roles: list[tuple[str, ...]], pool: list[dict], targets: list[dict],
                       linked: str, fit: _Fit, rng: random.Random) -> bool:
    """Fill the non-core terms in one random line order, the lines at the linked post first, each
    taking one of the link's targets; False when some line finds no post."""
    held: Counter = Counter()  # (key, term index) -> lines
    at_link = [line for line, keys in enumerate(plan) if linked in keys]
    others = [line for line in range(len(plan)) if linked not in plan[line]]
    rng.shuffle(at_link)
    rng.shuffle(others)
    for line in at_link + others:
        open_terms = [t for t, role in enumerate(roles[line]) if role == NON_CORE]
        wanted = [targets] if line in at_link else []
        wanted += [pool] * (len(open_terms) - len(wanted))
        for candidates in wanted:
            choice = _least_held(plan[line], [t for t in open_terms if plan[line][t] is None], candidates,
                                 held, fit, rng)
            if choice is None:
                return False
            t, key = choice
            plan[line][t] = key
            held[key, t] += 1
    return True


def _least_held(line: list, terms: list[int], candidates: list[dict], held: Counter, fit: _Fit,
                rng: random.Random) -> tuple[int, str] | None:
    """(term index, key) of the least held candidate with room in one of ``terms`` that the line can
    hold (random among equals); None if there is none."""
    options = [(held[post["key"], t], rng.random(), t, post["key"]) for t in terms for post in candidates
               if _offered(post, t + 1) and held[post["key"], t] < MOST_SMALL_PLACES and fit.fits(line, post)]
    if not options:
        return None
    _, _, t, key = min(options)
    return t, key


def _planned_starts(term: int) -> list[int]:
    """Weeks a planted planned block may start in, inside ``term`` (1-based): clear of the blocked
    weeks and at least min_gap_weeks from every fixed block."""
    first = 1 + sum(TERM_WEEKS[:term - 1])
    last = first + TERM_WEEKS[term - 1] - 1
    blocked = set(REAL_LEAVE["blocked_weeks"])
    gap = REAL_LEAVE["min_gap_weeks"]

    def clear(start: int) -> bool:
        end = start + PLANTED_BLOCK - 1
        return not blocked & set(range(start, end + 1)) and all(
            block["start_week"] - end - 1 >= gap or start - (block["start_week"] + block["weeks"] - 1) - 1 >= gap
            for block in REAL_LEAVE["fixed_blocks"])

    return [start for start in range(first, last - PLANTED_BLOCK + 2) if clear(start)]


def _plant_leave(plan: list[list[str]], group_of: dict[str, str], rng: random.Random) -> tuple[list[int], int]:
    """Each line's planned block (its first week) in one of its non-core terms, where the fewest
    lines are on planned leave so far (relief cover); and the most lines on planned leave in a week.
    Every line has a non-core term in terms 1-4 (three core terms leave two, and a community
    placement lies in terms 1-4), so every line finds a block."""
    on_leave: Counter = Counter()
    firsts = []
    for number, line in enumerate(plan, start=1):
        starts = [start for t, key in enumerate(line, start=1) if group_of[key] == NON_CORE
                  for start in _planned_starts(t)]
        if not starts:
            raise RuntimeError(f"line {number} has no non-core term that can hold planned leave")
        first = min(starts, key=lambda s: (max(on_leave[w] for w in range(s, s + PLANTED_BLOCK)),
                                           sum(on_leave[w] for w in range(s, s + PLANTED_BLOCK)), rng.random()))
        on_leave.update(range(first, first + PLANTED_BLOCK))
        firsts.append(first)
    return firsts, max(on_leave.values())


def _real_position(post: dict, plan: list[list[str]], tight: bool, rng: random.Random) -> dict:
    """The position object: the post with capacity and min_fill per term from its planted counts;
    its ``terms`` are where it is held (for a span post: where its placements start)."""
    counts = _counts(plan, post["key"])
    if tight:
        capacity, min_fill = list(counts), list(counts)
    else:
        capacity = [c + rng.randint(0, 2) if c else 0 for c in counts]
        min_fill = [max(0, c - rng.randint(0, 1)) for c in counts]
    if post["excludable"]:
        min_fill = [max(0, c - 1) for c in counts] if rng.random() < 0.5 else [0] * len(counts)
    if post["span"] > 1:
        terms = sorted({line.index(post["key"]) + 1 for line in plan if post["key"] in line})
    else:
        terms = [t for t, c in enumerate(counts, start=1) if c]
        terms = None if len(terms) == len(TERM_WEEKS) else terms
    return {
        **{field: post[field] for field in ("key", "name", "team", "specialty", "subspecialty", "categories")},
        "capacity": capacity,
        "min_fill": min_fill,
        "terms": terms,
        **{flag: post[flag] for flag in FLAGS},
        "site": post["site"],
        "span": post["span"],
    }


def _planted_document(doc: dict, plan: list[list[str]], firsts: list[int]) -> dict:
    """The solution document of the planted lines: each with the fixed blocks and its planned block."""
    instance = parse_instance(doc)
    fixed = {block["start_week"] + i for block in REAL_LEAVE["fixed_blocks"] for i in range(block["weeks"])}
    lines = [{"name": f"Line {number}",
              "rotations": rotations(instance, tuple(line), fixed | set(range(first, first + PLANTED_BLOCK)))}
             for number, (line, first) in enumerate(zip(plan, firsts), start=1)]
    return {"format": SOLUTION_FORMAT, "status": "COMPLETED",
            "request": {"n_job_lines": len(plan), "constraints": list(REAL_CONSTRAINTS), "allow_partial": False},
            "lines": lines, "metrics": {}, "explanation": None}


def _starve_core_group(doc: dict, n_lines: int, rng: random.Random) -> str:
    """Move places from one core group to the non-core posts, a place at a time, until the group
    offers fewer placements than there are lines: its line rule (min 1) then allows fewer lines than
    were planted. Each place leaves the group's post with the most places in some term (min_fill
    follows it down) for the non-core post with the fewest places in that term, so every term still
    offers a place per line and only the line rule stands in the way. Returns the group."""
    group = rng.choice(list(CORE_GROUPS))
    members = [p for p in doc["positions"] if p["key"] in doc["groups"][group]]
    small = [p for p in doc["positions"] if p["key"] in doc["groups"][NON_CORE] and p["span"] == 1]
    while group_places(doc, group) >= n_lines:
        post, t = max(((p, t) for p in members for t in range(len(TERM_WEEKS))),
                      key=lambda pair: pair[0]["capacity"][pair[1]])
        post["capacity"][t] -= 1
        post["min_fill"][t] = min(post["min_fill"][t], post["capacity"][t])
        receiver = min((p for p in small if p["capacity"][t] > 0), key=lambda p: p["capacity"][t])
        receiver["capacity"][t] += 1
    return group


# ---------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> None:
    """Print a generated instance as JSON."""
    parser = argparse.ArgumentParser(prog="python -m receptor_planner_tools.generator", description=main.__doc__)
    parser.add_argument("size", choices=list(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loose", action="store_true", help="spare capacity instead of a tight instance")
    parser.add_argument("--impossible", action="store_true",
                        help="too few category D places (with local rules: too few places in a core group)")
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.size, args.seed, not args.loose, args.impossible), indent=2))


if __name__ == "__main__":
    main()
