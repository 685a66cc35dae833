"""The one adapter between the planner core and PL/Python.

Functions that touch the database take ``plpy`` as their first argument; the
SQL wrappers in sql/*.sql only load the package and call in here. What a
solve writes about its run (the fenced status, the log, the lines) is SQL of
its own, small named functions of sql/52_run_state.sql called here by name.
The ``*_error`` helpers turn SQL values into documents for the core validators
(instance.py, rules.py) and return their message, or None: the schema's
triggers raise it, so SQL never re-implements validation.
"""
from __future__ import annotations

import dataclasses
import json
import time

from .instance import MAX_DOCUMENT_CHARS, MAX_KEY_CHARS, MAX_LINES, MAX_OPTIONS_CHARS, InvalidDocument, Instance, \
    Leave, load_json, parse_affinity, parse_instance, parse_leave, parse_request
from .locks import keep_locked, keep_locked_error, pin_locked_lines
from .rules import RuleError, resolve_rules

OPTION_KEYS = ("allow_partial", "max_seconds", "seed", "num_workers", "keep_locked")


def _json(value, field: str = "", max_chars: int = MAX_DOCUMENT_CHARS):
    """PL/Python hands json/jsonb over as text: parsed within instance.load_json's size and depth
    limits, or InvalidDocument naming ``field`` (or the too deep part under it)."""
    return load_json(value, field, max_chars) if isinstance(value, str) else value


# ---------------------------------------------------------------- validators for triggers

def constraints_error(constraints, cohort: str) -> str | None:
    """Why a planner run's ruleset list cannot be used for the cohort, or None."""
    for i, name in enumerate(constraints or []):  # a text[] of any size or shape: never quote it whole
        if not isinstance(name, str) or len(name) > MAX_KEY_CHARS:
            return f"ruleset {i + 1} is not a name of at most {MAX_KEY_CHARS} characters"
    try:
        resolve_rules(list(constraints or []), cohort)
    except RuleError as e:
        return str(e)
    return None


def options_error(options) -> str | None:
    """``field: reason`` for a planner run's options object, or None."""
    if isinstance(options, str) and len(options) > MAX_OPTIONS_CHARS:
        return None  # the options_is_at_most_..._characters constraint reports it
    try:
        doc = _json(options)  # a too deep part is named by its path, which starts with its option
        if not isinstance(doc, dict):
            return None  # the options_is_an_object constraint reports it
        for key in doc:
            if key not in OPTION_KEYS:
                raise InvalidDocument(key if len(key) <= 40 else key[:37] + "...",
                                      f"is not a known option ({', '.join(OPTION_KEYS)})")
        # n_job_lines and constraints have their own checks; validate the options alone.
        parse_request({**doc, "n_job_lines": 1, "constraints": []}, "PGY3+", 1)
    except InvalidDocument as e:
        return str(e)
    return keep_locked_error(doc)


def _term_weeks_ok(term_weeks) -> bool:
    return bool(term_weeks) and all(isinstance(w, int) and w >= 1 for w in term_weeks)


def leave_error(leave, term_weeks) -> str | None:
    """``leave.field: reason`` for a plan's leave object, or None."""
    if not _term_weeks_ok(term_weeks):
        return None  # the term_weeks constraints report it
    try:
        parse_leave(_json(leave, "leave"), tuple(term_weeks))
    except InvalidDocument as e:
        return str(e)
    return None


def leave_document(leave: Leave) -> dict:
    """A parsed leave object as JSON with every default filled in."""
    return {
        "weeks": leave.weeks,
        "patterns": [list(p) for p in leave.patterns],
        "min_gap_weeks": leave.min_gap_weeks,
        "within_term": leave.within_term,
        "max_concurrent": leave.max_concurrent,
        "fixed_blocks": [{"start_week": s, "weeks": n} for s, n in leave.fixed_blocks],
        "front_load_target": leave.front_load_target,
        "blocked_weeks": list(leave.blocked_weeks),
        "preferred_groups": list(leave.preferred_groups),
    }


def normal_leave(leave, term_weeks) -> str:
    """The leave object normalised with defaults, as JSON text (call after leave_error)."""
    if not _term_weeks_ok(term_weeks):
        return json.dumps(_json(leave))
    return json.dumps(leave_document(parse_leave(_json(leave), tuple(term_weeks))))


