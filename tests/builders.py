"""Small instance documents for tests, and a solve that always goes through the checker."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plpython"))

from receptor_planner.checker import check  # noqa: E402
from receptor_planner.instance import parse_instance, parse_request  # noqa: E402
from receptor_planner.solution import to_document  # noqa: E402
from receptor_planner.solve import solve  # noqa: E402


def post(key: str, terms=None, capacity=1, categories=("A",), specialty=None, **attributes) -> dict:
    """A position; ``terms`` limits where it is offered."""
    doc = {"key": key, "name": key, "specialty": specialty or key,
           "categories": list(categories), "capacity": capacity, "terms": terms}
    if attributes.get("non_clinical"):
        doc["categories"] = []
    doc.update(attributes)
    return doc


def instance(positions: list[dict], term_weeks=(13, 13, 13, 13), leave=None, cohort="PGY1", pins=None) -> dict:
    return {"format": "receptor-planner/instance@1", "org": {"name": "Test Health"}, "cohort": cohort,
            "start_date": "2027-01-04", "term_weeks": list(term_weeks),
            "leave": leave or {"weeks": 0}, "positions": positions, "pins": pins or []}


def solve_checked(doc: dict, n: int, constraints=("UNRESTRICTED",), allow_partial=True,
                  seconds=20, seed=0, workers=1) -> dict:
    """Solve and return the solution document, asserting the checker finds nothing."""
    inst = parse_instance(doc)
    request = parse_request({"n_job_lines": n, "constraints": list(constraints), "allow_partial": allow_partial,
                             "max_seconds": seconds, "seed": seed, "num_workers": workers},
                            inst.cohort, inst.n_terms)
    solution = to_document(inst, request, solve(inst, request))
    violations = check(doc, solution)
    assert violations == [], "\n".join(map(str, violations))
    return solution


def built(solution: dict) -> int:
    return len(solution["lines"])


def posts_of(solution: dict, line: int) -> list[str]:
    """The post of each term of a line (1-based line number)."""
    terms: dict[int, str] = {}
    for rotation in solution["lines"][line - 1]["rotations"]:
        if rotation["kind"] == "clinical":
            terms[rotation["term"]] = rotation["position"]
    return [terms[t] for t in sorted(terms)]
