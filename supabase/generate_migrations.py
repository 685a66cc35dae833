#!/usr/bin/env python3
"""Write supabase/migrations/ from sql/: one migration per schema file (`make migrations`).

sql/NN_name.sql becomes 20261204HHMM00_name.sql, HHMM being NN minutes after
midnight (a real time, as the CLI expects of a version), so the Supabase CLI
applies the files in the same order as the embedded database does. Each
migration is the schema file behind a one-line header; sql/ stays the one
place the schema is written. Generated migrations whose schema file is gone
are removed; migrations written by hand (no header) are left alone.

Standard library only: it runs before any venv exists.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VERSION_DATE = "20261204"
SCHEMA_FILE = re.compile(r"^(\d{2})_([a-z0-9_]+)\.sql$")
HEADER = "-- Generated from sql/{source} by `make migrations`: edit sql/{source}, not this file.\n"
GENERATED_MARK = "-- Generated from sql/"


def migration_name(source: str) -> str:
    """``13_members.sql`` -> ``20261204001300_members.sql``; ``61_worker.sql`` -> ``20261204010100_worker.sql``."""
    match = SCHEMA_FILE.match(source)
    if not match:
        raise ValueError(f"{source}: a schema file is named NN_name.sql (two digits, lower-case name)")
    number, name = match.groups()
    hours, minutes = divmod(int(number), 60)
    return f"{VERSION_DATE}{hours:02d}{minutes:02d}00_{name}.sql"


def migrations(sql_dir: Path) -> dict[str, str]:
    """The migrations sql_dir makes, as file name -> text."""
    out = {}
    for path in sorted(sql_dir.glob("*.sql")):
        out[migration_name(path.name)] = HEADER.format(source=path.name) + path.read_text()
    if not out:
        raise ValueError(f"{sql_dir}: no schema files (*.sql)")
    return out


def write(sql_dir: Path, out_dir: Path) -> list[str]:
    """Bring out_dir in line with sql_dir; return what changed, one line each."""
    wanted = migrations(sql_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    changes = []
    for name, text in wanted.items():
        target = out_dir / name
        if not target.exists() or target.read_text() != text:
            changes.append(f"wrote {target}")
            target.write_text(text)
    for stale in sorted(out_dir.glob("*.sql")):
        if stale.name not in wanted and stale.read_text().startswith(GENERATED_MARK):
            changes.append(f"removed {stale} (its schema file is gone)")
            stale.unlink()
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sql", type=Path, default=REPO / "sql", help="the schema files (default: sql/)")
    parser.add_argument("--out", type=Path, default=REPO / "supabase" / "migrations",
                        help="where the migrations go (default: supabase/migrations/)")
    args = parser.parse_args(argv)
    try:
        changes = write(args.sql, args.out)
    except ValueError as e:
        print(f"generate_migrations: {e}", file=sys.stderr)
        return 1
    print("\n".join(changes) if changes else f"{args.out}: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
