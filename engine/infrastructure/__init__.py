"""Where events live: the store, the database, migrations and settings."""
