"""Persistence for every part of jianpei: SQLAlchemy 2 async models, sessions, repositories and the
Alembic migrations. SQLite by default, PostgreSQL in production; knows nothing of HTTP or chat."""