def affinity_error(version, source, weights) -> str | None:
    """``affinity_profiles.field: reason`` for a profile, or None."""
    try:
        weights = _json(weights, "affinity_profiles.weights")
        parse_affinity({"version": version, "source": source, "weights": weights}, "affinity_profiles")
    except InvalidDocument as e:
        return str(e)
    return None


# ---------------------------------------------------------------- import

def import_instance(plpy, doc_text, org_id=None) -> str:
    """Write an instance document into the tables; return the allocation run id.

    Raises InvalidDocument (``field: reason``): parse_instance's, or a clash
    with what the org already holds. The SQL wrapper turns it into an ERROR
    with SQLSTATE 22023 (plpy.error would prefix "plpy.Error: "); the error
    ends the one SQL statement this runs in, so nothing written survives it.
    """
    inst = parse_instance(_json(doc_text))
    org_id, org_name = _org(plpy, inst, org_id)
    teams = _teams(plpy, inst, org_id)
    position_ids = _positions(plpy, inst, org_id, teams)
    profile_id = _affinity(plpy, inst, org_id)
    plan_name = f"{org_name} {inst.cohort} {inst.start_date.year}"
    plan_id = _one(plpy, "insert into public.allocation_plans (org_id, name, cohort, term_weeks, leave) "
                         "values ($1, $2, $3, $4, $5) returning id",
                   ["uuid", "text", "text", "int[]", "jsonb"],
                   [org_id, plan_name, inst.cohort, list(inst.term_weeks),
                    json.dumps(leave_document(inst.leave))])
    run_id = _one(plpy, "insert into public.allocation_runs "
                        "(org_id, plan_id, name, start_date, period_weeks, affinity_profile_id, home_site_min_terms) "
                        "values ($1, $2, $3, $4, $5, $6, $7) returning id",
                  ["uuid", "uuid", "text", "date", "int", "uuid", "int"],
                  [org_id, plan_id, plan_name, inst.start_date.isoformat(), inst.period_weeks, profile_id,
                   inst.home_site_min_terms])
    _posts(plpy, inst, run_id, position_ids)
    _pins(plpy, inst, run_id, position_ids)
    _groups(plpy, inst, run_id, position_ids)
    _line_rules(plpy, inst, run_id)
    _links(plpy, inst, run_id, position_ids)
    return run_id


def _execute(plpy, sql: str, types: list[str], args: list):
    return plpy.execute(plpy.prepare(sql, types), args)


def _one(plpy, sql: str, types: list[str], args: list):
    rows = _execute(plpy, sql, types, args)
    return rows[0][rows.colnames()[0]] if rows.nrows() else None


def _org(plpy, inst: Instance, org_id) -> tuple[str, str]:
    if org_id is None:
        new_id = _one(plpy, "insert into public.orgs (name) values ($1) returning id", ["text"], [inst.org_name])
        return new_id, inst.org_name
    name = _one(plpy, "select name from public.orgs where id = $1", ["uuid"], [org_id])
    if name is None:
        raise InvalidDocument("org", f"no org with id {org_id}")
    return org_id, name  # the stored name wins over the document's org.name


def _teams(plpy, inst: Instance, org_id) -> dict[str, str]:
    ids = {}
    for name in dict.fromkeys(p.team for p in inst.positions if p.team):  # distinct, in order
        _execute(plpy, "insert into public.teams (org_id, name) values ($1, $2) "
                       "on conflict (org_id, name) do nothing", ["uuid", "text"], [org_id, name])
        ids[name] = _one(plpy, "select id from public.teams where org_id = $1 and name = $2",
                         ["uuid", "text"], [org_id, name])
    return ids


_POSITION_FIELDS = ("name", "team", "specialty", "subspecialty", "categories",
                    "service", "nights", "rural", "non_clinical", "excludable", "site", "span")


