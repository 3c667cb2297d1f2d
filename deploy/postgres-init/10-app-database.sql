-- Run once by the postgres image when its data volume is new: the app database (tenants, encrypted
-- credentials, sync state, audit ledger) beside Dagster's own (POSTGRES_DB). Two databases, because
-- both keep their schema version in a table named alembic_version.
CREATE DATABASE oracle_mailchimp OWNER dagster;
