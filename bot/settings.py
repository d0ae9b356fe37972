"""Settings shared by the Rasa-side modules, read from the environment."""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = REPO_ROOT / "var"


def tracker_db_url() -> str:
    """SQLAlchemy URL of the conversation store (SQLite file by default)."""
    return os.environ.get("TRACKER_DB_URL") or f"sqlite:///{VAR_DIR / 'tracker.db'}"