def _positions(plpy, inst: Instance, org_id, teams: dict[str, str]) -> dict[str, str]:
    """Position ids by key: existing positions of the org must match the document exactly."""
    rows = _execute(plpy, "select p.*, t.name as team from public.positions p "
                          "left join public.teams t on t.id = p.team_id where p.org_id = $1",
                    ["uuid"], [org_id])
    existing = {row["key"]: row for row in rows}
    ids = {}
    for i, p in enumerate(inst.positions):
        row = existing.get(p.key)
        if row is not None:
            stored = {**row, "categories": tuple(sorted(row["categories"]))}
            differ = [f for f in _POSITION_FIELDS if stored[f] != getattr(p, f)]
            if differ:
                raise InvalidDocument(
                    f"positions[{i}].key", f"position {p.key!r} already exists in this org with a different "
                                           f"{', '.join(differ)}; use the stored attributes or another key")
            ids[p.key] = row["id"]
            continue
        ids[p.key] = _one(
            plpy, "insert into public.positions (org_id, team_id, key, name, specialty, subspecialty, categories, "
                  "service, nights, rural, non_clinical, excludable, site, span) "
                  "values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning id",
            ["uuid", "uuid", "text", "text", "text", "text", "text[]", "bool", "bool", "bool", "bool", "bool",
             "text", "int"],
            [org_id, teams.get(p.team), p.key, p.name, p.specialty, p.subspecialty, list(p.categories),
             p.service, p.nights, p.rural, p.non_clinical, p.excludable, p.site, p.span])
    return ids


IMPORTED_PROFILE = "imported"


def _affinity(plpy, inst: Instance, org_id):
    """The org's profile for the document's affinity: reused when identical, else created."""
    if inst.affinity is None:
        return None
    version, source = str(inst.affinity["version"]), inst.affinity["source"]
    weights = inst.affinity["weights"]
    rows = _execute(plpy, "select id, source, weights from public.affinity_profiles "
                          "where org_id = $1 and name = $2 and version = $3",
                    ["uuid", "text", "text"], [org_id, IMPORTED_PROFILE, version])
    if rows.nrows():
        if rows[0]["source"] != source or json.loads(rows[0]["weights"]) != weights:
            raise InvalidDocument("affinity.version", f"this org already has an affinity profile version "
                                                      f"{version!r} with other weights or source; give it a new version")
        return rows[0]["id"]
    return _one(plpy, "insert into public.affinity_profiles (org_id, name, version, source, weights) "
                      "values ($1, $2, $3, $4, $5) returning id",
                ["uuid", "text", "text", "text", "jsonb"],
                [org_id, IMPORTED_PROFILE, version, source, json.dumps(weights)])


def _posts(plpy, inst: Instance, run_id, position_ids: dict[str, str]) -> None:
    """One allocation_run_posts row per position and offered term (for a span post, every term a
    placement may cover), saying whether a placement may start there."""
    cols: tuple[list, list, list, list, list] = ([], [], [], [], [])
    for p in inst.positions:
        starts = set(p.start_terms)
        for term in p.terms:
            row = (position_ids[p.key], term, p.capacity[term - 1], p.min_fill[term - 1], term in starts)
            for col, value in zip(cols, row):
                col.append(value)
    _execute(plpy, "insert into public.allocation_run_posts "
                   "(allocation_run_id, position_id, term, capacity, min_fill, may_start) "
                   "select $1, u.* from unnest($2::uuid[], $3::int[], $4::int[], $5::int[], $6::bool[]) "
                   "as u(position_id, term, capacity, min_fill, may_start)",
             ["uuid", "uuid[]", "int[]", "int[]", "int[]", "bool[]"], [run_id, *cols])


def _pins(plpy, inst: Instance, run_id, position_ids: dict[str, str]) -> None:
    if not inst.pins:
        return
    _execute(plpy, "insert into public.allocation_run_pins (allocation_run_id, line_no, term, position_id) "
                   "select $1, u.* from unnest($2::int[], $3::int[], $4::uuid[]) as u(line_no, term, position_id)",
             ["uuid", "int[]", "int[]", "uuid[]"],
             [run_id, [p.line for p in inst.pins], [p.term for p in inst.pins],
              [position_ids[p.position] for p in inst.pins]])


# The local rules keep each item's place in the document (ordinal, from 1), so the export gives
# them back in the same order (groups in the order of the jsonb object they arrive in).

def _groups(plpy, inst: Instance, run_id, position_ids: dict[str, str]) -> None:
    """The groups, then their members."""
    if not inst.groups:
        return
    _execute(plpy, "insert into public.allocation_run_groups (allocation_run_id, name, ordinal) "
                   "select $1, u.* from unnest($2::text[]) with ordinality as u(name, ordinal)",
             ["uuid", "text[]"], [run_id, list(inst.groups)])
    members = [(name, position_ids[key], ordinal)
               for name, keys in inst.groups.items() for ordinal, key in enumerate(keys, start=1)]
    _execute(plpy, "insert into public.allocation_run_group_members (allocation_run_id, group_name, position_id, "
                   "ordinal) select $1, u.* from unnest($2::text[], $3::uuid[], $4::int[]) "
                   "as u(group_name, position_id, ordinal)",
             ["uuid", "text[]", "uuid[]", "int[]"], [run_id, *map(list, zip(*members))])


