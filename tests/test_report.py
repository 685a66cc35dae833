"""A picture of the year: the report page of a set of job lines.

The story: a small service's lines are drawn, and the page is read back as a DOM (one row per
line, one cell per week, each cell the state of the line in that week as the solution document
says; terms marked; badges from the checker's findings; the post fill table counted from the
rotations). Texts from the documents are hostile and must come out escaped; the page must stand
alone. Then the database draws the same page for a member, and tells an outsider nothing; the
command line writes it. Last, a real browser (Debian's chromium, headless) opens the demo
service's page: its DOM has the rows and cells, its screenshot shows the specialty colours, and
it prints on A3 landscape.
"""
from __future__ import annotations

import argparse
import copy
import re
import shutil
import struct
import subprocess
import tempfile
import uuid
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from builders import (REPO, acting_as, exported, instance, new_run, post, solution_doc, solve,
                      solve_checked)
from receptor_planner.checker import check
from receptor_planner.instance import InvalidDocument, load_json, parse_instance, parse_request
from receptor_planner.report import PALETTE, page_summary, render_report, specialty_colours
from receptor_planner.solution import to_document
from receptor_planner.solve import solve as solve_offline
from receptor_planner_tools.report_cli import add_report_arguments, run_report, write_report

TERM_WEEKS = (13, 13, 13, 13)
HOSTILE_NAME = '<script>alert("post")</script> & Sons'
HOSTILE_SPECIALTY = "<b>Surgery</b>"


# ---------------------------------------------------------------- reading a page back

class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: "Node | None"):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all(self, tag: str, cls: str | None = None) -> list["Node"]:
        found = []
        for child in self.children:
            if child.tag == tag and (cls is None or cls in child.classes):
                found.append(child)
            found.extend(child.all(tag, cls))
        return found

    def one(self, tag: str, cls: str | None = None) -> "Node":
        found = self.all(tag, cls)
        assert len(found) == 1, f"{len(found)} <{tag} class={cls}> elements"
        return found[0]

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


