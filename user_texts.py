"""The one loader of what users read outside the knowledge base.

Each part keeps its texts next to its code, one file per language: `messages_fr.yml`
(French, the reference) and `messages_<code>.yml` (actions/, bot/channels/,
telegram_front/). A key missing from a translation falls back to the French text, so a
half-translated file never leaves a user without an answer; `make validate` lists what a
language still lacks (python -m retrain.consistency).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

REFERENCE = "fr"


def _read(path: Path) -> Dict[str, Any]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


def _merge(base: Dict[str, Any], over: Dict[str, Any]) -> Dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        elif key in base and value not in (None, ""):
            merged[key] = value
    return merged


@lru_cache(maxsize=64)
def load(folder: Path, language: str = REFERENCE) -> Dict[str, Any]:
    """The texts of one folder in one language, French where a key is missing."""
    base = _read(Path(folder) / f"messages_{REFERENCE}.yml")
    if language == REFERENCE:
        return base
    return _merge(base, _read(Path(folder) / f"messages_{language}.yml"))


def translation(folder: Path, language: str) -> Dict[str, Any]:
    """One language's file alone (for texts whose French lives elsewhere, such as the
    responses of domain.yml)."""
    return load_raw(Path(folder) / f"messages_{language}.yml")


@lru_cache(maxsize=64)
def load_raw(path: Path) -> Dict[str, Any]:
    return _read(path)


def answer_language(
    chosen: Any, found: Dict[str, Any], conversation: Any, known: Optional[List[str]] = None
) -> str:
    """The language to answer in: the one the person chose (/langue or the buttons), else
    the one nlu/language.py found for this message when it was sure (or the front's hint
    decided), else the conversation's, else French. Shared by the actions and bot/nlg.py
    (which must decide alone when the action server is down)."""
    sure = found.get("code") if found.get("source") in ("text", "hint") else None
    for value in (chosen, sure, conversation):
        if isinstance(value, str) and value and (known is None or value in known):
            return value
    return REFERENCE


def languages(folder: Path) -> List[str]:
    """French and every language with a messages file in this folder."""
    found = {p.stem.split("_", 1)[1] for p in Path(folder).glob("messages_*.yml")}
    return [REFERENCE] + sorted(found - {REFERENCE})


def missing_keys(folder: Path, language: str) -> List[str]:
    """Dotted keys of the French file that the language's file lacks."""

    def keys(data: Dict[str, Any], prefix: str = "") -> List[str]:
        out = []
        for key, value in data.items():
            out += keys(value, f"{prefix}{key}.") if isinstance(value, dict) else [prefix + key]
        return out

    base = _read(Path(folder) / f"messages_{REFERENCE}.yml")
    translated = set(keys(_read(Path(folder) / f"messages_{language}.yml")))
    return [key for key in keys(base) if key not in translated]
