"""What every public channel does before and after Rasa handles a message.

- Users must not trigger intents or set slots by typing Rasa's payload syntax
  (`/intent{"slot": "x"}`): only the payloads our own buttons send are kept, and
  anything else that starts with "/" is read as plain text.
  Any run of leading slashes and spaces is removed ("/ /restart" is "restart"), and an
  accepted payload is re-serialised (no padding) and at most MAX_PAYLOAD_CHARS long.
- Input is cleaned (control characters, length) before the NLU.
- Rasa's own warnings about a payload it cannot parse quote the whole text: they are
  silenced (never log what a user wrote).
- A turn must never end in silence: if Rasa or the action server fails, the user gets
  an apology with the emergency numbers.
"""

import json
import re
import unicodedata
import warnings
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa.core.channels.channel import OutputChannel

from project_paths import DOMAIN_FILE, NLU_DATA_DIR, REPO_ROOT

MAX_MESSAGE_CHARS = 2000
# Our longest button payload is about 60 characters ('/en_savoir_plus{"topic":"..."}').
MAX_PAYLOAD_CHARS = 200
LEADING_SLASHES = re.compile(r"^[\s/]+")
# Entities a button may carry, and the values they may take.
BUTTON_ENTITY_VALUES = {"topic": re.compile(r"^[a-z][a-z-]{1,60}$"), "language": re.compile(r"^[a-z]{2,3}$")}
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


def button_payload(text: Text) -> Optional[Text]:
    """The payload one of our buttons would send, re-serialised, or None when `text`
    is not one (unknown intent, other entities or values, too long)."""
    if len(text) > MAX_MESSAGE_CHARS:
        return None
    match = PAYLOAD.match(text)
    if not match or match.group("intent") not in button_intents():
        return None
    if not match.group("entities"):
        return text
    try:
        entities = json.loads(match.group("entities"))
    except ValueError:
        return None
    if not isinstance(entities, dict) or not all(
        name in BUTTON_ENTITY_VALUES and isinstance(value, str) and BUTTON_ENTITY_VALUES[name].match(value)
        for name, value in entities.items()
    ):
        return None
    payload = "/" + match.group("intent") + json.dumps(entities, separators=(",", ":"))
    return payload if len(payload) <= MAX_PAYLOAD_CHARS else None


def is_button_payload(text: Text) -> bool:
    return button_payload(text) is not None


def clean_user_text(text: Text) -> "CleanText":
    """Normalises what a user typed; never returns a Rasa payload unless a button's."""
    text = unicodedata.normalize("NFC", text)
    text = CONTROL_CHARS.sub(" ", text).replace("\ufffd", " ").strip()
    if text.startswith("/"):
        payload = button_payload(text)
        if payload is not None:
            return CleanText(payload, truncated=False)
    # Every leading slash and space, not just the first slash: "/ /restart" is text.
    text = LEADING_SLASHES.sub("", text)
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


async def send_system_reply(channel: OutputChannel, recipient_id: Text, key: Text, topic: Text) -> None:
    await channel.send_response(recipient_id, system_reply(key, topic))


def replies_for_silence() -> List[Dict[Text, Any]]:
    return [system_reply("service_indisponible", topic="urgence")]


def sender_is_valid(sender: Optional[Any]) -> bool:
    return isinstance(sender, str) and 0 < len(sender) <= 128 and sender.isprintable()


class _WithoutUserText:
    """Rasa's structlog logger for the story reader, minus the event that quotes the
    text of a message starting with "/" ("message.parsing.failed")."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def warning(self, event: Text, *args: Any, **kwargs: Any) -> Any:
        if event == "message.parsing.failed":
            return None
        return self._inner.warning(event, *args, **kwargs)

    def __getattr__(self, name: Text) -> Any:
        return getattr(self._inner, name)


def silence_payload_parsing_warnings() -> None:
    """Rasa quotes the whole user text when a "/..." message does not parse (unknown
    intent, bad JSON, extra text): the guard lets only our buttons' payloads through,
    and this keeps any other from reaching the logs."""
    from rasa.shared.core.training_data.story_reader import yaml_story_reader

    warnings.filterwarnings("ignore", message="Failed to parse arguments in line")
    if not isinstance(yaml_story_reader.structlogger, _WithoutUserText):
        yaml_story_reader.structlogger = _WithoutUserText(yaml_story_reader.structlogger)


silence_payload_parsing_warnings()


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
