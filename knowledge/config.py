"""Where things are: repository paths and the database URL, in one place."""
from __future__ import annotations

import os

from project_paths import REPO_ROOT, VAR_DIR

REQUIRED_TOPICS_FILE = REPO_ROOT / "knowledge" / "required_topics.txt"
DEFAULT_DB_FILE = VAR_DIR / "knowledge.db"

# Intents that steer the conversation and have no topic of their own.
CONTROL_INTENTS = frozenset({"en_savoir_plus", "menu", "effacer_conversation", "nlu_fallback"})


def db_url() -> str:
    """KNOWLEDGE_DB_URL, else the SQLite file var/knowledge.db (var/ is created)."""
    url = os.environ.get("KNOWLEDGE_DB_URL", "").strip()
    if url:
        return url
    DEFAULT_DB_FILE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DB_FILE}"


def intent_to_topic(intent: str) -> str:
    """The contract: a topic intent is its topic id with '-' replaced by '_'."""
    return intent.replace("_", "-")
