"""Alembic environment and revisions; run them through :func:`store.migrate.upgrade`."""
