-- Run once by the postgres image on its first start (/docker-entrypoint-initdb.d/).
-- The services connect as `psa`: not a superuser, not BYPASSRLS, so row-level security binds it.
CREATE ROLE psa LOGIN PASSWORD 'psa' NOSUPERUSER NOBYPASSRLS;
CREATE DATABASE psa_tickets OWNER psa;
CREATE DATABASE psa_docs_vault OWNER psa;
