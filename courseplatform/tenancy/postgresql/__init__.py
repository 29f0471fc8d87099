"""Database backend: Django's PostgreSQL backend plus the school setting (see base.py)."""
