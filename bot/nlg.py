"""Response generator that completes the answer payload of static responses.

Static Rasa responses (the emergency reply) cannot know what the NLU predicted, yet
every reply turn must carry the intent and confidence (shared/TOPICS.md). This
generator fills them from the tracker, so the emergency reply keeps working without
the action server. It also turns off slot templating, which our responses don't use.
"""
from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig


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
        payload = (message or {}).get("custom")
        if isinstance(payload, dict) and "topic" in payload:
            intent = tracker.latest_message.intent if tracker.latest_message else {}
            payload.setdefault("intent", intent.get("name"))
            payload.setdefault("confidence", intent.get("confidence"))
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
