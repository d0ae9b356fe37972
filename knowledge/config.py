"""Where things are: repository paths and the database URL, in one place."""

from __future__ import annotations

import os

from project_paths import REPO_ROOT, VAR_DIR

REQUIRED_TOPICS_FILE = REPO_ROOT / "knowledge" / "required_topics.txt"
DEFAULT_DB_FILE = VAR_DIR / "knowledge.db"

# The intent contract: every intent of data/nlu/ is named by its topic id
# (data/nlu/titre-sejour.yml, intent titre-sejour, knowledge/content/titre-sejour.yml),
# except these, which steer the conversation and have no topic of their own.
CONTROL_INTENTS = frozenset({"en_savoir_plus", "menu", "effacer_conversation", "choisir_langue"})
# What Rasa's FallbackClassifier predicts when no intent is sure enough.
FALLBACK_INTENT = "nlu_fallback"


def db_url() -> str:
    """KNOWLEDGE_DB_URL, else the SQLite file var/knowledge.db (var/ is created)."""
    url = os.environ.get("KNOWLEDGE_DB_URL", "").strip()
    if url:
        return url
    DEFAULT_DB_FILE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DB_FILE}"


def topic_of_intent(intent: str | None) -> str | None:
    """The topic an intent asks about (its own name), or None for the others."""
    if not intent or intent in CONTROL_INTENTS or intent == FALLBACK_INTENT:
        return None
    return intent
