"""The Rasa component that tells which of the assistant's languages a message is written in.

The classifier and its decision rule live in nlu/language_model.py (no Rasa import, so the
Telegram front can read it too); this module trains and runs it in the pipeline.

Trained on the NLU examples, labelled by where they live: ``data/nlu/*.yml`` is French
(the reference language), ``data/nlu/<code>/*.yml`` is the language ``<code>``. Adding a
language is adding a folder: no code changes. No library covers Darija in Latin letters
or Bulgarian typed in Latin letters, so the model is trained here (docs/nlu.md has the
comparison and the accuracy per language).

At inference it writes the parse data ``language: {"code", "confidence", "source"}``:
``source`` is ``text`` when it is sure enough, ``hint`` when it is not (two words, mixed
French) and the front gave the app's language (message metadata ``language_hint``), and
``unsure`` otherwise: the conversation then keeps its language (slot ``language``, kept
by the actions; actions/common.py and bot/nlg.py read it all).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import user_text
from nlu.language_model import MODEL_DEFAULTS, LanguageModel, language_examples

logger = logging.getLogger(__name__)

LANGUAGE_KEY = "language"
HINT_KEY = "language_hint"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class LanguageDetector(GraphComponent):
    """Config: ``nlu_dir`` (default data/nlu), ``threshold`` (the confidence from which
    the text decides over the front's hint and the conversation's language) and
    ``short_threshold`` (the same for messages of one or two words) and ``long_threshold``
    (for messages of six words or more)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **MODEL_DEFAULTS,
            "nlu_dir": None,
            "threshold": 0.7,
            "short_threshold": 0.95,
            "long_threshold": 0.5,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LanguageModel] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls(config, model_storage, resource)

    def _nlu_dir(self) -> Path:
        from project_paths import NLU_DATA_DIR

        return Path(self.config["nlu_dir"] or NLU_DATA_DIR)

    def train(self, training_data: TrainingData) -> Resource:
        examples = language_examples(self._nlu_dir())
        model_config = {k: self.config[k] for k in MODEL_DEFAULTS}
        self.model = LanguageModel.fit(
            examples,
            self.config["threshold"],
            model_config,
            self.config["short_threshold"],
            self.config["long_threshold"],
        )
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
    ) -> "LanguageDetector":
        try:
            with model_storage.read_from(resource) as model_dir:
                model = LanguageModel.load(model_dir)
        except (ValueError, FileNotFoundError):
            logger.debug("No trained LanguageDetector found: messages keep no language.")
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        for message in messages:
            text = user_text(message)
            if text is None:
                continue  # button payloads carry their own language, if any
            metadata = message.get("metadata") or {}
            hint = metadata.get(HINT_KEY) if isinstance(metadata, dict) else None
            decision = self.model.decide(text, hint if isinstance(hint, str) else None)
            # Parse data only, not an entity: an entity would change the state the
            # dialogue rules match (the danger-first rules name their entities exactly).
            message.set(LANGUAGE_KEY, decision, add_to_output=True)
        return messages
