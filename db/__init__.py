"""Database models, engine and sessions, migrations and the demo seed."""
