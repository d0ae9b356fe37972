"""Where things are: repository paths and the database URL, in one place."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = REPO_ROOT / "knowledge" / "content"
REQUIRED_TOPICS_FILE = REPO_ROOT / "knowledge" / "required_topics.txt"
NLU_DATA_DIR = REPO_ROOT / "nlu" / "data"
DOMAIN_FILE = REPO_ROOT / "bot" / "domain.yml"
HELDOUT_TOPICS_FILE = REPO_ROOT / "nlu" / "heldout" / "topics.yml"
DEFAULT_DB_FILE = REPO_ROOT / "var" / "knowledge.db"

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
