"""A picture of the year: one static HTML page of an allocation run's job lines.

``render_report(instance, solution, findings)`` draws, from an instance document, a solution
document and the independent checker's findings on them:

* the grid planners know: a row per line and a cell per week, posts coloured by specialty with a
  legend, leave shaded, every term's first week marked, weeks that no rotation (or two) covers
  flagged;
* a compliance badge per line (an over-full post counts against every line holding it, as in
  ``public.job_line_compliance``) and every finding in words;
* the post fill table: per post and term the capacity, the staffing need and the lines placed;
* the request, the metrics and the explanation.

The page stands alone: no script, no external asset, inline CSS with print rules for A3
landscape. Every text that comes from a document is escaped; the CSS and the class names are
made here from numbers only. The same page comes from the database (``planner.report_html``) and
the command line (``planner report``, ``planner solve --report``).
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from html import escape
from typing import Any, Iterable

from .instance import MAX_LINES, Instance, InvalidDocument, parse_instance

KINDS = ("clinical", "leave")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Distinct light colours (ColorBrewer Set3 without its grey, which would read as leave); more
# specialties than these get hues a golden angle apart.
PALETTE = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
           "#bc80bd", "#ccebc5", "#ffed6f", "#a6cee3", "#fdbf6f", "#cab2d6", "#b2df8a")
# Column widths of the grid: 52 weeks and the two line columns fit A3 landscape.
NAME_PX, BADGE_PX, WEEK_PX = 76, 96, 22
LABEL_MIN_WEEKS = 3  # a shorter leave block is shaded without the word "leave"


# ---------------------------------------------------------------- reading the lines

@dataclass(frozen=True)
class Segment:
    """Consecutive weeks of one line in one state: a clinical rotation (``position``), leave, a gap
    (no rotation covers the weeks) or an overlap (more than one does)."""

    first_week: int
    weeks: int
    kind: str  # "clinical", "leave", "gap", "overlap"
    position: str | None = None

    @property
    def last_week(self) -> int:
        return self.first_week + self.weeks - 1


@dataclass(frozen=True)
class Line:
    name: str
    segments: tuple[Segment, ...]

    def held(self, instance: Instance) -> set[tuple[str, int]]:
        """(post key, term) for every term in which the line holds the post for a week or more."""
        return {(s.position, instance.term_of_week(week)) for s in self.segments if s.kind == "clinical"
                for week in range(s.first_week, s.last_week + 1)}


def _whole_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _readable_rotation(rotation: Any) -> tuple[str, str | None, int, int] | None:
    """(kind, position key, first week, last week), or None for a rotation the grid cannot place
    (the checker reports it under FORMAT)."""
    if not isinstance(rotation, dict) or rotation.get("kind") not in KINDS:
        return None
    first, last = _whole_number(rotation.get("start_week")), _whole_number(rotation.get("end_week"))
    key = rotation.get("position") if rotation["kind"] == "clinical" else None
    if first is None or last is None or first > last or (rotation["kind"] == "clinical" and not isinstance(key, str)):
        return None
    return rotation["kind"], key, first, last


def line_segments(rotations: Any, period_weeks: int) -> tuple[Segment, ...]:
    """The weeks 1..period_weeks of a line as segments, whatever its rotations hold."""
    covering: list[list[int]] = [[] for _ in range(period_weeks + 1)]  # week -> rotation indexes
    readable = [_readable_rotation(r) for r in rotations] if isinstance(rotations, list) else []
    for index, rotation in enumerate(readable):
        if rotation:
            for week in range(max(rotation[2], 1), min(rotation[3], period_weeks) + 1):
                covering[week].append(index)

    def state(week: int) -> tuple:
        held = covering[week]
        if len(held) != 1:
            return ("gap" if not held else "overlap", None, None)
        kind, key, _, _ = readable[held[0]]
        return kind, key, held[0]

    segments: list[Segment] = []
    run_start, run_state = 1, state(1) if period_weeks else None
    for week in range(2, period_weeks + 2):
        current = state(week) if week <= period_weeks else None
        if current != run_state:
            segments.append(Segment(run_start, week - run_start, run_state[0], run_state[1]))
            run_start, run_state = week, current
    return tuple(segments)


def read_lines(solution: Any, period_weeks: int) -> list[Line]:
    """The solution document's lines, in document order (the checker numbers findings by it)."""
    lines = solution.get("lines") if isinstance(solution, dict) else None
    if not isinstance(lines, list):
        return []
    if len(lines) > MAX_LINES:
        raise InvalidDocument("solution.lines", f"holds {len(lines)} lines; at most {MAX_LINES}")
    out = []
    for number, line in enumerate(lines, start=1):
        line = line if isinstance(line, dict) else {}
        name = line.get("name") if isinstance(line.get("name"), str) else f"Line {number}"
        out.append(Line(name, line_segments(line.get("rotations"), period_weeks)))
    return out


