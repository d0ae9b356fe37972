"""Tests of the Telegram front. Helpers (fake Bot API, fake Rasa, harness) live beside
this file and are imported by module name; the project root must be importable."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for path in (REPO_ROOT, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
