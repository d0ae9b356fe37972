"""Response generator that completes the answer payload of static responses.

Static Rasa responses (the emergency reply) cannot know what the NLU predicted, yet
every reply turn must carry the intent and confidence (docs/contracts.md). This
generator fills them from the tracker, so the emergency reply keeps working without
the action server. It also gives the response in the conversation's language
(bot/responses/messages_<code>.yml), so the emergency numbers come in the person's
language even when the action server is down. It also turns off slot templating, which our responses don't use.
"""

import copy
from pathlib import Path
from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

import user_texts

RESPONSES_DIR = Path(__file__).parent / "responses"


def conversation_language(tracker: DialogueStateTracker) -> Text:
    """The language to answer in (user_texts.answer_language), read from the tracker so that
    it holds when the action server is down."""
    parsed = tracker.latest_message.parse_data if tracker.latest_message else {}
    return user_texts.answer_language(
        tracker.get_slot("chosen_language"),
        (parsed or {}).get("language") or {},
        tracker.get_slot("language"),
    )


def translated(message: Dict[Text, Any], utter_action: Text, language: Text) -> Dict[Text, Any]:
    """The response in the conversation's language (bot/responses/messages_<language>.yml),
    or as it is (French) when that language has no text for it."""
    text = user_texts.translation(RESPONSES_DIR, language).get(utter_action) or {}
    if not text.get("text"):
        return message
    message = copy.deepcopy(message)
    message["text"] = text["text"]
    titles = text.get("buttons") or []
    for button, title in zip(message.get("buttons") or [], titles):
        button["title"] = title
    message["translated"] = True
    return message


class PayloadCompletingNLG(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: EndpointConfig, domain: Domain) -> None:
        super().__init__(domain.responses)

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        message = await super().generate(utter_action, tracker, output_channel, **kwargs)
        language = conversation_language(tracker)
        if message and language != user_texts.REFERENCE:
            message = translated(message, utter_action, language)
        payload = (message or {}).get("custom")
        if isinstance(payload, dict) and "topic" in payload:
            intent = tracker.latest_message.intent if tracker.latest_message else {}
            payload.setdefault("intent", intent.get("name"))
            payload.setdefault("confidence", intent.get("confidence"))
            payload["language"] = language if message.get("translated") else user_texts.REFERENCE
        if message:
            message.pop("translated", None)
        return message

    def _fill_response(
        self,
        response: Dict[Text, Any],
        filled_slots: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> Dict[Text, Any]:
        # Our responses use no slot templates, and their button payloads hold JSON
        # braces that Rasa's templating would try (and fail, logging slot values) to fill.
        return response
