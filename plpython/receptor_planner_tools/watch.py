"""Following a planner run and summing up a solution document: ``planner watch``, ``make demo``
and ``planner solve`` print through here."""
from __future__ import annotations

import json
import sys
import time

from tabulate import tabulate

FINAL_EXIT_CODES = {"COMPLETED": 0, "INFEASIBLE": 1, "FAILED": 1, "CANCELLED": 3}
WATCH_TIMED_OUT = 4
WATCH_POLL_SECONDS = 0.25


def watch(url: str, run_id: str, *, show_lines: int = 0, timeout: float | None = None,
          waiting_note: str | None = None, poll: float = WATCH_POLL_SECONDS, out=None, as_json: bool = False) -> int:
    """Follow a planner run: a line per status change (and per change of the progress a running
    solve reports, where the run row carries one) with the seconds since the watch began, then the
    result summary. Returns the exit code: FINAL_EXIT_CODES, 2 for an unknown run or an unreachable
    database, WATCH_TIMED_OUT when ``timeout`` passes first (the run goes on).

    ``waiting_note`` is printed once when the run has waited a second for a worker. On a terminal, a live
    counter of the seconds waited stands below the last status line. ``as_json``: one JSON object a
    line instead, each status change ({"seconds", "status", "attempt", "progress"}), then the result
    ({"result": ...}); no counter, no notes.
    """
    from .cluster import connect

    out = out or sys.stdout
    live = out.isatty() and not as_json
    started = time.monotonic()
    conn = connect(url)
    if conn is None:
        return 2

    def say(text: str) -> None:
        print(("\r\033[K" if live else "") + text, file=out, flush=True)

    def say_json(value: dict) -> None:
        print(json.dumps(value, default=str), file=out, flush=True)

    with conn:
        seen, noted = None, False
        while True:
            row = _run_state(conn, run_id)
            elapsed = time.monotonic() - started
            if row is None:
                print(f"planner: no planner run with id {run_id}", file=sys.stderr)
                return 2
            # a run queued again shows PENDING, then a new attempt; a running solve may report progress
            if (row["status"], row["attempt"], row["progress"]) != seen:
                seen = (row["status"], row["attempt"], row["progress"])
                if as_json:
                    say_json({"seconds": round(elapsed, 2), "status": row["status"], "attempt": row["attempt"],
                              "progress": row["progress"]})
                else:
                    say(f"{elapsed:5.1f}s {_describe(row)}")
            if row["status"] == "PENDING" and waiting_note and not as_json and not noted and elapsed >= 1:
                say(waiting_note)  # once, and only when no worker took the run at once
                noted = True
            if row["status"] in FINAL_EXIT_CODES:
                break
            if timeout is not None and elapsed >= timeout:
                if as_json:
                    say_json({"seconds": round(elapsed, 2), "stopped_watching": True, "status": row["status"]})
                else:
                    say(f"{elapsed:5.1f}s stopped watching: the run is still {row['status']} "
                        f"(it goes on; `planner watch {run_id}` follows it again)")
                return WATCH_TIMED_OUT
            if live:
                out.write(f"\r\033[K{elapsed:5.1f}s ...")
                out.flush()
            time.sleep(poll)
        document = _result_document(conn, row)
    if as_json:
        say_json({"result": {key: document[key] for key in ("status", "error", "metrics", "explanation")}
                  | {"lines": len(document["lines"])}})
    else:
        say(summary(document, show_lines=show_lines))
    return FINAL_EXIT_CODES[row["status"]]


def _run_state(conn, run_id: str) -> dict | None:
    from psycopg.rows import dict_row

    cur = conn.cursor(row_factory=dict_row)
    # progress through to_jsonb: a schema whose runs carry no progress yet reads null
    return cur.execute("select id, status, attempt, worker_pid, error, result_metadata, allocation_run, "
                       "n_job_lines, to_jsonb(r) -> 'progress' as progress "
                       "from allocation_planner_runs r where id = %s", [run_id]).fetchone()


