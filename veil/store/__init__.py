"""Storage: the one narrow interface to SQLite and PostgreSQL (SQLAlchemy Core + Alembic)."""
