-- Run once by the postgres image on its first start (/docker-entrypoint-initdb.d/).
-- psa_owner owns the databases and makes the schema at each start (PSA_*_SCHEMA_URL); the
-- services' requests run as psa (PSA_*_DATABASE_URL), which may only read and write rows.
-- Neither is a superuser nor BYPASSRLS, so row-level security binds both.
CREATE ROLE psa_owner LOGIN PASSWORD 'psa_owner' NOSUPERUSER NOBYPASSRLS;
CREATE ROLE psa LOGIN PASSWORD 'psa' NOSUPERUSER NOBYPASSRLS;
CREATE DATABASE psa_tickets OWNER psa_owner;
CREATE DATABASE psa_docs_vault OWNER psa_owner;
