"""The planner-orchestration edge function: its Deno tests, run against this suite's database.

`deno test` runs supabase/functions/planner-orchestration/*.test.ts with SUPABASE_DB_URL set to the
superuser URL of ``pg_url`` (the tests make their own orgs, users and services with it; the function
inserts as each user, under RLS) and a test JWT secret. Deno is the npm package that `make tools`
installs under /opt/receptor-planner/npm ($PLANNER_NPM_BIN overrides the folder of its binary).
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FUNCTION = REPO / "supabase" / "functions" / "planner-orchestration"
NPM_BIN = Path(os.environ.get("PLANNER_NPM_BIN", "/opt/receptor-planner/npm/node_modules/.bin"))
TEST_SECRET = "planner-orchestration-test-secret-0123456789"
TEST_FILES = ("database.test.ts", "errors.test.ts", "request.test.ts", "server.test.ts")
# The tests as written: fewer means some stopped being collected.
MIN_TESTS = 25


@pytest.fixture(scope="session")
def deno() -> Path:
    """Checked before ``pg_url`` starts a server (fixtures of one scope start in argument order)."""
    deno = NPM_BIN / "deno"
    if not os.access(deno, os.X_OK):
        pytest.fail(f"deno not found at {deno}: run `make tools` (npm deno@2.9.6 into /opt/receptor-planner/npm), "
                    "or set PLANNER_NPM_BIN to the folder holding a deno binary", pytrace=False)
    return deno


def test_the_edge_function_passes_its_deno_tests_against_the_database(deno, pg_url):
    # Only what the tests need; nothing of the caller's PLANNER_*/SUPABASE_* configuration leaks in.
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PLANNER_", "SUPABASE_", "DENO_", "NO_COLOR"))}
    env.update(SUPABASE_DB_URL=pg_url, PLANNER_JWT_SECRET=TEST_SECRET, NO_COLOR="1")
    if os.environ.get("DENO_DIR"):
        env["DENO_DIR"] = os.environ["DENO_DIR"]
    started = time.monotonic()
    # --frozen: the lock file must already name every npm package at its exact version.
    result = subprocess.run([str(deno), "test", "--frozen", "--allow-net", "--allow-env", "--allow-read",
                             "--allow-run", *TEST_FILES],
                            cwd=FUNCTION, env=env, capture_output=True, text=True, timeout=600)
    output = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, f"deno test failed ({time.monotonic() - started:.0f} s):\n{output[-12000:]}"
    for name in TEST_FILES:
        assert re.search(rf"^running \d+ tests? from \./{re.escape(name)}$", result.stdout, re.M), \
            f"{name} ran no tests:\n{output[-4000:]}"
    summary = re.search(r"^ok \| (\d+) passed(?: \(\d+ steps?\))? \| 0 failed", result.stdout, re.M)
    assert summary, f"no summary line in the output:\n{output[-4000:]}"
    assert int(summary[1]) >= MIN_TESTS, f"only {summary[1]} tests ran:\n{output[-4000:]}"