# ---------------------------------------------------------------- findings

@dataclass(frozen=True)
class Finding:
    rule: str
    line: int | None  # 1-based place in the solution document; None for a finding across lines
    term: int | None
    position: str | None
    message: str


def read_findings(findings: Any) -> list[Finding]:
    """The checker's findings, as rows of rule, line, term, position and message."""
    if not isinstance(findings, list):
        raise InvalidDocument("findings", "must be a list of {rule, line, term, position, message}")
    out = []
    for i, row in enumerate(findings):
        if not isinstance(row, dict) or not isinstance(row.get("rule"), str):
            raise InvalidDocument(f"findings[{i}]", "must be an object with a rule code")
        position = row.get("position")
        out.append(Finding(row["rule"], _whole_number(row.get("line")), _whole_number(row.get("term")),
                           position if isinstance(position, str) else None, str(row.get("message") or "")))
    return out


def findings_by_line(findings: list[Finding], held: list[set[tuple[str, int]]]) -> dict[int, list[Finding]]:
    """Line number -> the findings against it. An over-full post names no line: every line holding
    it in that term shares the blame (as public.job_line_compliance says)."""
    blamed: dict[int, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.line is not None:
            blamed[finding.line].append(finding)
        elif finding.rule == "CAPACITY" and finding.position is not None and finding.term is not None:
            for number, posts in enumerate(held, start=1):
                if (finding.position, finding.term) in posts:
                    blamed[number].append(finding)
    return blamed


# ---------------------------------------------------------------- posts

def specialty_colours(specialties: Iterable[str]) -> dict[str, str]:
    """A colour per specialty, by sorted name: the same service is coloured the same every time."""
    colours = {}
    for i, name in enumerate(sorted(set(specialties))):
        if i < len(PALETTE):
            colours[name] = PALETTE[i]
        else:
            colours[name] = f"hsl({(i - len(PALETTE)) * 137.508 % 360:.0f} 60% 78%)"
    return colours


def lines_placed(held: list[set[tuple[str, int]]]) -> Counter:
    """(post key, term) -> lines holding the post in that term."""
    return Counter(cell for posts in held for cell in posts)


# ---------------------------------------------------------------- the page

def render_report(instance_doc: Any, solution_doc: Any, findings: Any) -> str:
    """The HTML page (a str) of a solution document against its instance document and the
    checker's findings on them (rows of rule, line, term, position, message; line is the 1-based
    place in the solution's lines). An invalid instance, findings that are not such rows, or more
    than MAX_LINES lines raise InvalidDocument; a malformed line is drawn as far as it can be
    (the findings say what is wrong with it)."""
    instance = parse_instance(instance_doc)
    solution = solution_doc if isinstance(solution_doc, dict) else {}
    lines = read_lines(solution, instance.period_weeks)
    found = read_findings(findings)
    held = [line.held(instance) for line in lines]
    blamed = findings_by_line(found, held)
    colours = specialty_colours(p.specialty for p in instance.positions)
    compliant = sum(1 for number in range(1, len(lines) + 1) if not blamed.get(number))
    title = f"{instance.org_name}: {instance.cohort} job lines from {_date(instance.start_date)}"
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        f"<title>{_e(title)}</title>\n<style>\n{_css(colours)}</style>\n</head>\n<body>\n",
        f"<main data-lines=\"{len(lines)}\" data-weeks=\"{instance.period_weeks}\" data-compliant=\"{compliant}\" "
        f"data-findings=\"{len(found)}\">\n",
        _header(instance, solution, title, len(lines), compliant, len(found)),
        _year_section(instance, lines, blamed, colours),
        _findings_section(found, lines, solution),
        _fill_section(instance, lines_placed(held), colours),
        _metrics_section(solution),
        _explanation_section(solution),
        "</main>\n</body>\n</html>\n",
    ])