def _line_rules(plpy, inst: Instance, run_id) -> None:
    if not inst.line_rules:
        return
    rules = inst.line_rules
    _execute(plpy, "insert into public.allocation_run_line_rules (allocation_run_id, name, group_name, "
                   "min_placements, max_placements, ordinal) "
                   "select $1, u.* from unnest($2::text[], $3::text[], $4::int[], $5::int[]) with ordinality "
                   "as u(name, group_name, min_placements, max_placements, ordinal)",
             ["uuid", "text[]", "text[]", "int[]", "int[]"],
             [run_id, [r.name for r in rules], [r.group for r in rules], [r.min for r in rules],
              [r.max for r in rules]])


def _links(plpy, inst: Instance, run_id, position_ids: dict[str, str]) -> None:
    """The links, then the posts each asks for."""
    if not inst.links:
        return
    _execute(plpy, "insert into public.allocation_run_links (allocation_run_id, name, if_position_id, ordinal) "
                   "select $1, u.* from unnest($2::text[], $3::uuid[]) with ordinality as u(name, if_position_id, "
                   "ordinal)",
             ["uuid", "text[]", "uuid[]"],
             [run_id, [link.name for link in inst.links], [position_ids[link.when] for link in inst.links]])
    targets = [(link.name, position_ids[key], ordinal)
               for link in inst.links for ordinal, key in enumerate(link.then, start=1)]
    _execute(plpy, "insert into public.allocation_run_link_targets (allocation_run_id, link_name, position_id, "
                   "ordinal) select $1, u.* from unnest($2::text[], $3::uuid[], $4::int[]) "
                   "as u(link_name, position_id, ordinal)",
             ["uuid", "text[]", "uuid[]", "int[]"], [run_id, *map(list, zip(*targets))])


# ---------------------------------------------------------------- solving

ACTIVE = ("PENDING", "GENERATING")
# The violations a rejected run keeps in result_metadata (their total is kept beside them).
GATE_VIOLATIONS_KEPT = 50


def gate(instance_doc: dict, solution_doc: dict) -> list:
    """What the independent checker finds in a solution about to be written: every rule it breaks
    (checker.check) and every reported metric its lines contradict (checker.check_metrics).

    The solver is never its own judge: the checker shares no code with the model, so a fault in
    either shows here as a disagreement before any line reaches the tables.
    """
    from .checker import check_all

    return check_all(instance_doc, solution_doc)


def violation_rows(violations) -> list[dict]:
    return [{"rule": v.rule, "line": v.line, "term": v.term, "position": v.position, "message": v.message}
            for v in violations]


def gate_refusal(violations) -> tuple[str, dict]:
    """The error and the result_metadata entry of a run the gate refuses."""
    count = len(violations)
    error = (f"the independent checker rejected the solution: {count} "
             f"{'violation' if count == 1 else 'violations'}, the first {violations[0]}; nothing written")
    return error, {"total": count, "shown": violation_rows(violations[:GATE_VIOLATIONS_KEPT])}


def check_documents(instance_text, solution_text) -> list[dict]:
    """Every violation of a solution document against an instance document, as rows of rule, line,
    term, position and message (planner._check_documents). The instance must be valid
    (parse_instance, else InvalidDocument); the solution may be anything: the checker reports its
    faults under FORMAT."""
    from .checker import check

    instance_doc = _json(instance_text, "instance")
    parse_instance(instance_doc)  # the checker reads a valid instance only
    solution_doc = _json(solution_text, "solution")
    lines = solution_doc.get("lines") if isinstance(solution_doc, dict) else None
    if isinstance(lines, list) and len(lines) > MAX_LINES:  # any caller may hand one over: bound the work
        raise InvalidDocument("solution.lines", f"holds {len(lines)} lines; at most {MAX_LINES}")
    return violation_rows(check(instance_doc, solution_doc))


class _Fenced(Exception):
    """The run left the state this solve started from (cancelled, rescued): write nothing."""


