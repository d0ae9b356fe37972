"""The front's own French texts, loaded from messages_fr.yml (no text lives in code)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

import yaml

MESSAGES_FILE = Path(__file__).with_name("messages_fr.yml")

COMMANDS = ("start", "aide", "menu", "urgence", "oubli")
UNSUPPORTED_KINDS = (
    "voice", "audio", "video", "video_note", "photo", "document", "sticker",
    "animation", "location", "venue", "contact", "poll", "dice", "other",
)
REQUIRED = (
    "welcome", "help", "emergency", "apology", "edited", "group_refusal",
    "too_long_note", "forget_done", "forget_failed", "button_expired",
    "buttons_prompt", "image_fallback", "one_at_a_time",
)


@dataclass(frozen=True)
class Texts:
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
    unsupported: Dict[str, str]
    commands: Dict[str, str]

    @property
    def apology_with_emergency(self) -> str:
        return f"{self.apology}\n\n{self.emergency}"

    def unsupported_reply(self, kind: str) -> str:
        return self.unsupported.get(kind) or self.unsupported["other"]

    def too_long(self, limit: int) -> str:
        # French thousands separator: a narrow no-break space (2 000).
        return self.too_long_note.format(limit=f"{limit:,}".replace(",", "\u202f"))


def load_texts(path: Optional[Path] = None) -> Texts:
    with open(path or MESSAGES_FILE, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    missing = [k for k in REQUIRED if not isinstance(data.get(k), str) or not data[k].strip()]
    unsupported = data.get("unsupported") or {}
    missing += [f"unsupported.{k}" for k in UNSUPPORTED_KINDS if not unsupported.get(k)]
    commands = data.get("commands") or {}
    missing += [f"commands.{k}" for k in COMMANDS if not commands.get(k)]
    if missing:
        raise ValueError(f"{path or MESSAGES_FILE}: missing texts: {', '.join(missing)}")
    return Texts(
        **{k: data[k].strip() for k in REQUIRED},
        unsupported={k: str(v).strip() for k, v in unsupported.items()},
        commands={k: str(v).strip() for k, v in commands.items()},
    )