_SUMMARY = re.compile(r'<main data-lines="(\d+)" data-weeks="(\d+)" data-compliant="(\d+)" data-findings="(\d+)">')


def page_summary(page: str) -> dict[str, int]:
    """What a page drawn by render_report says of itself: lines, weeks, compliant lines, findings."""
    match = _SUMMARY.search(page)
    if not match:
        raise ValueError("not a page drawn by receptor_planner.report: its <main> element carries no summary")
    return dict(zip(("lines", "weeks", "compliant", "findings"), map(int, match.groups())))


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _week_monday(instance: Instance, week: int) -> dt.date:
    return instance.start_date + dt.timedelta(weeks=week - 1)


def _week_sunday(instance: Instance, week: int) -> dt.date:
    return instance.start_date + dt.timedelta(weeks=week, days=-1)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _header(instance: Instance, solution: dict, title: str, n_lines: int, compliant: int, n_findings: int) -> str:
    request = solution.get("request") if isinstance(solution.get("request"), dict) else {}
    terms = ", ".join(str(w) for w in instance.term_weeks)
    asked = request.get("n_job_lines")
    rules = _plain(request.get("constraints")) if request.get("constraints") else "not given"
    if not n_lines:
        verdict = ("none", "no job lines to judge")
    elif compliant == n_lines:
        verdict = ("ok", f"all {_plural(n_lines, 'line')} keep every rule")
    else:
        verdict = ("bad", f"{n_lines - compliant} of {_plural(n_lines, 'line')} break a rule")
    return (
        f"<header>\n<h1>{_e(title)}</h1>\n"
        f"<p class=\"facts\">{_e(instance.period_weeks)} weeks from {_e(_date(instance.start_date))} to "
        f"{_e(_date(_week_sunday(instance, instance.period_weeks)))} in {_plural(instance.n_terms, 'term')} "
        f"of {_e(terms)} weeks; {_e(len(instance.positions))} posts.</p>\n"
        f"<p class=\"facts\">Status <strong>{_e(solution.get('status') or 'no lines')}</strong>: "
        f"{_plural(n_lines, 'line')} built"
        + (f" of {_e(asked)} asked" if asked is not None else "")
        + f"; rules {_e(rules)}"
        + (f"; seed {_e(request['seed'])}" if request.get("seed") is not None else "")
        + ".</p>\n"
        f"<p class=\"verdict {verdict[0]}\">{_e(verdict[1])}; "
        f"{_plural(n_findings, 'finding')} in all.</p>\n</header>\n")


# ---------------------------------------------------------------- the grid

def _year_section(instance: Instance, lines: list[Line], blamed: dict[int, list[Finding]],
                  colours: dict[str, str]) -> str:
    specialty_class = {name: f"s{i}" for i, name in enumerate(colours)}
    post_of = {p.key: p for p in instance.positions}
    term_starts = {instance.term_start_week(t) for t in range(1, instance.n_terms + 1)}
    out = ["<section id=\"year\">\n<h2>The year</h2>\n", _legend(colours, specialty_class),
           f"<table class=\"grid\" style=\"width:{NAME_PX + BADGE_PX + instance.period_weeks * WEEK_PX}px\">\n"
           "<colgroup><col class=\"c-name\"><col class=\"c-badge\">"
           f"<col span=\"{instance.period_weeks}\" class=\"c-wk\"></colgroup>\n<thead>\n",
           _grid_head(instance, term_starts), "</thead>\n<tbody>\n"]
    for number, line in enumerate(lines, start=1):
        out.append(f"<tr class=\"line\" id=\"line-{number}\"><th scope=\"row\" class=\"name\">{_e(line.name)}</th>"
                   + _badge(number, blamed.get(number, [])))
        for segment in line.segments:
            out.append(_segment_cells(instance, segment, term_starts, post_of, specialty_class))
        out.append("</tr>\n")
    if not lines:
        out.append(f"<tr class=\"empty\"><td colspan=\"{instance.period_weeks + 2}\">No job lines.</td></tr>\n")
    out.append("</tbody>\n</table>\n</section>\n")
    return "".join(out)


def _legend(colours: dict[str, str], specialty_class: dict[str, str]) -> str:
    items = [f"<li><span class=\"swatch {specialty_class[name]}\"></span>{_e(name)}</li>" for name in colours]
    items += ["<li><span class=\"swatch lv\"></span>leave</li>",
              "<li><span class=\"swatch gap\"></span>no rotation</li>",
              "<li><span class=\"swatch ovl\"></span>two rotations at once</li>",
              "<li><span class=\"swatch term\"></span>a term begins</li>"]
    return "<ul class=\"legend\">" + "".join(items) + "</ul>\n"


