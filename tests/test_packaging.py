"""Dockerfile.postgres cannot be built here (no Docker engine), so check what can be:
it installs what the Makefile installs, copies files that exist, and sets the
server settings the local cluster uses."""
from __future__ import annotations

import re
from pathlib import Path

from receptor_planner import cluster

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "Dockerfile.postgres").read_text()


def makefile_packages() -> set[str]:
    text = (REPO / "Makefile").read_text()
    block = re.search(r"DEBIAN_PACKAGES := (.*?)\n(?!\t)", text, re.S).group(1)
    return set(block.replace("\\", " ").split())


def test_the_image_installs_the_makefiles_postgres_packages():
    # the postgres:15 base image brings the server itself
    wanted = {p for p in makefile_packages() if p.startswith(("postgresql", "python3.11"))} - {"postgresql-15"}
    installed = set(re.findall(r"(postgresql-[\w.-]+|python3\.11[\w-]*)", DOCKERFILE))
    assert wanted <= installed, wanted - installed


def test_every_copied_source_exists():
    sources = re.findall(r"^COPY\s+(\S+)\s+\S+", DOCKERFILE, re.M)
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source


def test_the_image_sets_what_the_local_cluster_sets():
    settings = cluster.server_settings("/x", "postgres")
    for name in ("shared_preload_libraries", "wal_level", "output_plugin_libraries", "cron.database_name"):
        assert re.search(rf"{re.escape(name)} = '?{re.escape(settings[name])}'?\"", DOCKERFILE), name
    path = re.search(r"planner\.python_path = '([^']+)'", DOCKERFILE).group(1).split(":")
    assert path[0] == "/opt/receptor-planner/python"  # where receptor_planner is copied
    assert "COPY plpython/receptor_planner /opt/receptor-planner/python/receptor_planner" in DOCKERFILE
    assert path[1].startswith("/opt/receptor-planner/venv/") and path[1].endswith("site-packages")


def test_the_image_loads_every_schema_file():
    assert "COPY sql /opt/receptor-planner/sql" in DOCKERFILE
    assert "/opt/receptor-planner/sql/*.sql" in (REPO / "docker" / "initdb.sh").read_text()
