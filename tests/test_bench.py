"""The benchmark's baselines are honest: what they call complete lines passes the independent checker.

No timing is asserted; the benchmark reports times, the tests only check the lines.
"""
from __future__ import annotations

from collections import Counter

import pytest

from receptor_planner_tools import bench
from receptor_planner.checker import check
from receptor_planner_tools.generator import generate
from receptor_planner.instance import parse_instance
from receptor_planner.rules import resolve_rules


@pytest.fixture(scope="module")
def rural():
    doc = generate("rural", 0)
    instance = parse_instance(doc)
    return doc, instance, instance.default_lines(), resolve_rules(bench.RULESET, instance.cohort)


def violations(doc, instance, n, built) -> list:
    return check(doc, bench.solution_document(instance, n, built))


@pytest.mark.parametrize("seed", [0, 1])
def test_greedy_lines_pass_the_checker(seed):
    doc = generate("rural", seed)
    instance = parse_instance(doc)
    n = instance.default_lines()
    built = bench.greedy(instance, resolve_rules(bench.RULESET, instance.cohort), n)
    assert 0 < len(built.lines) <= n
    found = violations(doc, instance, n, built)
    if built.status == "COMPLETED":
        assert len(built.lines) == n
        assert found == []
    else:  # stopped short: the posts it left empty miss staff, but every line it built complies
        assert len(built.lines) < n
        assert {v.rule for v in found} == {"MIN_FILL"}, found


def test_greedy_completes_some_rural_service():
    """So the COMPLETED branch above is exercised: first fit builds every line of rural seed 1."""
    doc = generate("rural", 1)
    instance = parse_instance(doc)
    built = bench.greedy(instance, resolve_rules(bench.RULESET, instance.cohort), instance.default_lines())
    assert built.status == "COMPLETED"


def test_straightforward_model_lines_pass_the_checker(rural):
    doc, instance, n, rules = rural
    built = bench.straightforward(instance, rules, n, seconds=60)
    assert built.status == "COMPLETED", built.note
    assert len(built.lines) == n and built.bound == n
    assert violations(doc, instance, n, built) == []


@pytest.mark.slow
def test_the_straightforward_model_says_when_more_lines_cannot_be_built(rural):
    doc, instance, n, rules = rural
    built = bench.straightforward(instance, rules, n + 1, seconds=60)
    assert built.status == "INFEASIBLE" and built.lines == []


def test_a_row_reports_the_checker_and_the_quality_columns(rural):
    doc, instance, n, rules = rural
    row = bench.evaluate("greedy first-fit", "rural", 0, seconds=10)
    assert set(row) >= {"built", "violations", "duplicates", "hamming_min", "hamming_mean",
                        "unfilled_excludable", "total_seconds", "peak_mib"}
    # the row says what an independent run of the same method on the same service gives
    built = bench.greedy(instance, rules, n)
    found = Counter(v.rule for v in violations(doc, instance, n, built))
    assert (row["n"], row["built"], row["status"]) == (n, len(built.lines), built.status)
    assert (row["violations"], row["violation_rules"]) == (found.total(), dict(found))
    posts = [p for p, _ in built.lines]
    assert row["duplicates"] == len(posts) - len(set(posts))
    # and counts what is there: first fit stops short on rural seed 0, leaving places empty (MIN_FILL)
    assert row["status"] == "PARTIAL" and row["built"] < n
    assert row["violation_rules"] == {"MIN_FILL": row["violations"]} and row["violations"] > 0


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert bench.percentile(values, 0.95) == 19.0
    assert bench.percentile(values, 0.5) == 10.0


def test_a_reproducibility_row_checks_the_lines_and_fingerprints_them():
    first, second = (bench.reproduce("rural", impossible=False, workers=1, seconds=20) for _ in range(2))
    assert first["violations"] == 0 and first["status"] == "COMPLETED"
    assert first["built"] == first["bound"] > 0
    assert first["reproducible"] is True
    assert first["fingerprint"] == second["fingerprint"]
    text = bench.reproducibility_report({"rows": [{"size": "rural", "case": "loose", "workers": 1,
                                                   "runs": [first, second]}], "seconds": 20})
    assert "| rural | loose | 1 | COMPLETED |" in text and "**no**" not in text


def test_the_idle_memory_baseline_imports_the_solver_in_a_fresh_process():
    """The memory column's baseline: a new interpreter that imported the core solver, nothing solved."""
    mib = bench.in_fresh_process(bench.idle_process_mib, timeout=120)
    assert 20 < mib < 2000


def test_the_targets_verdict_names_each_service_that_misses():
    row = {"method": "this solver", "size": "real-regional", "seed": 0, "n": 44, "built": 44, "bound": 44,
           "violations": 0, "first_seconds": 0.2, "total_seconds": 3.0, "leave_preferred_share": 1.0}
    slow = {**row, "seed": 1, "total_seconds": 7.5}
    large = {**row, "size": "stress", "n": 302, "total_seconds": 60.0}  # beyond the targets' size
    baseline = {**row, "method": "greedy first-fit", "total_seconds": 99.0}
    verdict = bench.targets_verdict([row, slow, large, baseline])
    assert "whole solve within 5 s: **missed** on real-regional seed 1" in verdict
    assert "first complete solution within 1 s: **met**" in verdict and "stress" not in verdict
    assert "on the 2 services" in verdict