def _grid_head(instance: Instance, term_starts: set[int]) -> str:
    terms = "".join(
        f"<th class=\"term ts\" colspan=\"{weeks}\">Term {t} &middot; {weeks} weeks</th>"
        for t, weeks in enumerate(instance.term_weeks, start=1))
    numbers = "".join(f"<th class=\"wkn{' ts' if w in term_starts else ''}\">{w}</th>"
                      for w in range(1, instance.period_weeks + 1))
    mondays = "".join(
        f"<th class=\"wkd{' ts' if w in term_starts else ''}\"><span>{_e(_day_month(_week_monday(instance, w)))}"
        "</span></th>" for w in range(1, instance.period_weeks + 1))
    return (f"<tr class=\"terms\"><th class=\"corner\" colspan=\"2\"></th>{terms}</tr>\n"
            f"<tr class=\"weeks\"><th class=\"corner\">Line</th><th class=\"corner\">Rules</th>{numbers}</tr>\n"
            f"<tr class=\"dates\"><th class=\"corner\" colspan=\"2\">week of</th>{mondays}</tr>\n")


def _day_month(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def _badge(number: int, findings: list[Finding]) -> str:
    if not findings:
        return "<td class=\"badge ok\" title=\"every rule holds\">&#10003; ok</td>"
    rules = sorted({f.rule for f in findings})
    title = "\n".join(f"{f.rule}: {f.message}" for f in findings)
    # the line's own first finding, or the findings table when the line only holds an over-full post
    target = f"findings-line-{number}" if any(f.line == number for f in findings) else "findings"
    return (f"<td class=\"badge bad\" title=\"{_e(title)}\"><a href=\"#{target}\">"
            f"&#10007; {_e(', '.join(rules)) if len(rules) == 1 else _plural(len(findings), 'finding')}</a></td>")


def _segment_cells(instance: Instance, segment: Segment, term_starts: set[int], post_of: dict,
                   specialty_class: dict[str, str]) -> str:
    """One cell per week of the segment; the first carries its label, drawn across the segment."""
    if segment.kind == "clinical":
        post = post_of.get(segment.position)
        shade = specialty_class[post.specialty] if post else "unknown"
        text = segment.position
        about = (f"{segment.position}: {post.name}, {post.specialty}" + (f", {post.site}" if post.site else "")
                 if post else f"{segment.position}: not a post of this service")
    elif segment.kind == "leave":
        shade, text, about = "lv", "leave" if segment.weeks >= LABEL_MIN_WEEKS else "", "leave"
    elif segment.kind == "gap":
        shade, text, about = "gap", "", "no rotation covers these weeks"
    else:
        shade, text, about = "ovl", "", "more than one rotation covers these weeks"
    about += (f"; weeks {segment.first_week}-{segment.last_week}, "
              f"{_date(_week_monday(instance, segment.first_week))} to "
              f"{_date(_week_sunday(instance, segment.last_week))}")
    cells = []
    for week in range(segment.first_week, segment.last_week + 1):
        classes = f"wk {shade}" + (" ts" if week in term_starts else " rs" if week == segment.first_week else "")
        label = ""
        if week == segment.first_week:
            label = (f"<span class=\"lbl\" style=\"width:calc({segment.weeks * 100}% - 3px)\" "
                     f"title=\"{_e(about)}\">{_e(text)}</span>")
        cells.append(f"<td class=\"{classes}\">{label}</td>")
    return "".join(cells)


# ---------------------------------------------------------------- findings, posts, metrics, explanation

def _findings_section(found: list[Finding], lines: list[Line], solution: dict) -> str:
    out = ["<section id=\"findings\">\n<h2>Compliance</h2>\n"]
    if not found:
        request = solution.get("request") if isinstance(solution.get("request"), dict) else {}
        rules = _plain(request.get("constraints")) if request.get("constraints") else "the structural rules"
        out.append(f"<p class=\"verdict ok\">No findings: the independent checker finds every rule of "
                   f"{_e(rules)} kept{' by every line' if lines else ''}.</p>\n</section>\n")
        return "".join(out)
    out.append("<table class=\"findings\">\n<thead><tr><th>Rule</th><th>Line</th><th>Term</th><th>Post</th>"
               "<th>What is wrong</th></tr></thead>\n<tbody>\n")
    anchored: set[int] = set()
    for finding in found:
        anchor = ""
        if finding.line is not None and finding.line not in anchored:
            anchored.add(finding.line)
            anchor = f" id=\"findings-line-{finding.line}\""
        line_name = (lines[finding.line - 1].name if finding.line and 1 <= finding.line <= len(lines)
                     else finding.line if finding.line is not None else "across lines")
        out.append(f"<tr{anchor}><td class=\"rule\">{_e(finding.rule)}</td><td>{_e(line_name)}</td>"
                   f"<td>{_e(finding.term if finding.term is not None else '')}</td>"
                   f"<td>{_e(finding.position or '')}</td><td>{_e(finding.message)}</td></tr>\n")
    out.append("</tbody>\n</table>\n</section>\n")
    return "".join(out)


def _fill_section(instance: Instance, placed: Counter, colours: dict[str, str]) -> str:
    specialty_class = {name: f"s{i}" for i, name in enumerate(colours)}
    with_site = any(post.site for post in instance.positions)
    head = "".join(f"<th>Term {t}<br><small>{weeks} weeks</small></th>"
                   for t, weeks in enumerate(instance.term_weeks, start=1))
    out = ["<section id=\"fill\">\n<h2>Posts: capacity, need and lines placed</h2>\n",
           "<p class=\"note\">Each term: lines placed / capacity, and the staffing need (min_fill) where there is "
           "one. Short of the need, or over capacity, is marked.</p>\n",
           "<table class=\"fill\">\n<thead><tr><th>Post</th><th>Name</th><th>Specialty</th>"
           f"{'<th>Site</th>' if with_site else ''}{head}</tr></thead>\n<tbody>\n"]
    for post in instance.positions:
        cells = []
        for t in range(1, instance.n_terms + 1):
            cells.append(_fill_cell(placed[post.key, t], post.capacity[t - 1], post.min_fill[t - 1],
                                    post.offered(t), post.excludable))
        out.append(f"<tr><th scope=\"row\"><span class=\"swatch {specialty_class[post.specialty]}\"></span>"
                   f"{_e(post.key)}</th><td>{_e(post.name)}</td><td>{_e(post.specialty)}</td>"
                   + (f"<td>{_e(post.site or '')}</td>" if with_site else "") + f"{''.join(cells)}</tr>\n")
    totals = "".join(
        f"<td>{sum(placed[p.key, t] for p in instance.positions)} / "
        f"{sum(p.capacity[t - 1] for p in instance.positions if p.offered(t))}</td>"
        for t in range(1, instance.n_terms + 1))
    out.append(f"</tbody>\n<tfoot><tr><th colspan=\"{4 if with_site else 3}\">All posts</th>{totals}</tr></tfoot>\n"
               "</table>\n</section>\n")
    return "".join(out)


def _fill_cell(placed: int, capacity: int, need: int, offered: bool, excludable: bool) -> str:
    if not offered and not placed:
        return "<td class=\"n off\">not offered</td>"
    state, why = "ok", ""
    if placed > capacity or not offered:
        state, why = "over", f" title=\"{placed - capacity} over capacity\""
    elif placed < need:
        state = "short-excludable" if excludable else "short"
        why = f" title=\"{need - placed} short of the need" + (" (an excludable post)" if excludable else "") + "\""
    need_text = f"<small> need {need}</small>" if need else ""
    return f"<td class=\"n {state}\"{why}>{placed} / {capacity}{need_text}</td>"


# The metrics a planner reads first, in this order and in these words; any others follow by name.
METRIC_LABELS = {
    "lines_requested": "lines requested", "lines_built": "lines built",
    "lines_upper_bound": "proven upper bound on lines", "lines_possible": "lines possible",
    "solver_status": "solver status", "gap": "gap", "stage_bound": "stage bound",
    "unfilled_total": "unfilled places on excludable posts", "unfilled": "unfilled places",
    "duplicate_lines": "duplicate lines", "hamming_min": "smallest Hamming distance",
    "hamming_min_upper_bound": "largest possible smallest distance", "hamming_mean": "mean Hamming distance",
    "affinity_total": "affinity total", "leave_first_half_share": "leave in the first half",
    "leave_preferred_share": "planned leave in preferred terms", "leave_peak_weekly": "most lines on leave in a week",
    "time_to_first_solution": "first solution (s)", "total_seconds": "total time (s)", "seconds": "time by stage (s)",
    "reproducible": "reproducible", "stopped_by_clock": "stopped by the clock", "seed": "seed",
    "num_workers": "CP-SAT workers", "model": "model size", "ruleset": "ruleset", "versions": "versions",
}
SHARES = ("leave_first_half_share", "leave_preferred_share")


def _metrics_section(solution: dict) -> str:
    metrics = solution.get("metrics") if isinstance(solution.get("metrics"), dict) else {}
    request = solution.get("request") if isinstance(solution.get("request"), dict) else {}
    out = ["<section id=\"metrics\">\n<h2>Request and metrics</h2>\n<dl class=\"metrics\">\n"]
    for key, value in request.items():
        out.append(f"<div><dt>request: {_e(str(key).replace('_', ' '))}</dt><dd>{_e(_plain(value))}</dd></div>\n")
    ordered = [k for k in METRIC_LABELS if k in metrics] + sorted(k for k in metrics if k not in METRIC_LABELS)
    for key in ordered:
        value = metrics[key]
        shown = f"{value * 100:.1f}%" if key in SHARES and isinstance(value, (int, float)) else _plain(value)
        label = METRIC_LABELS.get(key, str(key).replace("_", " "))
        out.append(f"<div><dt>{_e(label)}</dt><dd>{_e(shown)}</dd></div>\n")
    if not metrics:
        out.append("<div><dt>metrics</dt><dd>none reported (lines written by hand, or no run yet)</dd></div>\n")
    out.append("</dl>\n</section>\n")
    return "".join(out)


def _explanation_section(solution: dict) -> str:
    explanation = solution.get("explanation")
    error = solution.get("error")
    out = ["<section id=\"explanation\">\n<h2>Explanation</h2>\n"]
    if error:
        out.append(f"<p class=\"verdict bad\">{_e(_plain(error))}</p>\n")
    if not explanation:
        if not error:
            built_all = solution.get("status") == "COMPLETED"
            out.append("<p>None: the run built every line it was asked for.</p>\n" if built_all
                       else "<p>None given.</p>\n")
        out.append("</section>\n")
        return "".join(out)
    if not isinstance(explanation, dict):
        out.append(f"<p>{_e(_plain(explanation))}</p>\n</section>\n")
        return "".join(out)
    if explanation.get("summary"):
        out.append(f"<p class=\"summary\">{_e(_plain(explanation['summary']))}</p>\n")
    reasons = explanation.get("reasons")
    if isinstance(reasons, list) and reasons:
        out.append("<table class=\"reasons\">\n<thead><tr><th>Rule</th><th>Why</th><th>Lines possible</th>"
                   "<th>Posts</th><th>Terms</th></tr></thead>\n<tbody>\n")
        for reason in reasons:
            reason = reason if isinstance(reason, dict) else {"message": reason}
            out.append("<tr>" + "".join(f"<td>{_e(_plain(reason.get(k)) if reason.get(k) is not None else '')}</td>"
                                        for k in ("rule", "message", "lines_possible", "posts", "terms"))
                       + "</tr>\n")
        out.append("</tbody>\n</table>\n")
    rest = {k: v for k, v in explanation.items() if k not in ("summary", "reasons")}
    if rest:
        out.append("<dl class=\"metrics\">\n" + "".join(
            f"<div><dt>{_e(str(k).replace('_', ' '))}</dt><dd>{_e(_plain(v))}</dd></div>\n" for k, v in rest.items())
            + "</dl>\n")
    out.append("</section>\n")
    return "".join(out)


def _plain(value: Any) -> str:
    """A document value as words: lists by commas, objects as "key value" pairs."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{str(k).replace('_', ' ')} {_plain(v)}" for k, v in value.items()) if value else "none"
    return str(value)


# ---------------------------------------------------------------- style

def _css(colours: dict[str, str]) -> str:
    shades = "".join(f".s{i}{{background:{colour}}}\n" for i, colour in enumerate(colours.values()))
    widths = {"NAME_PX": NAME_PX, "BADGE_PX": BADGE_PX, "WEEK_PX": WEEK_PX}
    return re.sub("|".join(widths), lambda m: str(widths[m.group()]), CSS) + shades


CSS = """\
*{box-sizing:border-box;-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font:13px/1.4 "DejaVu Sans","Liberation Sans",Arial,sans-serif;color:#222;margin:16px;background:#fff}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:16px;margin:20px 0 6px;border-bottom:1px solid #ccc}
p{margin:2px 0}
.facts{color:#444}
.verdict{font-weight:bold;margin-top:6px}
.verdict.ok{color:#1b6e20}
.verdict.bad{color:#b71c1c}
.note{color:#555;font-size:12px}
.legend{list-style:none;padding:0;margin:4px 0 8px;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}
.legend li{display:flex;align-items:center;gap:4px}
.swatch{display:inline-block;width:14px;height:12px;border:1px solid #999;vertical-align:middle;margin-right:3px}
.swatch.term{border:none;border-left:3px solid #222;background:#fff}
table{border-collapse:collapse}
.grid{table-layout:fixed;font-size:10px}
.grid col.c-name{width:NAME_PXpx}
.grid col.c-badge{width:BADGE_PXpx}
.grid col.c-wk{width:WEEK_PXpx}
.grid thead th{background:#f4f4f4;font-weight:normal;color:#333;border-bottom:1px solid #ddd;padding:0;
  text-align:center}
.grid th.term{font-weight:bold;border-left:3px solid #222;padding:2px 4px;text-align:left;white-space:nowrap;
  overflow:hidden}
.grid th.corner{text-align:left;padding:0 4px}
.grid th.wkn{height:16px;font-size:9px}
.grid th.wkd{height:44px;vertical-align:bottom}
.grid th.wkd span{writing-mode:vertical-rl;transform:rotate(180deg);font-size:9px;white-space:nowrap;padding:2px 0}
.grid .ts{border-left:3px solid #222}
.grid tbody tr{break-inside:avoid}
.grid tbody th.name{text-align:left;font-weight:normal;padding:0 4px;white-space:nowrap;overflow:hidden;
  text-overflow:ellipsis;border-bottom:1px solid #fff}
.grid td.badge{padding:0 4px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-weight:bold}
.grid td.badge.ok{color:#1b6e20}
.grid td.badge.bad{color:#fff;background:#c62828}
.grid td.badge.bad a{color:#fff;text-decoration:none}
.grid td.wk{height:17px;padding:0;position:relative;border-bottom:1px solid #fff;overflow:visible}
.grid td.rs{border-left:2px solid #fff}
.grid td .lbl{position:absolute;left:2px;top:0;line-height:16px;white-space:nowrap;overflow:hidden;
  text-overflow:ellipsis;z-index:1;color:#111}
.lv{background:repeating-linear-gradient(135deg,#d0d0d0 0 3px,#f2f2f2 3px 6px)}
.grid td.lv .lbl{color:#555;font-style:italic}
.gap{background:#fff;outline:1px dashed #c62828;outline-offset:-2px}
.ovl{background:#c62828}
.unknown{background:#fff;color:#c62828}
.findings,.fill,.reasons{font-size:12px}
.findings th,.findings td,.fill th,.fill td,.reasons th,.reasons td{border:1px solid #ddd;padding:2px 6px;
  text-align:left;vertical-align:top}
.findings thead th,.fill thead th,.reasons thead th{background:#f4f4f4}
.findings td.rule{font-family:"DejaVu Sans Mono",monospace;white-space:nowrap}
.fill td.n,.fill tfoot td{white-space:nowrap;text-align:right}
.fill td.off{color:#999;text-align:center;font-size:11px}
.fill td.short,.fill td.over{background:#ffcdd2;color:#7f0000;font-weight:bold}
.fill td.short-excludable{background:#fff3c4}
.fill small{color:#666}
.fill tfoot td,.fill tfoot th{font-weight:bold;background:#f4f4f4}
.metrics{column-count:3;column-gap:24px;margin:0}
.metrics div{break-inside:avoid;display:flex;gap:8px;padding:1px 0;border-bottom:1px dotted #ddd}
.metrics dt{color:#555;min-width:14em}
.metrics dd{margin:0;word-break:break-word}
@page{size:A3 landscape;margin:10mm}
@media print{
  body{margin:0;font-size:11px}
  h2{break-after:avoid}
  .grid thead{display:table-header-group}
  .grid td.badge.bad a{text-decoration:none}
  .fill tr,.findings tr{break-inside:avoid}
  .metrics{column-count:3}
}
"""
