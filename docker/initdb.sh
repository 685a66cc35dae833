#!/usr/bin/env bash
# First start of the image: load the planner's schema into the postgres database, in load order.
set -euo pipefail
for f in /opt/receptor-planner/sql/*.sql; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -f "$f"
done
