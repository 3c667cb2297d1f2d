"""Alembic environment: runs on the connection handed over by `store.migrate`, never on its own."""

from alembic import context

from oracle_mailchimp_dagster.store.migrate import VERSION_TABLE
from oracle_mailchimp_dagster.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