def _describe(row: dict) -> str:
    """One status, as a watch line."""
    status, error = row["status"], row["error"]
    metrics = (row["result_metadata"] or {}).get("metrics") or {}
    if status == "GENERATING":
        progress = row.get("progress") or {}
        shown = ", ".join(f"{key} {value}" for key, value in progress.items()) if isinstance(progress, dict) else ""
        return f"GENERATING (attempt {row['attempt']}, pid {row['worker_pid']})" + (f": {shown}" if shown else "")
    if status == "COMPLETED":
        return (f"COMPLETED: {metrics.get('lines_built', row['n_job_lines'])} of "
                f"{metrics.get('lines_requested', row['n_job_lines'])} lines")
    if status == "INFEASIBLE":
        explanation = (row["result_metadata"] or {}).get("explanation") or {}
        return f"INFEASIBLE: {explanation.get('summary') or error or 'no reason given'}"
    return status + (f": {error}" if error else "")  # PENDING (queued again: why), FAILED, CANCELLED


def _result_document(conn, row: dict) -> dict:
    """What summary() reads, from a final run: its status, error, metrics, explanation and lines."""
    meta = row["result_metadata"] or {}
    lines = []
    if row["status"] == "COMPLETED":
        # the allocation run's current lines, when this run wrote them (a later run may have replaced them)
        own = conn.execute("select exists (select 1 from job_lines where allocation_run_id = %s "
                           "and planner_run_id = %s)", [row["allocation_run"], row["id"]]).fetchone()[0]
        if own:
            lines = conn.execute("select planner.export_solution(%s) -> 'lines'",
                                 [row["allocation_run"]]).fetchone()[0]
    return {"status": row["status"], "error": row["error"],
            "metrics": meta.get("metrics") or {"lines_requested": row["n_job_lines"], "lines_built": 0},
            "explanation": meta.get("explanation"), "lines": lines}


def summary(document: dict, show_lines: int = 0) -> str:
    """A readable account of a solution document."""
    m = document.get("metrics") or {}
    out = [f"status: {document['status']}",
           f"lines: {m.get('lines_built', 0)} built of {m.get('lines_requested')} requested"
           + (f"; proven upper bound {m['lines_upper_bound']}" if m.get("lines_upper_bound") is not None else "")]
    if m.get("solver_status"):
        out.append("solver: " + ", ".join(f"{k} {v}" for k, v in m["solver_status"].items()))
    if "reproducible" in m:
        out.append("reproducible: " + ("yes, the same request and seed give these lines again"
                                       if m["reproducible"] else
                                       "no (" + ", ".join(m.get("stopped_by_clock") or ["racing CP-SAT workers"])
                                       + (" cut short by the clock)" if m.get("stopped_by_clock") else ")")))
    if "duplicate_lines" in m:
        out.append(f"quality: {m['duplicate_lines']} duplicate lines, Hamming distance min "
                   f"{m.get('hamming_min')} mean {m.get('hamming_mean')}, "
                   f"{m.get('unfilled_total', 0)} unfilled places on excludable posts, "
                   f"leave peak {m.get('leave_peak_weekly')} lines a week")
    if m.get("seconds"):
        out.append("seconds: " + ", ".join(f"{k} {v}" for k, v in m["seconds"].items())
                   + f"; first solution at {m.get('time_to_first_solution')}; total {m.get('total_seconds')}")
    if document.get("error"):
        out.append(f"error: {document['error']}")
    explanation = document.get("explanation")
    if explanation:
        out.append(f"why: {explanation['summary']}")
        out.extend(f"  - {r['rule']}: {r['message']}" for r in explanation.get("reasons", []))
    shown = document.get("lines", [])[:show_lines]
    if shown:
        terms = sorted({r["term"] for line in shown for r in line["rotations"]})
        out.append(tabulate([[line["name"], *_term_cells(line["rotations"], terms)] for line in shown],
                            headers=["line", *(f"term {t}" for t in terms)]))
    return "\n".join(out)


def _term_cells(rotations: list[dict], terms: list[int]) -> list[str]:
    """One cell per term: its post, and its leave weeks if any."""
    cells: dict[int, list[str]] = {t: ["?", ""] for t in terms}
    for r in rotations:
        cell = cells[r["term"]]
        if r["kind"] == "clinical":
            cell[0] = r["position"]
        else:
            cell[1] += f" (leave w{r['start_week']}-{r['end_week']})"
    return [f"{post}{leave}" for post, leave in (cells[t] for t in terms)]
