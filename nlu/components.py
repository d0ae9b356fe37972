"""Custom Rasa 3 NLU components of the French assistant.

- ``nlu.components.TextNormalizer``: first in the pipeline; normalises the text of
  training and incoming messages (phone typography, repeated letters, case, optionally
  SMS spellings and accents) before the tokenizer sees it.
- ``nlu.components.EmergencySafetyNet``: last in the pipeline; when the message matches
  the emergency keywords (nlu/emergency_keywords.yml) the intent becomes ``urgence``
  with confidence 1.0, overriding ``nlu_fallback`` and every other prediction.

Neither component logs message text.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from knowledge.config import FALLBACK_INTENT
from nlu.emergency import EmergencyMatcher
from nlu.normalize import PAYLOAD_PREFIX, normalize, typed_words

logger = logging.getLogger(__name__)

# Where TextNormalizer keeps the text as the user wrote it (not an output property).
ORIGINAL_TEXT_KEY = "text_original"
# Output property set by EmergencySafetyNet when it fired (no message text inside).
SAFETY_NET_KEY = "emergency_safety_net"

EMERGENCY_INTENT = "urgence"


def user_text(message: Message) -> Optional[Text]:
    """The user's words as typed (TextNormalizer keeps them under ORIGINAL_TEXT_KEY), or
    None when there are none: no text, blank text, or a button payload ("/intent")."""
    return typed_words(message.get(ORIGINAL_TEXT_KEY) or message.get(TEXT))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class TextNormalizer(GraphComponent):
    """Normalises message text before tokenization (training and inference).

    Config (each step kept only where the ablation in docs/nlu.md shows it helps):
      typography: typographic apostrophes/quotes/dashes/spaces -> ASCII
      repeats: letters repeated 3+ times -> one ("aidezzz" -> "aidez")
      lowercase: lowercase everything
      sms: expand SMS spellings ("jsuis" -> "je suis", "koi" -> "quoi")
      accents: fold accents ("séquestrée" -> "sequestree")
      cyrillic: Bulgarian Cyrillic and digit-style Latin -> typed Latin ("чакам", "4akam" -> "chakam")
    Messages whose text starts with "/" (button payloads) are left untouched.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "typography": True,
            "repeats": True,
            "lowercase": True,
            "sms": False,
            "accents": False,
            "cyrillic": False,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._steps = {
            key: bool(config.get(key, default)) for key, default in self.get_default_config().items()
        }

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TextNormalizer":
        return cls(config)

    def normalize_text(self, text: Text) -> Text:
        if text.lstrip().startswith(PAYLOAD_PREFIX):
            return text
        return normalize(text, **self._steps)

    def _normalize_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text:
            return
        normalized = self.normalize_text(text)
        if normalized != text:
            if message.get(ORIGINAL_TEXT_KEY) is None:
                message.set(ORIGINAL_TEXT_KEY, text)
            message.set(TEXT, normalized)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalize_message(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize_message(message)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencySafetyNet(GraphComponent):
    """Forces intent ``urgence`` (confidence 1.0) when emergency keywords match.

    Config:
      keywords_file: path of the keyword file (default: nlu/emergency_keywords.yml)
      rescue_fallback: when the FallbackClassifier answered ``nlu_fallback`` and the
        classifier's own best guess was ``urgence``, answer ``urgence`` (safety first).
      restore_text: put back the text as the user wrote it (TextNormalizer keeps it),
        so that the parse result, the tracker and the actions see the user's words.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"keywords_file": None, "rescue_fallback": True, "restore_text": True}

    def __init__(self, config: Dict[Text, Any], matcher: EmergencyMatcher) -> None:
        self._rescue_fallback = bool(config.get("rescue_fallback", True))
        self._restore_text = bool(config.get("restore_text", True))
        self._matcher = matcher

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencySafetyNet":
        config = {**cls.get_default_config(), **config}
        return cls(config, EmergencyMatcher.from_file(config.get("keywords_file")))

    @staticmethod
    def _best_non_fallback(message: Message) -> Optional[Dict[Text, Any]]:
        for entry in message.get(INTENT_RANKING_KEY) or []:
            if entry.get(INTENT_NAME_KEY) != FALLBACK_INTENT:
                return entry
        return None

    def _reason(self, message: Message) -> Optional[Text]:
        text = message.get(ORIGINAL_TEXT_KEY) or message.get(TEXT)
        if not isinstance(text, str) or text.lstrip().startswith(PAYLOAD_PREFIX):
            return None
        if self._matcher.is_emergency(text):
            return "keywords"
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if self._rescue_fallback and intent == FALLBACK_INTENT:
            best = self._best_non_fallback(message)
            if best and best.get(INTENT_NAME_KEY) == EMERGENCY_INTENT:
                return "fallback_rescue"
        return None

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process_one(message)
            original = message.get(ORIGINAL_TEXT_KEY)
            if self._restore_text and isinstance(original, str):
                message.set(TEXT, original)
        return messages

    def _process_one(self, message: Message) -> None:
        reason = self._reason(message)
        if reason is None:
            return
        previous = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        old_ranking = list(message.get(INTENT_RANKING_KEY) or [])
        # The classifier's own ranking (without nlu_fallback), kept so that the
        # evaluation can replay other fallback thresholds. Intent names only.
        classifier_ranking = [
            {
                INTENT_NAME_KEY: e.get(INTENT_NAME_KEY),
                PREDICTED_CONFIDENCE_KEY: e.get(PREDICTED_CONFIDENCE_KEY),
            }
            for e in old_ranking
            if e.get(INTENT_NAME_KEY) != FALLBACK_INTENT
        ][:3]
        urgence = {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [e for e in old_ranking if e.get(INTENT_NAME_KEY) != EMERGENCY_INTENT]
        message.set(INTENT, urgence, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(urgence)] + ranking, add_to_output=True)
        message.set(
            SAFETY_NET_KEY,
            {
                "triggered": True,
                "reason": reason,
                "overridden_intent": previous,
                "classifier_ranking": classifier_ranking,
            },
            add_to_output=True,
        )
        # Intent names only: never the message text.
        logger.debug("Emergency safety net fired (%s), overriding intent '%s'.", reason, previous)
