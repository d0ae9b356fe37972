"""The danger detector's Rasa component (the detector itself: nlu/danger_model.py).

``nlu.danger.DangerDetector`` (after the FallbackClassifier) trains the detector on
data/danger/*.yml and the NLU data, and writes
``message.data["danger"] = {"detected", "score", "case", "reason"}`` (an output
property: it reaches the parse data and the tracker's ``latest_message``). When it fires
it adds the entity ``danger_<case>`` (the rules of bot/topic_importer.py then send the
emergency response first), and when the topic classifier had nothing better than
``urgence``, ``nlu_fallback`` or ``hors-sujet`` (a cry for help and nothing else) the
intent becomes ``urgence``. It never logs message text.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import ORIGINAL_TEXT_KEY, user_text
from nlu.danger_model import (
    DANGER,
    DANGER_KEY,
    DEFAULT_CASE,
    ENTITY_PREFIX,
    MODEL_DEFAULTS,
    NLU_LANG,
    SAFE,
    DangerExample,
    DangerModel,
    Verdict,
    entity_name,
    example_files,
    load_examples,
)

logger = logging.getLogger(__name__)

EMERGENCY_INTENT = "urgence"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class DangerDetector(GraphComponent):
    """Flags immediate danger, separately from the topic classifier (module docstring).

    Config:
      data_dir: folder of the danger examples (default: data/danger/)
      nlu_positive_intents: intents of the NLU data also taken as danger examples
      threshold: P(danger) from which it fires (chosen by python -m lab.danger_cv)
      keywords: also fire on the emergency keyword net (nlu/emergency_keywords.yml)
      cry_intents: when the topic classifier predicted one of these, the message is a
        cry for help and nothing else: the intent becomes ``urgence``
      rescue_fallback: ``nlu_fallback`` whose best guess was ``urgence`` -> ``urgence``
      restore_text: put back the text as the user wrote it (after TextNormalizer)
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **MODEL_DEFAULTS,
            "data_dir": None,
            "nlu_positive_intents": [EMERGENCY_INTENT],
            # The other examples of the NLU data taken as safe: they teach the detector
            # what ordinary short messages ("menu", "plus de détails") look like.
            "nlu_negatives": True,
            "threshold": 0.5,
            "keywords": True,
            "cry_intents": [EMERGENCY_INTENT, "nlu_fallback", "hors-sujet"],
            "rescue_fallback": True,
            "restore_text": True,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[DangerModel] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        self.model = model
        if model is not None:
            model.threshold = float(self.config["threshold"])
            model.matcher = self._matcher()

    def _matcher(self) -> Any:
        if not self.config["keywords"]:
            return None
        from nlu.emergency import EmergencyMatcher

        return EmergencyMatcher.from_file()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "DangerDetector":
        return cls(config, model_storage, resource)

    def _data_dir(self) -> Path:
        from project_paths import DATA_DIR

        return Path(self.config["data_dir"] or DATA_DIR / "danger")

    def train(self, training_data: TrainingData) -> Resource:
        examples = load_examples(example_files(self._data_dir()))
        known = {e.text.lower() for e in examples}
        positives = set(self.config["nlu_positive_intents"] or [])
        for message in training_data.intent_examples:
            text = user_text(message)
            if text is None or text.lower() in known:
                continue
            if message.get(INTENT) in positives:
                examples.append(DangerExample(text, DANGER, DEFAULT_CASE, NLU_LANG))
            elif self.config["nlu_negatives"] and message.get(INTENT):
                examples.append(DangerExample(text, SAFE, None, NLU_LANG))
        if len({e.label for e in examples}) < 2:
            raise ValueError(f"DangerDetector needs danger and safe examples in {self._data_dir()}")
        model_config = {k: self.config[k] for k in MODEL_DEFAULTS}
        self.model = DangerModel.fit(examples, model_config, self.config["threshold"], self._matcher())
        with self._model_storage.write_to(self._resource) as model_dir:
            self.model.save(model_dir)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "DangerDetector":
        try:
            with model_storage.read_from(resource) as model_dir:
                model = DangerModel.load(model_dir)
        except (ValueError, FileNotFoundError):
            logger.debug("No trained DangerDetector found: it will flag nothing.")
            model = None
        return cls(config, model_storage, resource, model)

    # --- inference --------------------------------------------------------------------

    def process(self, messages: List[Message]) -> List[Message]:
        texts, todo = [], []
        for message in messages:
            text = user_text(message)
            if self.model is not None and text is not None:  # button payloads: no
                texts.append(text)
                todo.append(message)
        for message, verdict in zip(todo, self.model.verdicts(texts) if todo else []):
            verdict = self._rescue(message, verdict)
            message.set(DANGER_KEY, verdict.as_dict(), add_to_output=True)
            if verdict.detected:
                self._mark(message, verdict)
        if self.config["restore_text"]:
            for message in messages:
                original = message.get(ORIGINAL_TEXT_KEY)
                if isinstance(original, str):
                    message.set(TEXT, original)
        return messages

    def _rescue(self, message: Message, verdict: Verdict) -> Verdict:
        """The topic classifier's own doubt between nothing and ``urgence``."""
        if verdict.detected or not self.config["rescue_fallback"]:
            return verdict
        if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != "nlu_fallback":
            return verdict
        ranking = [
            e for e in message.get(INTENT_RANKING_KEY) or [] if e.get(INTENT_NAME_KEY) != "nlu_fallback"
        ]
        if ranking and ranking[0].get(INTENT_NAME_KEY) == EMERGENCY_INTENT:
            return Verdict(True, verdict.score, DEFAULT_CASE, "fallback_rescue")
        return verdict

    def _mark(self, message: Message, verdict: Verdict) -> None:
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent in set(self.config["cry_intents"] or []) and intent != EMERGENCY_INTENT:
            urgence = {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: max(verdict.score, 0.5)}
            ranking = [
                e for e in message.get(INTENT_RANKING_KEY) or [] if e.get(INTENT_NAME_KEY) != EMERGENCY_INTENT
            ]
            message.set(INTENT, urgence, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [dict(urgence)] + ranking, add_to_output=True)
        text = user_text(message) or ""
        entities = [
            e for e in message.get(ENTITIES) or [] if not str(e.get("entity", "")).startswith(ENTITY_PREFIX)
        ]
        entities.append(
            {
                "entity": entity_name(verdict.case or DEFAULT_CASE),
                "value": verdict.case or DEFAULT_CASE,
                "start": 0,
                "end": len(text),
                "confidence_entity": round(verdict.score, 4),
                "extractor": self.__class__.__name__,
            }
        )
        message.set(ENTITIES, entities, add_to_output=True)
        # The case and the reason only: never the message text.
        logger.debug("Danger detected (%s, case %s).", verdict.reason, verdict.case)