def solve_run(plpy, run_id) -> dict:
    """Solve one planner run and write its outcome, all inside the caller's transaction.

    Reads the problem through planner.export_instance, polls the run's status
    while CP-SAT works (a committed CANCELLED stops it; a statement cancel or
    timeout raises out of the poll and stops it too), then hands the solution
    document to the independent checker (``gate``): any finding fails the run
    and nothing is written. Then, in one
    subtransaction: snapshot the current lines into job_lines_history,
    replace them, and set the final status. The final update is fenced on the
    status and attempt the solve started from, so a run that was cancelled or
    rescued meanwhile is never overwritten, and its lines are never touched.
    """
    import traceback

    from .solution import to_document
    from .solve import Stopped, solve_polled

    started = time.monotonic()
    run = _row(plpy, "select r.*, extract(epoch from now() - r.created_at) as queued_seconds "
                     "from public.allocation_planner_runs r where r.id = $1", ["uuid"], [run_id])
    if run is None or run["status"] not in ACTIVE:  # planner.solve_run checked; a race ends here
        return _fenced_outcome(plpy, run_id)
    timings = {"queue_wait": round(float(run["queued_seconds"]), 3)}
    # The lines go to the run's allocation run only inside the run's own org, whatever the row says.
    owner = _one(plpy, "select org_id from public.allocation_runs where id = $1", ["uuid"], [run["allocation_run"]])
    if owner != run["org_id"]:
        return _finish(plpy, run, "FAILED", {"timings": timings},
                       error=f"allocation_run: allocation run {run['allocation_run']} is not of this planner run's "
                             "org; nothing written") or _fenced_outcome(plpy, run_id)
    try:
        options = _json(run["options"]) or {}
        # keep_locked: the locked lines are whole-line pins of the problem (receptor_planner.locks).
        locked = _json(_one(plpy, "select planner._locked_lines($1)", ["uuid"], [run["allocation_run"]])) \
            if options.get("keep_locked") else []
        instance_doc = pin_locked_lines(
            _json(_one(plpy, "select planner.export_instance($1)", ["uuid"], [run["allocation_run"]])), locked)
        instance = parse_instance(instance_doc)
        request = parse_request({**options, "n_job_lines": run["n_job_lines"],
                                 "constraints": list(run["constraints"])}, instance.cohort, instance.n_terms)
        if run["affinity_profile_id"] is not None:  # the run's choice wins over the allocation run's
            profile = _row(plpy, "select version, source, weights from public.affinity_profiles where id = $1",
                           ["uuid"], [run["affinity_profile_id"]])
            affinity = parse_affinity({**profile, "weights": _json(profile["weights"])}, "affinity_profile")
            instance = dataclasses.replace(instance, affinity=affinity)
        settings = _row(plpy, "select * from planner._settings()", [], [])
        # the DBA's thread count is the most a run may use
        request = dataclasses.replace(request, num_workers=min(request.num_workers, settings["solver_threads"]))
    except InvalidDocument as e:
        return _finish(plpy, run, "FAILED", {"timings": timings}, error=f"invalid input: {e}") \
            or _fenced_outcome(plpy, run_id)
    timings["import"] = round(time.monotonic() - started, 3)

    def cancelled() -> bool:
        return _one(plpy, "select planner._run_cancelled($1)", ["uuid"], [run_id])

    try:
        result = solve_polled(instance, request, poll=cancelled, nice=settings["solve_nice"])
    except Stopped:
        log(plpy, run, "cancelled", "the run was cancelled during the solve; nothing written")
        return {"run_id": str(run_id), "status": "CANCELLED", "written": False}
    except plpy.SPIError:
        raise  # a statement cancel or timeout: the caller's transaction ends, never swallow it
    except Exception as e:  # a fault in the solver itself: the run fails with the traceback
        return _finish(plpy, run, "FAILED", {"timings": timings}, error=f"{type(e).__name__}: {e}",
                       traceback_text=traceback.format_exc()) or _fenced_outcome(plpy, run_id)
    timings["solve"] = round(time.monotonic() - started - timings["import"], 3)
    timings["model_build"] = (result.metrics.get("seconds") or {}).get("build")  # part of solve
    log(plpy, run, "solved", f"{result.status} after {timings['solve']} s",
        {k: result.metrics.get(k) for k in ("model", "solver_status", "time_to_first_solution", "seconds",
                                             "lines_built", "lines_upper_bound", "num_workers")})
    document = keep_locked(instance, to_document(instance, request, result), locked)
    metadata = {"metrics": document["metrics"], "explanation": document["explanation"], "timings": timings}
    if result.status != "COMPLETED":  # writes no lines: nothing for the gate to hold back
        return _finish(plpy, run, result.status, metadata, error=result.error) or _fenced_outcome(plpy, run_id)
    # The gate: the independent checker judges the very document that would be written, against
    # the instance document the solve read. Any finding fails the run; the lines stay as they were.
    check_started = time.monotonic()
    try:
        violations = gate(instance_doc, document)
    except Exception as e:  # a checker that cannot judge passes nothing
        return _finish(plpy, run, "FAILED", metadata, error=f"the independent checker failed: {type(e).__name__}: "
                                                             f"{e}; nothing written",
                       traceback_text=traceback.format_exc()) or _fenced_outcome(plpy, run_id)
    timings["check"] = round(time.monotonic() - check_started, 3)
    if violations:
        error, metadata["violations"] = gate_refusal(violations)
        return _finish(plpy, run, "FAILED", metadata, error=error) or _fenced_outcome(plpy, run_id)
    write_started = time.monotonic()
    try:
        with plpy.subtransaction():
            # lock the row, fenced, before writing; then one update, so Realtime sees one COMPLETED
            if not _one(plpy, "select planner._lock_if_still_ours($1, $2, $3)",
                        ["uuid", "text", "int"], [run["id"], run["status"], run["attempt"]]):
                raise _Fenced()
            _replace_lines(plpy, run["allocation_run"], document["lines"], written_by=run["id"], replaced_by=run["id"])
            if locked:  # the lines are written anew: the kept ones are locked again
                _execute(plpy, "select planner._relock_lines($1, $2)", ["uuid", "int[]"],
                         [run["allocation_run"], [line["line"] for line in locked]])
            timings["write"] = round(time.monotonic() - write_started, 3)
            outcome = _finish(plpy, run, "COMPLETED", metadata)
            if outcome is None:  # cannot happen while the row is locked; never write unfenced lines
                raise _Fenced()
    except _Fenced:
        return _fenced_outcome(plpy, run_id)
    except plpy.spiexceptions.QueryCanceled:
        raise
    except plpy.SPIError as e:
        timings.pop("write", None)
        return _finish(plpy, run, "FAILED", metadata, error=f"writing the job lines failed: {e}",
                       traceback_text=traceback.format_exc()) or _fenced_outcome(plpy, run_id)
    return outcome | {"metrics": document["metrics"]}


