"""The stages after the lines are built are data (``solve.STAGES``) run by one loop; CP-SAT and
the solve itself run in a thread while the caller polls (``solve.run_polled``)."""
import os
import threading
import time

import pytest

from builders import default_lines, instance, post, posts_of, solve_checked
from receptor_planner import solve
from receptor_planner.solve import STAGES, Stage, Stopped, run_polled


def two_of_each() -> dict:
    """Four lines over four posts that take two lines each: the lines can differ in every term."""
    return instance([post(k, capacity=2) for k in "ABCD"])


def a_in_first_term(after):
    posts = after.instance.positions
    return sum(var for (l, t, p), var in after.lm.v.x.items() if t == 1 and posts[p].key == "A")


def lines_in_a_first(solution) -> int:
    return sum(posts_of(solution, line)[0] == "A" for line in range(1, 5))


def test_the_declared_stages_run_in_lexicographic_order():
    assert [stage.name for stage in STAGES] == ["unfilled", "duplicates", "smallest_distance", "mean_distance",
                                                "affinity"]
    # only the stages after the smallest distance may be undone for lowering it
    assert [stage.name for stage in STAGES if stage.guard] == ["mean_distance", "affinity"]


@pytest.mark.parametrize("hold", [True, False])
def test_a_stage_holds_its_optimum_for_the_stages_after(monkeypatch, hold):
    monkeypatch.setattr(solve, "STAGES", (Stage("most_A", a_in_first_term, maximize=True, hold=hold),
                                          Stage("fewest_A", a_in_first_term, maximize=False)))
    solution = solve_checked(two_of_each(), 4)
    assert lines_in_a_first(solution) == (2 if hold else 0)
    assert solution["metrics"]["solver_status"]["fewest_A"] == "OPTIMAL"


@pytest.mark.parametrize("guard", ["UNDONE", None])
def test_a_guarded_stage_is_undone_when_it_lowers_the_smallest_distance(monkeypatch, guard):
    # the lines differ in every term, and nothing holds it: a stage after may lower it
    diverse = Stage("diverse", lambda after: after.lm.add_smallest_distance(4), maximize=True, hold=False)
    monkeypatch.setattr(solve, "STAGES", (diverse, Stage("most_A", a_in_first_term, maximize=True, guard=guard)))
    solution = solve_checked(two_of_each(), 4)
    if guard:
        assert solution["metrics"]["solver_status"]["most_A"] == "UNDONE"
        assert (solution["metrics"]["hamming_min"], lines_in_a_first(solution)) == (4, 1)
    else:  # two lines in A share the first term, so they differ in at most three
        assert solution["metrics"]["solver_status"]["most_A"] == "OPTIMAL"
        assert solution["metrics"]["hamming_min"] < 4 and lines_in_a_first(solution) == 2


def test_a_stage_with_nothing_to_gain_does_not_run(monkeypatch):
    monkeypatch.setattr(solve, "STAGES", (Stage("nothing", lambda after: None, maximize=True),
                                          Stage("never", a_in_first_term, maximize=True,
                                                applies=lambda after: False, polish="before")))
    statuses = solve_checked(two_of_each(), 4)["metrics"]["solver_status"]
    assert not {"nothing", "never", "diversity"} & set(statuses)


def test_run_polled_returns_the_work_and_runs_it_at_the_asked_priority():
    mine = os.nice(0)
    assert run_polled(lambda: 42, lambda: False, lambda: None, "test") == 42
    assert run_polled(lambda: os.nice(0), None, lambda: None, "test", nice=3) == mine + 3
    assert os.nice(0) == mine  # only the worker thread was lowered


def test_run_polled_stops_the_work_when_the_poll_says_so():
    stop, stops = threading.Event(), []

    def work():
        stop.wait(30)
        return "finished"

    started = time.monotonic()
    with pytest.raises(Stopped):
        run_polled(work, lambda: time.monotonic() - started > 0.3, lambda: (stops.append(1), stop.set()), "test")
    assert stops == [1] and stop.is_set()  # asked once; the work ended before the raise


def test_run_polled_stops_the_work_and_raises_when_the_poll_raises():
    stop, ended = threading.Event(), threading.Event()

    def work():
        stop.wait(30)
        ended.set()

    def poll():
        raise KeyboardInterrupt("statement cancelled")

    with pytest.raises(KeyboardInterrupt):
        run_polled(work, poll, stop.set, "test")
    assert ended.is_set()  # joined, not left running


def test_run_polled_hands_the_work_error_to_the_caller():
    def work():
        raise ValueError("inside the worker")

    with pytest.raises(ValueError, match="inside the worker"):
        run_polled(work, lambda: False, lambda: None, "test")


def test_a_stage_stopped_by_its_cap_reports_its_bound(monkeypatch):
    """On a real-shaped service the smallest distance is slow to prove: with a small cap the stage
    stops, keeps what it found and says how far from proven it is."""
    from receptor_planner_tools.generator import generate, planted_rules

    doc = generate("real-regional", 0)
    capped = Stage("smallest", lambda after: after.lm.add_smallest_distance(4), maximize=True, effort=0.3)
    monkeypatch.setattr(solve, "STAGES", (capped,))
    metrics = solve_checked(doc, default_lines(doc), constraints=planted_rules("real-regional"),
                            planted=default_lines(doc))["metrics"]
    assert metrics["solver_status"]["smallest"] == "FEASIBLE"
    bound, found = metrics["stage_bound"]["smallest"], metrics["hamming_min"]
    assert found <= bound <= 4 and metrics["gap"]["smallest"] == bound - found
