"""The front's own texts, one set per language (messages_<code>.yml, French the reference).

Loaded with the project's one loader of user texts (user_texts.load: a key missing from
a translation falls back to French), then checked: a missing text fails at start-up.
Which set a chat reads is the handlers' choice (TextBook.pick).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from babel.numbers import format_decimal

import user_texts
from project_paths import REPO_ROOT

FRONT_DIR = Path(__file__).resolve().parent
MESSAGES_FILE = FRONT_DIR / "messages_fr.yml"
# Where the names of the languages and the "which language?" question live: the same
# words as the buttons Rasa sends (actions/language.py).
ACTIONS_DIR = REPO_ROOT / "actions"
REFERENCE = user_texts.REFERENCE

COMMANDS = ("start", "aide", "menu", "urgence", "oubli", "langue")
UNSUPPORTED_KINDS = (
    "voice",
    "audio",
    "video",
    "video_note",
    "photo",
    "document",
    "sticker",
    "animation",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "other",
)
REQUIRED = (
    "welcome",
    "help",
    "emergency",
    "apology",
    "edited",
    "group_refusal",
    "too_long_note",
    "forget_done",
    "forget_failed",
    "button_expired",
    "buttons_prompt",
    "image_fallback",
    "one_at_a_time",
)


@dataclass(frozen=True)
class Texts:
    language: str
    welcome: str
    help: str
    emergency: str
    apology: str
    edited: str
    group_refusal: str
    too_long_note: str
    forget_done: str
    forget_failed: str
    button_expired: str
    buttons_prompt: str
    image_fallback: str
    one_at_a_time: str
    language_prompt: str
    unsupported: Dict[str, str]
    commands: Dict[str, str]

    @property
    def apology_with_emergency(self) -> str:
        return f"{self.apology}\n\n{self.emergency}"

    def unsupported_reply(self, kind: str) -> str:
        return self.unsupported.get(kind) or self.unsupported["other"]

    def too_long(self, limit: int) -> str:
        # The language's own digit grouping (fr "2 000", en "2,000", ro "2.000").
        return self.too_long_note.format(limit=format_decimal(limit, locale=self.language))


def load_texts(language: str = REFERENCE, folder: Path = FRONT_DIR, actions_dir: Path = ACTIONS_DIR) -> Texts:
    """One language's texts, French where the translation lacks a key; raises ValueError
    when even French lacks one."""
    data = user_texts.load(Path(folder), language)
    words = user_texts.load(Path(actions_dir), language)
    missing = [k for k in REQUIRED if not isinstance(data.get(k), str) or not data[k].strip()]
    unsupported = data.get("unsupported") or {}
    missing += [f"unsupported.{k}" for k in UNSUPPORTED_KINDS if not unsupported.get(k)]
    commands = data.get("commands") or {}
    missing += [f"commands.{k}" for k in COMMANDS if not commands.get(k)]
    prompt = words.get("choisir_langue")
    if not isinstance(prompt, str) or not prompt.strip():
        missing.append(f"{actions_dir}/messages_*.yml: choisir_langue")
    if missing:
        raise ValueError(f"{folder}/messages_{language}.yml: missing texts: {', '.join(missing)}")
    return Texts(
        language=language,
        **{k: data[k].strip() for k in REQUIRED},
        language_prompt=prompt.strip(),
        unsupported={k: str(v).strip() for k, v in unsupported.items()},
        commands={k: str(commands[k]).strip() for k in commands if k in COMMANDS},
    )


def language_names(actions_dir: Path = ACTIONS_DIR) -> Dict[str, str]:
    """Each language's name in itself (actions/messages_fr.yml `noms_des_langues`)."""
    names = user_texts.load(Path(actions_dir), REFERENCE).get("noms_des_langues") or {}
    return {str(code): str(name) for code, name in names.items()}


def app_language(language_code: Optional[str]) -> Optional[str]:
    """The 2-letter code of a Telegram app language ("en-GB" -> "en"), or None."""
    if not isinstance(language_code, str):
        return None
    code = language_code.strip().split("-")[0].split("_")[0].lower()
    return code if len(code) == 2 and code.isalpha() else None


class TextBook:
    """Every language's texts, and which one a chat reads."""

    def __init__(self, by_language: Dict[str, Texts], names: Dict[str, str]) -> None:
        if REFERENCE not in by_language:
            raise ValueError("the French texts are required")
        self.by_language = by_language
        self.names = names

    @classmethod
    def load(cls, folder: Path = FRONT_DIR, actions_dir: Path = ACTIONS_DIR) -> "TextBook":
        languages = user_texts.languages(Path(folder))
        names = language_names(actions_dir)
        unnamed = [code for code in languages if not names.get(code)]
        if unnamed:
            raise ValueError(f"{actions_dir}/messages_fr.yml noms_des_langues lacks: {', '.join(unnamed)}")
        return cls({code: load_texts(code, folder, actions_dir) for code in languages}, names)

    @property
    def languages(self) -> Tuple[str, ...]:
        """French first, then the translations."""
        return tuple(self.by_language)

    @property
    def french(self) -> Texts:
        return self.by_language[REFERENCE]

    def supported(self, code: Optional[str]) -> Optional[str]:
        return code if code in self.by_language else None

    def pick(self, *candidates: Optional[str]) -> Texts:
        """The first candidate language we have (the chat's choice, then the app's), else French."""
        for code in candidates:
            if code in self.by_language:
                return self.by_language[code]
        return self.french

    def language_buttons(self) -> List[Tuple[str, str]]:
        """(name, code) of each language, in the order of noms_des_langues."""
        return [(name, code) for code, name in self.names.items() if code in self.by_language]

    def __iter__(self) -> Iterable[Texts]:
        return iter(self.by_language.values())
