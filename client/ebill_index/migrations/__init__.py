"""Alembic migrations of the read model (``alembic upgrade`` through :mod:`ebill_index.migrate`)."""