def _finish(plpy, run, status: str, metadata: dict, error: str | None = None,
            traceback_text: str | None = None) -> dict | None:
    """Set the final status and log "finished" (planner._finish_run), fenced on the state and attempt
    the solve started from; None when the fence holds (the run was cancelled or rescued meanwhile)."""
    if not _finish_run(plpy, run, status, metadata, error,
                       {"metrics": metadata.get("metrics"), "timings": metadata.get("timings"),
                        "traceback": traceback_text}):
        return None
    return {"run_id": str(run["id"]), "status": status, "written": status == "COMPLETED", "error": error,
            "explanation": metadata.get("explanation")}


def _finish_run(plpy, run, status: str, metadata: dict | None, error: str | None, log_data: dict | None) -> bool:
    """planner._finish_run: whether the run still had the status and attempt the solve started from,
    and so took the outcome (metadata None keeps the run's own)."""
    return _one(plpy, "select planner._finish_run($1, $2, $3, $4, $5, $6, $7)",
                ["uuid", "text", "int", "text", "jsonb", "text", "jsonb"],
                [run["id"], run["status"], run["attempt"], status,
                 json.dumps(metadata) if metadata is not None else None, error,
                 json.dumps(log_data) if log_data is not None else None])


def _fenced_outcome(plpy, run_id) -> dict:
    status = _one(plpy, "select status from public.allocation_planner_runs where id = $1", ["uuid"], [run_id])
    return {"run_id": str(run_id), "status": status, "written": False}


def _replace_lines(plpy, allocation_run, lines: list, written_by, replaced_by) -> None:
    """Snapshot the allocation run's current lines into history, then replace them with ``lines``
    (planner._replace_lines: one statement, so a failure leaves the old lines whole)."""
    _execute(plpy, "select planner._replace_lines($1, $2, $3, $4)", ["uuid", "jsonb", "uuid", "uuid"],
             [allocation_run, json.dumps(lines), written_by, replaced_by])


