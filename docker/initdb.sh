#!/usr/bin/env bash
# First start of the image (docker-entrypoint-initdb.d): on a plain PostgreSQL, make what Supabase
# would have (supabase/compat.sql), then apply the migrations in order, in one transaction, and
# record them as the Supabase CLI does, so a later `supabase db push` applies only newer ones.
#
# Where Supabase's own auth schema exists (the image runs as a self-hosted Supabase's database and
# Supabase's init scripts ran first), nothing is applied: there the migrations are pushed with
# `supabase db push --db-url ...`, and compat.sql must never touch the real auth schema.
#
# RECEPTOR_PLANNER_SUPABASE and RECEPTOR_PLANNER_DATABASE point elsewhere in tests.
set -euo pipefail

supabase_dir=${RECEPTOR_PLANNER_SUPABASE:-/opt/receptor-planner/supabase}
# Supabase keeps its data in "postgres"; pg_cron (cron.database_name) and the planner live there too.
database=${RECEPTOR_PLANNER_DATABASE:-postgres}
psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "${POSTGRES_USER:-postgres}" --dbname "$database")

if [ "$("${psql[@]}" -tAc "select to_regnamespace('auth') is null")" != t ]; then
  echo "receptor planner: the auth schema exists (Supabase): apply the migrations with supabase db push"
  exit 0
fi

{
  echo "\\o /dev/null"  # results of the migrations' selects; errors still go to stderr
  echo "begin;"
  echo "\\i $supabase_dir/compat.sql"
  # The Supabase CLI's own history table (supabase 2.117.0 creates the same when it pushes).
  echo "create schema if not exists supabase_migrations;"
  echo "create table if not exists supabase_migrations.schema_migrations" \
       "(version text not null primary key, statements text[], name text);"
  for file in "$supabase_dir"/migrations/*.sql; do
    base=$(basename "$file" .sql)
    echo "\\i $file"
    echo "\\set statements \`cat '$file'\`"
    echo "insert into supabase_migrations.schema_migrations (version, name, statements)" \
         "values ('${base%%_*}', '${base#*_}', array[:'statements']) on conflict (version) do nothing;"
  done
  echo "commit;"
} | "${psql[@]}"
echo "receptor planner: applied supabase/compat.sql and $(ls "$supabase_dir"/migrations/*.sql | wc -l) migrations"
