"""Settings shared by the Rasa-side modules, read from the environment."""
import os

from project_paths import VAR_DIR


def tracker_db_url() -> str:
    """SQLAlchemy URL of the conversation store (SQLite file by default)."""
    return os.environ.get("TRACKER_DB_URL") or f"sqlite:///{VAR_DIR / 'tracker.db'}"

