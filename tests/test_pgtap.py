"""The pgTAP files of supabase/tests/database, run by pg_prove as `supabase test db` runs them.

`supabase test db` needs Docker; what it runs inside its container is
`pg_prove` over the test folder after `create extension pgtap with schema
extensions`. Here pg_prove (Debian's libtap-parser-sourcehandler-pgtap-perl,
installed by `make test`) runs them against the test database.

docs/security.md shows the abuser-story matrix as a table; the last test
checks it says exactly what the pgTAP expectations say, cell by cell.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict
import pytest

REPO = Path(__file__).resolve().parents[1]
PGTAP_DIR = REPO / "supabase" / "tests" / "database"
SECURITY_DOC = REPO / "docs" / "security.md"
ACTORS = ("anon", "non_member", "viewer_a", "planner_a", "admin_a", "planner_b", "service_role")
OUTCOMES = ("allow", "deny")


@pytest.fixture
def pgtap(pg_url):
    """pgTAP in schema extensions, as Supabase has it; dropped again if this test made it."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        made = conn.execute("select not exists (select 1 from pg_extension where extname = 'pgtap')").fetchone()[0]
        conn.execute("create extension if not exists pgtap with schema extensions")
        try:
            yield pg_url
        finally:
            if made:
                conn.execute("drop extension pgtap")


def test_the_pgtap_files_pass(pgtap):
    pg_prove = shutil.which("pg_prove")
    assert pg_prove, "pg_prove is missing: apt-get install libtap-parser-sourcehandler-pgtap-perl (make test does)"
    assert sorted(PGTAP_DIR.glob("*.test.sql")), f"no pgTAP files in {PGTAP_DIR}"
    dsn = conninfo_to_dict(pgtap)
    env = {**os.environ, "PGOPTIONS": "-c search_path=public,extensions"}  # pgTAP's functions, unqualified
    if dsn.get("password"):
        env["PGPASSWORD"] = str(dsn["password"])
    result = subprocess.run(
        [pg_prove, "-h", str(dsn.get("host", "127.0.0.1")), "-p", str(dsn.get("port", 5432)),
         "-U", str(dsn.get("user", "postgres")), "-d", str(dsn["dbname"]),
         "--ext", ".sql", "-r", str(PGTAP_DIR)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Result: PASS" in output, f"pg_prove exited {result.returncode}:\n{output}"


# ---------------------------------------------------------------- the documented matrix is the tested one

def pgtap_expectations() -> dict[tuple[str, str, str], str]:
    """(target, action, actor) -> allow|deny, from the `insert into expectations` rows of the pgTAP files."""
    cells = {}
    for path in sorted(PGTAP_DIR.glob("*.test.sql")):
        text = path.read_text()
        header = re.search(r"insert into expectations \(([^)]*)\)", text)
        if not header:
            continue
        columns = [c.strip() for c in header.group(1).split(",")]
        assert columns == ["target", "action", *ACTORS], f"{path.name}: expectation columns {columns}"
        outcome = r"\s*'(allow|deny)'\s*"
        row = re.compile(r"\(\s*'([^']+)'\s*,\s*'([a-z]+)'\s*," + ",".join([outcome] * len(ACTORS)) + r"\)")
        for match in row.finditer(text[header.end():]):
            target, action, *outcomes = match.groups()
            for actor, value in zip(ACTORS, outcomes):
                assert (target, action, actor) not in cells, f"{path.name}: {target} {action} twice"
                cells[(target, action, actor)] = value
    return cells


def documented_matrix() -> dict[tuple[str, str, str], str]:
    """(target, action, actor) -> allow|deny, from the markdown table of docs/security.md."""
    cells = {}
    header = None
    for line in SECURITY_DOC.read_text().splitlines():
        if not line.startswith("|"):
            continue
        fields = [f.strip().strip("`").strip() for f in line.strip().strip("|").split("|")]
        if fields[2:] == list(ACTORS):
            header = fields
            continue
        if header and len(fields) == len(header) and all(f in OUTCOMES for f in fields[2:]):
            target, action = fields[:2]
            for actor, value in zip(ACTORS, fields[2:]):
                assert (target, action, actor) not in cells, f"docs/security.md: {target} {action} twice"
                cells[(target, action, actor)] = value
    return cells


def test_the_documented_matrix_is_the_tested_one():
    tested, documented = pgtap_expectations(), documented_matrix()
    assert len(tested) >= 7 * 4 * 14, f"only {len(tested)} cells found in the pgTAP files"
    only_tested = sorted(set(tested) - set(documented))
    only_documented = sorted(set(documented) - set(tested))
    differ = sorted(f"{t} {a} {actor}: docs {documented[(t, a, actor)]}, pgTAP {tested[(t, a, actor)]}"
                    for (t, a, actor) in set(tested) & set(documented)
                    if tested[(t, a, actor)] != documented[(t, a, actor)])
    assert not only_tested, f"cells missing from docs/security.md: {only_tested[:10]}"
    assert not only_documented, f"cells in docs/security.md that pgTAP does not test: {only_documented[:10]}"
    assert not differ, "docs/security.md and the pgTAP matrix disagree:\n" + "\n".join(differ)
