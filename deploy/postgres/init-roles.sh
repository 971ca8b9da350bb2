#!/bin/sh
# Makes Ward's two roles and its database (roles.sql) when the postgres image initialises an
# empty data directory: compose.yaml mounts this file in /docker-entrypoint-initdb.d/ and
# roles.sql at /ward/roles.sql. The image runs it once, as the postgres user (uid 999), against
# a server listening on its Unix socket only, with the superuser's password in PGPASSWORD.
set -eu

# password NAME: the compose secret NAME. Read into a variable first, so that a missing or
# unreadable file stops the script here (a failed $(…) inside psql's arguments would not), and
# refused when empty, since PostgreSQL would make a role nobody can log in as.
password() {
    value=$(cat "/run/secrets/$1")
    if [ -z "$value" ]; then
        echo "init-roles.sh: /run/secrets/$1 is empty" >&2
        exit 1
    fi
    printf '%s' "$value"
}
owner_password=$(password postgres_owner_password)
serving_password=$(password postgres_serving_password)

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
    -v owner=ward_owner -v owner_password="$owner_password" \
    -v serving=ward -v serving_password="$serving_password" \
    -v database=ward -f /ward/roles.sql
