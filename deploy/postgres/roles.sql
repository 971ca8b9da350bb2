-- Ward's two PostgreSQL roles and its database, made once by a superuser with psql:
--
--   psql "postgres://postgres@db-host/postgres" -v ON_ERROR_STOP=1 \
--     -v owner=ward_owner -v owner_password="$OWNER_PASSWORD" \
--     -v serving=ward -v serving_password="$SERVING_PASSWORD" \
--     -v database=ward -f deploy/postgres/roles.sql
--
-- The owner (DATABASE_OWNER_URL) owns the database and every schema Ward makes in it: it runs
-- `ward migrate`, provisions and purges tenants, restores backups and removes audit events
-- past retention. The serving role (DATABASE_URL) only connects: each migration grants it read
-- and write on the rows of the schema it ran in, and no more than read and append on the audit
-- trail. It cannot create, alter or drop anything, so a flaw in a request handler cannot
-- change the schema or rewrite the trail: PostgreSQL itself refuses. Neither role is a
-- superuser, creates roles or creates databases. The test suite sets up its roles with this file.

CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
CREATE ROLE :"serving" LOGIN PASSWORD :'serving_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
CREATE DATABASE :"database" OWNER :"owner" ENCODING 'UTF8';
-- Nobody else connects or makes temporary tables; the serving role connects, nothing more.
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"serving";
-- A read of one row by its key takes the key's index: at the default random_page_cost (4,
-- priced for spinning disks) the planner scans a small clinic's whole table instead, and across
-- hundreds of clinics those scans evict each other from the CPU's caches. 1.1 suits SSDs and
-- data held in memory. (Ward's platform migration 6 sets it on the control plane's database where
-- nobody has; a shard made with this file has it from here.)
ALTER DATABASE :"database" SET random_page_cost = 1.1;

\connect :"database"
-- The public schema is not Ward's: nobody creates anything in it (PostgreSQL 15 and later
-- already refuse; earlier releases let every role).
REVOKE ALL ON SCHEMA public FROM PUBLIC;
