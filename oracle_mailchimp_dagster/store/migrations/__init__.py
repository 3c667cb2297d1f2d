"""Alembic migrations for the app database, shipped inside the package (applied by `db upgrade`)."""