def restore_job_lines(plpy, history_id) -> dict:
    """Bring back a snapshot's lines, snapshotting the current ones first."""
    row = _row(plpy, "select h.* from public.job_lines_history h where h.id = $1", ["uuid"], [history_id])
    if row is None:
        return {"error": f"history_id: no job_lines_history row with id {history_id}"}
    active = _one(plpy, "select id from public.allocation_planner_runs where allocation_run = $1 "
                        "and status in ('PENDING', 'GENERATING') limit 1", ["uuid"], [row["allocation_run_id"]])
    if active is not None:
        return {"error": f"history_id: allocation run {row['allocation_run_id']} has an active planner run "
                         f"{active}; cancel it or let it finish before restoring"}
    snapshot = _json(row["snapshot"])
    _replace_lines(plpy, row["allocation_run_id"], snapshot["lines"], row["written_by"], None)
    return {"restored_lines": len(snapshot["lines"]), "allocation_run": row["allocation_run_id"]}


def log(plpy, run, event: str, message: str, data: dict | None = None, level: str = "info") -> None:
    """One row of planner_execution_logs (planner._log_event), stamped with the time of the event."""
    _execute(plpy, "select planner._log_event($1, $2, $3, $4, $5)", ["uuid", "text", "text", "text", "jsonb"],
             [run["id"], level, event, message, json.dumps(data) if data is not None else None])


def _row(plpy, sql: str, types: list[str], args: list):
    rows = _execute(plpy, sql, types, args)
    return rows[0] if rows.nrows() else None


# ---------------------------------------------------------------- worker

def work(plpy, slot: int, seconds: int) -> None:
    """The worker loop (planner.worker_statement): claim, commit GENERATING, solve, commit the outcome.

    Every status change is its own commit, so logical decoding (Realtime)
    sees PENDING, GENERATING and the outcome as separate changes.
    """
    settings = _row(plpy, "select * from planner._settings()", [], [])
    if slot > settings["max_concurrent_solves"]:
        return
    if not _one(plpy, "select pg_try_advisory_lock(planner._slot_lock($1))", ["int"], [slot]):
        return  # another worker has this slot
    plpy.commit()
    try:
        _work_loop(plpy, slot, seconds, settings)
    finally:
        # a session-level lock: without this, the slot stays taken for as long as the session lives
        # (a pooled or DBA connection that runs the worker again from another session finds it busy)
        plpy.execute(plpy.prepare("select pg_advisory_unlock(planner._slot_lock($1))", ["int"]), [slot])


def _work_loop(plpy, slot: int, seconds: int, settings) -> None:
    from . import solve  # noqa: F401  (OR-Tools loads now, not while a run waits)
    deadline = time.monotonic() + seconds
    poll = plpy.prepare("select pg_sleep($1)", ["float8"])  # a cancel interrupts it; time.sleep would not
    while time.monotonic() < deadline:
        run = _row(plpy, "select * from planner._claim_run() where id is not null", [], [])
        if run is None:
            plpy.commit()
            plpy.execute(poll, [float(settings["poll_seconds"])])
            continue
        # held until the outcome is committed: the rescuer reads a free lock as a dead solve
        _one(plpy, "select pg_advisory_lock(planner._run_lock($1))", ["uuid"], [run["id"]])
        log(plpy, run, "claimed", f"attempt {run['attempt']} by worker slot {slot} (pid {run['worker_pid']})")
        plpy.commit()
        try:
            _solve_claimed(plpy, run)
        finally:
            _one(plpy, "select pg_advisory_unlock(planner._run_lock($1))", ["uuid"], [run["id"]])


def _solve_claimed(plpy, run) -> None:
    try:
        solve_run(plpy, run["id"])
        plpy.commit()
    except plpy.spiexceptions.QueryCanceled as e:
        # pg_cancel_backend or statement_timeout: nothing of the solve is written; say why, then re-raise
        plpy.rollback()
        message = str(e).splitlines()[0] if str(e) else "canceling statement"
        # fenced on the claim (GENERATING, this attempt); logs "FAILED: the solve was stopped: ..."
        _finish_run(plpy, run, "FAILED", None, f"the solve was stopped: {message}", None)
        plpy.commit()
        raise
