#!/bin/sh
# Runs once, when the compose warehouse's data directory is created: the read-only role the marts
# grant to (bi_reader) and Metabase's login in it. The password comes from .env.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v bi_password="$BI_READER_PASSWORD" <<'SQL'
create role bi_reader nologin;
create role metabase login password :'bi_password' in role bi_reader;
SQL
