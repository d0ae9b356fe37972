"""What every public channel does before and after Rasa handles a message.

- Users must not trigger intents or set slots by typing Rasa's payload syntax
  (`/intent{"slot": "x"}`): only the payloads our own buttons send are kept, and
  anything else that starts with "/" is read as plain text.
- Input is cleaned (control characters, length) before the NLU.
- A turn must never end in silence: if Rasa or the action server fails, the user gets
  an apology with the emergency numbers.
"""
import json
import re
import unicodedata
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa.core.channels.channel import OutputChannel

from project_paths import DOMAIN_FILE, NLU_DATA_DIR, REPO_ROOT

MAX_MESSAGE_CHARS = 2000
# Entities a button may carry, and the values they may take.
BUTTON_ENTITY_VALUES = {"topic": re.compile(r"^[a-z][a-z-]{1,60}$"),
                        "language": re.compile(r"^[a-z]{2,3}$")}
PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_-]+)(?P<entities>\{.*\})?$", re.DOTALL)
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\ufeff]")


@lru_cache(maxsize=1)
def messages() -> Dict[Text, Text]:
    with open(REPO_ROOT / "bot" / "channels" / "messages_fr.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


@lru_cache(maxsize=1)
def button_intents() -> frozenset:
    """The user intents of the domain and the topics (named by the files of data/nlu/,
    see bot/topic_importer.py): the only ones a button payload may name."""
    with open(DOMAIN_FILE, encoding="utf-8") as f:
        written = yaml.safe_load(f)["intents"]
    return frozenset(written) | {path.stem for path in NLU_DATA_DIR.glob("*.yml")}


def is_button_payload(text: Text) -> bool:
    match = PAYLOAD.match(text)
    if not match or match.group("intent") not in button_intents():
        return False
    if not match.group("entities"):
        return True
    try:
        entities = json.loads(match.group("entities"))
    except ValueError:
        return False
    return isinstance(entities, dict) and all(
        name in BUTTON_ENTITY_VALUES
        and isinstance(value, str)
        and BUTTON_ENTITY_VALUES[name].match(value)
        for name, value in entities.items()
    )


def clean_user_text(text: Text) -> "CleanText":
    """Normalises what a user typed; never returns a Rasa payload unless a button's."""
    text = unicodedata.normalize("NFC", text)
    text = CONTROL_CHARS.sub(" ", text).replace("\ufffd", " ").strip()
    if text.startswith("/") and is_button_payload(text):
        return CleanText(text, truncated=False)
    text = text.lstrip("/").strip()
    truncated = len(text) > MAX_MESSAGE_CHARS
    return CleanText(text[:MAX_MESSAGE_CHARS], truncated)


class CleanText(str):
    truncated: bool

    def __new__(cls, value: Text, truncated: bool) -> "CleanText":
        obj = super().__new__(cls, value)
        obj.truncated = truncated
        return obj


def system_reply(key: Text, topic: Text = "incompris") -> Dict[Text, Any]:
    """A reply of the channel itself, with its answer payload."""
    return {
        "text": messages()[key],
        "custom": {"topic": topic, "intent": None, "confidence": None, "sources": []},
    }


class TurnWatchingOutputChannel(OutputChannel):
    """Passes every bot message on, and remembers whether the turn said anything."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.texts_sent = 0

    def name(self) -> Text:  # type: ignore[override]
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        if message.get("text"):
            self.texts_sent += 1
        await self.inner.send_response(recipient_id, message)


async def send_system_reply(
    channel: OutputChannel, recipient_id: Text, key: Text, topic: Text
) -> None:
    await channel.send_response(recipient_id, system_reply(key, topic))


def replies_for_silence() -> List[Dict[Text, Any]]:
    return [system_reply("service_indisponible", topic="urgence")]


def sender_is_valid(sender: Optional[Any]) -> bool:
    return isinstance(sender, str) and 0 < len(sender) <= 128 and sender.isprintable()


LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def clean_metadata(metadata: Any) -> Optional[Dict[Text, Text]]:
    """What a front may tell Rasa with a message: only the language its user's app is
    set to (`language_hint`, a prior for nlu/language.py); anything else is dropped."""
    if not isinstance(metadata, dict):
        return None
    hint = metadata.get("language_hint")
    if isinstance(hint, str) and LANGUAGE_CODE.match(hint):
        return {"language_hint": hint}
    return None
