"""Where things are in the repository: the one home of every project path.

The Rasa project sits at the root, where Rasa's own commands look for it without flags
(`rasa data validate`, `rasa train`, `rasa test`, `rasa shell`).
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent

# The Rasa project (what the model is trained from).
CONFIG_FILE = REPO_ROOT / "config.yml"
DOMAIN_FILE = REPO_ROOT / "domain.yml"
CREDENTIALS_FILE = REPO_ROOT / "credentials.yml"
ENDPOINTS_FILE = REPO_ROOT / "endpoints.yml"
DATA_DIR = REPO_ROOT / "data"
NLU_DATA_DIR = DATA_DIR / "nlu"
NLU_CODE_DIR = REPO_ROOT / "nlu"

# Evaluation sets: never under data/, so that Rasa never trains on them.
HELDOUT_DIR = REPO_ROOT / "heldout"

# Knowledge content, one reviewed file per topic (French, the reference), and its
# translations, one folder per language.
CONTENT_DIR = REPO_ROOT / "knowledge" / "content"
TRANSLATIONS_DIR = REPO_ROOT / "knowledge" / "translations"

# Generated, never committed.
VAR_DIR = REPO_ROOT / "var"
MODELS_DIR = REPO_ROOT / "models"
DEFAULT_MODEL = MODELS_DIR / "assistant.tar.gz"