class _DomBuilder(HTMLParser):
    VOID = {"meta", "col", "br", "img", "input", "link", "hr", "source", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"</{tag}> closes nothing"
        self.current = node.parent

    def handle_data(self, data):
        self.current.text += data


def dom(page: str) -> Node:
    builder = _DomBuilder()
    builder.feed(page)
    builder.close()
    return builder.root


def section(root: Node, name: str) -> Node:
    found = [s for s in root.all("section") if s.attrs.get("id") == name]
    assert len(found) == 1, f"{len(found)} sections {name!r}"
    return found[0]


def grid_rows(root: Node) -> list[Node]:
    return root.one("table", "grid").one("tbody").all("tr", "line")


def week_cells(row: Node) -> list[Node]:
    return [cell for cell in row.children if cell.tag == "td" and "wk" in cell.classes]


# ---------------------------------------------------------------- the documents

def service_doc() -> dict:
    doc = instance([post("MED", capacity=2, specialty="General Medicine", name="General Medicine"),
                    post("SUR", capacity=1, categories=("D",), specialty=HOSTILE_SPECIALTY, name=HOSTILE_NAME),
                    post("ED", capacity=2, categories=("C",), specialty="Emergency Medicine", min_fill=[1, 0, 1, 0]),
                    post("PSY", capacity=1, categories=("B",), specialty="Psychiatry", excludable=True,
                         min_fill=1)],
                   term_weeks=TERM_WEEKS, cohort="PGY3+",
                   leave={"weeks": 5, "patterns": [[5], [2, 3]], "min_gap_weeks": 0})
    return doc


# (post per term, leave blocks as (first week, weeks)) per line
LINES = [(["MED", "SUR", "ED", "PSY"], [(3, 5)]),
         (["ED", "MED", "PSY", "SUR"], [(20, 2), (40, 3)]),
         (["SUR", "ED", "MED", "MED"], [])]  # MED twice: NO_REPEAT_POSITION on line 3
# Two lines that keep every rule of a line, but SUR holds 1 and both hold it in term 1
OVER_FULL = [(["SUR", "MED", "ED", "PSY"], [(3, 5)]), (["SUR", "ED", "PSY", "MED"], [(30, 5)])]


def lines_doc(lines=LINES) -> dict:
    solution = solution_doc(lines, term_weeks=TERM_WEEKS)
    solution["lines"][0]["name"] = "<img src=x onerror=alert(1)>"
    return solution


def findings_of(doc: dict, solution: dict) -> list[dict]:
    return [{"rule": v.rule, "line": v.line, "term": v.term, "position": v.position, "message": v.message}
            for v in check(doc, solution)]


def drawn(doc=None, solution=None, findings=None) -> tuple[str, Node]:
    doc = doc or service_doc()
    solution = solution or lines_doc()
    page = render_report(doc, solution, findings_of(doc, solution) if findings is None else findings)
    return page, dom(page)


def week_states(solution: dict, period: int) -> list[list[tuple[str, str | None]]]:
    """Per line and week, what the rotations say: ("clinical", key), ("leave", None) or ("gap", None)."""
    out = []
    for line in solution["lines"]:
        weeks = [("gap", None)] * period
        for rotation in line["rotations"]:
            for week in range(rotation["start_week"], rotation["end_week"] + 1):
                weeks[week - 1] = (rotation["kind"], rotation.get("position"))
        out.append(weeks)
    return out


# ---------------------------------------------------------------- the grid

def test_one_row_per_line_and_one_cell_per_week():
    page, root = drawn()
    rows = grid_rows(root)
    assert len(rows) == len(LINES)
    assert [len(week_cells(row)) for row in rows] == [sum(TERM_WEEKS)] * len(LINES)
    findings = findings_of(service_doc(), lines_doc())
    assert not [f for f in findings if f["rule"] == "CAPACITY"]  # so only the findings naming a line blame one
    assert page_summary(page) == {"lines": len(LINES), "weeks": sum(TERM_WEEKS),
                                  "compliant": len(LINES) - len({f["line"] for f in findings if f["line"]}),
                                  "findings": len(findings)}


def test_every_cell_shows_what_the_line_does_that_week():
    doc, solution = service_doc(), lines_doc()
    _, root = drawn(doc, solution)
    colours = specialty_colours(p["specialty"] for p in doc["positions"])
    shade_of = {p["key"]: f"s{list(colours).index(p['specialty'])}" for p in doc["positions"]}
    expected = week_states(solution, sum(TERM_WEEKS))
    for number, (row, weeks) in enumerate(zip(grid_rows(root), expected), start=1):
        for week, (cell, (kind, key)) in enumerate(zip(week_cells(row), weeks), start=1):
            shade = shade_of[key] if kind == "clinical" else "lv"
            assert shade in cell.classes, f"line {number} week {week}: {cell.classes}, expected {kind} {key}"


def test_each_rotation_is_labelled_once_with_its_post():
    doc, solution = service_doc(), lines_doc()
    _, root = drawn(doc, solution)
    for row, line in zip(grid_rows(root), solution["lines"]):
        labels = [cell.all_text() for cell in week_cells(row) if cell.all("span", "lbl")]
        clinical = [r["position"] for r in line["rotations"] if r["kind"] == "clinical"]
        assert [label for label in labels if label not in ("", "leave")] == clinical


def test_terms_are_marked_where_they_begin():
    _, root = drawn()
    starts = {1 + sum(TERM_WEEKS[:t]) for t in range(len(TERM_WEEKS))}
    for row in grid_rows(root):
        assert {w for w, cell in enumerate(week_cells(row), start=1) if "ts" in cell.classes} == starts
    heads = root.one("table", "grid").one("thead").one("tr", "terms").all("th", "term")
    assert [int(th.attrs["colspan"]) for th in heads] == list(TERM_WEEKS)


def test_weeks_no_rotation_covers_and_weeks_two_cover_are_flagged():
    doc, solution = service_doc(), lines_doc()
    broken = copy.deepcopy(solution)
    rotations = broken["lines"][1]["rotations"]
    gone = rotations.pop(0)  # line 2 loses its first rotation: a gap
    first, last = 27, 30
    broken["lines"][2]["rotations"].append({"kind": "leave", "term": 3, "start_week": first, "end_week": last})
    _, root = drawn(doc, broken)
    rows = grid_rows(root)
    gaps = [w for w, cell in enumerate(week_cells(rows[1]), start=1) if "gap" in cell.classes]
    assert gaps == list(range(gone["start_week"], gone["end_week"] + 1))
    overlaps = [w for w, cell in enumerate(week_cells(rows[2]), start=1) if "ovl" in cell.classes]
    assert overlaps == list(range(first, last + 1))


def test_a_line_the_grid_cannot_read_is_drawn_as_gaps():
    solution = lines_doc()
    solution["lines"].append({"name": "Line 4", "rotations": "none"})
    solution["lines"].append({"rotations": [{"kind": "clinical", "start_week": "1", "end_week": 52}]})
    _, root = drawn(solution=solution)
    rows = grid_rows(root)
    assert len(rows) == len(LINES) + 2
    for row in rows[-2:]:
        assert [("gap" in cell.classes) for cell in week_cells(row)] == [True] * sum(TERM_WEEKS)
    assert rows[-1].one("th", "name").all_text() == f"Line {len(LINES) + 2}"  # unnamed: by its place


# ---------------------------------------------------------------- compliance

def test_a_badge_per_line_from_the_findings():
    doc, solution = service_doc(), lines_doc()
    findings = findings_of(doc, solution)
    blamed = {f["line"] for f in findings if f["line"] is not None}
    assert blamed, "the service's third line repeats a post"
    _, root = drawn(doc, solution, findings)
    badges = [row.one("td", "badge") for row in grid_rows(root)]
    assert {n for n, badge in enumerate(badges, start=1) if "bad" in badge.classes} == blamed
    for number in blamed:
        rules = {f["rule"] for f in findings if f["line"] == number}
        assert all(rule in badges[number - 1].attrs["title"] for rule in rules)
        assert badges[number - 1].one("a").attrs["href"] == f"#findings-line-{number}"
        assert root.one("table", "findings").all("tr")  # the anchor's table
        assert [tr for tr in root.all("tr") if tr.attrs.get("id") == f"findings-line-{number}"]


def test_an_over_full_post_counts_against_every_line_holding_it():
    doc = service_doc()
    solution = solution_doc(OVER_FULL, term_weeks=TERM_WEEKS)
    findings = findings_of(doc, solution)
    assert not [f for f in findings if f["line"] is not None]
    over = [f for f in findings if f["rule"] == "CAPACITY"]
    assert over
    holders = {n for n, (posts, _) in enumerate(OVER_FULL, start=1)
               if any(posts[f["term"] - 1] == f["position"] for f in over)}
    assert holders == {1, 2}
    _, root = drawn(doc, solution, findings)
    badges = [row.one("td", "badge") for row in grid_rows(root)]
    assert {n for n, badge in enumerate(badges, start=1) if "bad" in badge.classes} == holders
    assert all(badges[n - 1].one("a").attrs["href"] == "#findings" for n in holders)  # no finding names them


def test_no_findings_says_so():
    doc = service_doc()
    solution = solution_doc(LINES[:2], term_weeks=TERM_WEEKS)
    assert findings_of(doc, solution) == []
    _, root = drawn(doc, solution)
    assert all("ok" in row.one("td", "badge").classes for row in grid_rows(root))
    assert not root.all("table", "findings")
    assert "No findings" in section(root, "findings").all_text()


# ---------------------------------------------------------------- the post fill table

def per_term(value, term: int) -> int:
    return value[term - 1] if isinstance(value, list) else value


@pytest.mark.parametrize("lines", [LINES, OVER_FULL], ids=["hand-made lines", "an over-full post"])
def test_the_fill_table_counts_lines_per_post_and_term(lines):
    doc, solution = service_doc(), solution_doc(lines, term_weeks=TERM_WEEKS)
    _, root = drawn(doc, solution)
    placed = Counter()
    for line in solution["lines"]:
        placed.update({(r["position"], r["term"]) for r in line["rotations"] if r["kind"] == "clinical"})
    rows = root.one("table", "fill").one("tbody").all("tr")
    assert [row.one("th").all_text() for row in rows] == [p["key"] for p in doc["positions"]]
    states = Counter()
    for row, position in zip(rows, doc["positions"]):
        cells = [td for td in row.all("td") if "n" in td.classes]
        assert len(cells) == len(TERM_WEEKS)
        for term, cell in enumerate(cells, start=1):
            held, capacity = placed[position["key"], term], per_term(position["capacity"], term)
            need = per_term(position.get("min_fill", 0), term)
            assert cell.all_text().startswith(f"{held} / {capacity}"), (position["key"], term, cell.all_text())
            state = "over" if held > capacity else \
                ("short-excludable" if position.get("excludable") else "short") if held < need else "ok"
            assert state in cell.classes, (position["key"], term, cell.classes)
            states[state] += 1
    assert states["over"] == (1 if lines is OVER_FULL else 0)


# ---------------------------------------------------------------- hostile texts, a page that stands alone

def test_every_text_from_a_document_is_escaped():
    doc = service_doc()
    solution = lines_doc()
    findings = findings_of(doc, solution) + [{"rule": "<i>RULE</i>", "line": 1, "term": 1, "position": "SUR",
                                              "message": "</td></tr></table><script>x()</script>"}]
    solution["explanation"] = {"summary": "<marquee>why</marquee>", "reasons": [{"rule": "X", "message": "<u>m</u>"}]}
    solution["metrics"] = {"lines_built": 3, "<em>odd</em>": "<s>value</s>"}
    page, root = drawn(doc, solution, findings)
    for tag in ("script", "img", "b", "i", "marquee", "u", "em", "s"):
        assert not root.all(tag), f"a <{tag}> element came through"
    text = root.all_text()
    for hostile in (HOSTILE_NAME, HOSTILE_SPECIALTY, "<i>RULE</i>", "</td></tr></table><script>x()</script>",
                    "<marquee>why</marquee>", "<u>m</u>", "<s>value</s>"):
        assert hostile in text, f"{hostile!r} is not shown as text"
    assert grid_rows(root)[0].one("th", "name").all_text() == "<img src=x onerror=alert(1)>"
    assert len(grid_rows(root)) == len(LINES)  # the message did not close the grid early


def test_the_page_stands_alone_and_prints():
    page, root = drawn(solution=solution_doc(LINES, term_weeks=TERM_WEEKS))
    for outside in ("<script", "<link", "src=", "http://", "https://", "url(", "@import"):
        assert outside not in page.lower(), f"the page reaches outside: {outside}"
    style = root.one("style").all_text()
    assert "@media print" in style and re.search(r"@page\s*\{[^}]*size:\s*A3 landscape", style)


def test_the_same_documents_give_the_same_page():
    assert drawn()[0] == drawn()[0]


def test_what_cannot_be_drawn_is_refused_by_field():
    doc, solution = service_doc(), lines_doc()
    with pytest.raises(InvalidDocument, match=r"^findings\[0\]: must be an object with a rule code$"):
        render_report(doc, solution, [{"line": 1}])
    with pytest.raises(InvalidDocument, match=r"^findings: must be a list"):
        render_report(doc, solution, {"rule": "X"})
    too_many = {**solution, "lines": solution["lines"] * 700}
    with pytest.raises(InvalidDocument, match=r"^solution\.lines: holds 2100 lines; at most 2000$"):
        render_report(doc, too_many, [])
    with pytest.raises(InvalidDocument, match=r"^cohort: "):
        render_report({**doc, "cohort": "PGY9"}, solution, [])


# ---------------------------------------------------------------- metrics and explanation

def test_a_solved_service_shows_its_metrics():
    doc = service_doc()
    solution = solve_checked(doc, 3, constraints=("UNRESTRICTED",))
    page, root = drawn(doc, solution)
    metrics = section(root, "metrics")
    shown = {dt.all_text(): dd.all_text() for dt, dd in zip(metrics.all("dt"), metrics.all("dd"))}
    assert shown["lines built"] == str(solution["metrics"]["lines_built"])
    assert shown["smallest Hamming distance"] == str(solution["metrics"]["hamming_min"])
    assert shown["request: constraints"] == "UNRESTRICTED"


def test_an_infeasible_run_shows_its_explanation():
    doc = service_doc()
    inst = parse_instance(doc)
    request = parse_request({"n_job_lines": 9, "constraints": ["UNRESTRICTED"], "max_seconds": 10},
                            inst.cohort, inst.n_terms)
    solution = to_document(inst, request, solve_offline(inst, request))
    assert solution["status"] == "INFEASIBLE" and solution["explanation"]
    page, root = drawn(doc, solution, [])
    explained = section(root, "explanation").all_text()
    assert solution["explanation"]["summary"] in explained
    assert all(reason["message"] in explained for reason in solution["explanation"]["reasons"])
    assert grid_rows(root) == [] and page_summary(page)["lines"] == 0


def test_write_report_writes_the_page_with_the_checkers_findings(tmp_path):
    doc, solution = service_doc(), lines_doc()
    summary = write_report(doc, solution, tmp_path / "year.html")
    page = (tmp_path / "year.html").read_text(encoding="utf-8")
    assert page == render_report(doc, solution, findings_of(doc, solution))
    assert summary == page_summary(page) and summary["findings"] == len(findings_of(doc, solution)) > 0


# ---------------------------------------------------------------- in the database

@pytest.fixture
def solved(conn, world) -> dict:
    """Acacia's service with two lines solve_run wrote."""
    outcome = solve(conn, new_run(conn, world["acacia_run"], 2, constraints=("UNRESTRICTED",)))
    assert outcome["status"] == "COMPLETED", outcome
    return world


def findings_in_db(conn, instance_doc, solution) -> list[dict]:
    rows = conn.execute("select rule, line, term, position, message from planner._check_documents(%s, %s)",
                        [Jsonb(instance_doc), Jsonb(solution)]).fetchall()
    return [dict(zip(("rule", "line", "term", "position", "message"), row)) for row in rows]


def test_a_member_gets_the_page_the_core_draws(conn, solved):
    allocation_run = solved["acacia_run"]
    instance_doc, solution = exported(conn, allocation_run)
    with acting_as(conn, solved["viewer"]):
        page = conn.execute("select planner.report_html(%s)", [allocation_run]).fetchone()[0]
    assert page == render_report(instance_doc, solution, findings_in_db(conn, instance_doc, solution))
    rows = grid_rows(dom(page))
    assert len(rows) == len(solution["lines"]) == 2
    assert all(len(week_cells(row)) == 52 and "ok" in row.one("td", "badge").classes for row in rows)


def test_a_hand_edit_that_breaks_a_rule_shows_on_its_line(conn, solved):
    allocation_run = solved["acacia_run"]
    with conn.transaction(force_rollback=True):
        first_post = conn.execute(
            "select p.key from rotations r join job_lines l on l.id = r.job_line_id join positions p "
            "on p.id = r.position_id where l.allocation_run_id = %s and l.line_no = 1 and r.term = 1",
            [allocation_run]).fetchone()[0]
        moved = conn.execute(
            "update rotations r set position_id = p.id from job_lines l, positions p "
            "where l.id = r.job_line_id and l.allocation_run_id = %s and l.line_no = 1 and r.term = 2 "
            "and p.org_id = %s and p.key = %s", [allocation_run, solved["acacia"], first_post]).rowcount
        assert moved == 1
        conn.execute("set constraints all immediate")
        with acting_as(conn, solved["planner"]):
            page = conn.execute("select planner.report_html(%s)", [allocation_run]).fetchone()[0]
    badges = [row.one("td", "badge") for row in grid_rows(dom(page))]
    assert ["bad" in badge.classes for badge in badges] == [True, False]
    assert "NO_REPEAT_POSITION" in badges[0].attrs["title"]


def test_an_outsider_learns_nothing(conn, solved):
    answers = []
    for who in ("rival", "stranger"):
        for target in (solved["acacia_run"], uuid.uuid4()):
            with pytest.raises(psycopg.errors.NoDataFound) as err:
                with acting_as(conn, solved[who]):
                    conn.execute("select planner.report_html(%s)", [target])
            answers.append(err.value.diag.message_primary.replace(str(target), "<id>"))
    assert answers == ["allocation_run: no allocation run with id <id>"] * 4
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with acting_as(conn, None, "anon"):
            conn.execute("select planner.report_html(%s)", [solved["acacia_run"]])


def test_the_drawing_refuses_what_it_cannot_draw_by_field(conn, solved):
    instance_doc, solution = exported(conn, solved["acacia_run"])
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        with acting_as(conn, solved["viewer"]):
            conn.execute("select planner._report_page(%s, %s, %s)",
                         [Jsonb(instance_doc), Jsonb(solution), Jsonb([{"line": 1}])])
    assert err.value.diag.message_primary == "findings[0]: must be an object with a rule code"


def test_planner_report_writes_the_page(pg_url, conn, solved, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    target = tmp_path / "acacia.html"
    args = parser.parse_args([str(solved["acacia_run"]), "--html", str(target), "--url", pg_url, "--json"])
    assert run_report(args) == 0
    page = target.read_text(encoding="utf-8")
    assert page == conn.execute("select planner.report_html(%s)", [solved["acacia_run"]]).fetchone()[0]
    printed = load_json(capsys.readouterr().out)
    assert printed == {"allocation_run": str(solved["acacia_run"]), "html": str(target), **page_summary(page)}
    unknown = str(uuid.uuid4())
    assert run_report(parser.parse_args([unknown, "--html", str(tmp_path / "x.html"), "--url", pg_url])) == 2
    assert f"no allocation run with id {unknown}" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


# ---------------------------------------------------------------- a real browser

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
WINDOW = (1600, 1000)
A3_LANDSCAPE_POINTS = (420 / 25.4 * 72, 297 / 25.4 * 72)


def chromium(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium")
    assert binary, "chromium is missing: apt-get install -y chromium (make test installs it)"
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory) -> tuple[Path, dict, dict]:
    """The demo service, solved offline as `make demo` asks (VIC_PGY1), drawn to a file."""
    doc = load_json((REPO / "examples" / "metro-pgy1.json").read_text())
    solution = solve_checked(doc, parse_instance(doc).default_lines(), constraints=("VIC_PGY1",),
                             allow_partial=False, seconds=45)
    path = tmp_path_factory.mktemp("report") / "metro-pgy1.html"
    write_report(doc, solution, path)
    return path, doc, solution


@pytest.mark.slow  # needs Debian's chromium, which make test installs; make test-quick needs only the venv
def test_the_browser_builds_a_row_per_line_and_a_cell_per_week(demo_page):
    path, doc, solution = demo_page
    result = chromium("--dump-dom", path.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    root = dom(result.stdout)
    rows = grid_rows(root)
    period = parse_instance(doc).period_weeks
    assert len(rows) == len(solution["lines"]) == 121
    assert [len(week_cells(row)) for row in rows] == [period] * len(rows)
    assert sum(len(week_cells(row)) for row in rows) == len(solution["lines"]) * period


def png_rows(data: bytes, first_rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first ``first_rows`` rows (RGB bytes) of an 8-bit non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, compressed = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        pos += 12 + length
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(compressed), width * step
    rows, previous = [], bytearray(stride)
    for y in range(min(first_rows, height)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, up_left = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                guess = left + up - up_left
                # Paeth: the neighbour nearest the guess, ties to left, then up
                nearest = min((abs(guess - left), 0, left), (abs(guess - up), 1, up),
                              (abs(guess - up_left), 2, up_left))
                line[i] = (line[i] + nearest[2]) & 255
        previous = line
        rows.append(bytes(line) if step == 3 else bytes(b for j, b in enumerate(line) if j % 4 != 3))
    return width, height, rows


@pytest.mark.slow
def test_the_screenshot_shows_the_year_in_the_specialty_colours(demo_page, tmp_path):
    path, doc, _ = demo_page
    shot = tmp_path / "shot.png"
    result = chromium(f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", path.as_uri())
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    width, height, rows = png_rows(shot.read_bytes(), first_rows=WINDOW[1])
    assert (width, height) == WINDOW
    specialties = specialty_colours(p["specialty"] for p in doc["positions"])
    assert len(specialties) <= len(PALETTE)  # the demo's colours are all from the palette: exact RGB
    colours = {bytes.fromhex(colour[1:]): name for name, colour in specialties.items()}
    pixels = Counter(row[i:i + 3] for row in rows for i in range(0, len(row), 3))
    shown = {name for colour, name in colours.items() if pixels[colour]}
    assert shown == set(specialties), f"colours never painted: {set(specialties) - shown}"
    # the lower half of the window is all grid: posts fill most of each row (leave and borders the rest)
    lower = rows[height // 2:]
    painted = sum(1 for row in lower for i in range(0, len(row), 3) if row[i:i + 3] in colours)
    assert painted > 0.4 * width * len(lower), f"posts cover {painted / (width * len(lower)):.0%} of the grid's rows"


@pytest.mark.slow
def test_the_page_prints_on_a3_landscape(demo_page, tmp_path):
    path, _, _ = demo_page
    pdf = tmp_path / "year.pdf"
    result = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", path.as_uri())
    assert result.returncode == 0 and pdf.exists(), result.stderr[-2000:]
    data = pdf.read_bytes()
    boxes = {tuple(float(n) for n in box.split()[2:]) for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)}
    assert boxes and all(abs(w - A3_LANDSCAPE_POINTS[0]) < 2 and abs(h - A3_LANDSCAPE_POINTS[1]) < 2
                         for w, h in boxes), boxes
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2  # 121 lines do not fit one sheet
