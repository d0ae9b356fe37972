"""Settings shared by the Rasa-side modules, read from the environment."""

import os

from project_paths import VAR_DIR


def tracker_db_url() -> str:
    """SQLAlchemy URL of the conversation store (SQLite file by default)."""
    return os.environ.get("TRACKER_DB_URL") or f"sqlite:///{VAR_DIR / 'tracker.db'}"


def private_files() -> None:
    """Files this process creates (conversation store, WAL, KB, keys, inbox) are readable
    by their owner only, and var/ is not listable by other local users."""
    os.umask(0o077)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(VAR_DIR, 0o700)
