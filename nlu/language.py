"""Which of the assistant's languages a message is written in: a classifier of its own.

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

import json
import logging
import re
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import user_text
from nlu.danger_model import TextModel

logger = logging.getLogger(__name__)

REFERENCE_LANGUAGE = "fr"
LANGUAGE_KEY = "language"
HINT_KEY = "language_hint"

MODEL_DEFAULTS: Dict[str, Any] = {
    "word_ngram_range": [1, 1],
    "char_ngram_range": [1, 4],
    "sublinear_tf": True,
    "C": 10.0,
    "class_weight": "balanced",
    "max_iter": 3000,
    "solver": "saga",
    "tol": 1e-3,
    "random_state": 42,
}


def language_examples(nlu_dir: Path) -> List[Tuple[str, str]]:
    """(text, language) of every NLU example: the folder says the language."""
    out: List[Tuple[str, str]] = []
    folders = [(Path(nlu_dir), REFERENCE_LANGUAGE)] + [
        (sub, sub.name) for sub in sorted(Path(nlu_dir).iterdir()) if sub.is_dir()
    ]
    for folder, code in folders:
        for path in sorted(folder.glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for item in data.get("nlu") or []:
                for line in str((item or {}).get("examples") or "").splitlines():
                    text = line.strip()[2:].strip() if line.strip().startswith("- ") else ""
                    if text and not text.startswith("/"):
                        out.append((text, code))
    return unambiguous(out)


def unambiguous(examples: Sequence[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """One label per text. Writers mix French words into every language ("merci beaucoup",
    "au revoir", "bye" sit in several folders); a text found in several languages is no
    evidence for any of them: French (the default answer language) keeps it if it has it,
    else it is left out of the language model. Case, accents and punctuation do not count."""
    languages: Dict[str, set] = {}
    for text, code in examples:
        languages.setdefault(_text_key(text), set()).add(code)
    out, seen = [], set()
    for text, code in examples:
        key = _text_key(text)
        shared = len(languages[key]) > 1
        if key in seen or (shared and code != REFERENCE_LANGUAGE):
            continue
        seen.add(key)
        out.append((text, code))
    return out


def _text_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", letters)) or text.strip()


def supported_languages(nlu_dir: Path) -> List[str]:
    """French and every language folder of the NLU data."""
    return [REFERENCE_LANGUAGE] + sorted(p.name for p in Path(nlu_dir).iterdir() if p.is_dir())


class LanguageModel:
    """The fitted classifier and the rule that turns its scores into a decision."""

    def __init__(
        self,
        model: TextModel,
        threshold: float,
        short_threshold: float = 0.95,
        short_words: int = 3,
        long_threshold: float = 0.5,
        long_words: int = 6,
    ) -> None:
        self.model, self.threshold = model, float(threshold)
        # One or two words are weak evidence ("passeport", "ok", "restart" are shared by
        # several languages' users): they need more confidence to change the language.
        self.short_threshold, self.short_words = float(short_threshold), int(short_words)
        # Six words or more are strong evidence: a long message in English that borrows
        # "madam", "juju", "euro" scores lower without being in doubt (docs/nlu.md).
        self.long_threshold, self.long_words = float(long_threshold), int(long_words)

    @property
    def languages(self) -> List[str]:
        return list(self.model.classes)

    @classmethod
    def fit(
        cls,
        examples: Sequence[Tuple[str, str]],
        threshold: float,
        config: Optional[Dict[str, Any]] = None,
        short_threshold: float = 0.95,
        long_threshold: float = 0.5,
    ) -> "LanguageModel":
        texts, labels = zip(*examples)
        model = TextModel.fit(texts, labels, {**MODEL_DEFAULTS, **(config or {})})
        return cls(model, threshold, short_threshold, long_threshold=long_threshold)

    def best(self, texts: Sequence[str]) -> List[Tuple[str, float]]:
        probs = self.model.proba(texts)
        return [(self.model.classes[int(row.argmax())], float(row.max())) for row in probs]

    def decide(self, text: str, hint: Optional[str]) -> Dict[str, Any]:
        """The language of one message: the text when sure, else the front's hint."""
        code, confidence = self.best([text])[0]
        words = len(text.split())
        if words < self.short_words:
            needed = self.short_threshold
        elif words >= self.long_words:
            needed = self.long_threshold
        else:
            needed = self.threshold
        sure = confidence >= needed
        if not sure and hint in self.languages:
            return {"code": hint, "confidence": round(confidence, 4), "source": "hint"}
        return {"code": code, "confidence": round(confidence, 4), "source": "text" if sure else "unsure"}

    def save(self, folder: Path) -> None:
        meta, arrays = self.model.dump("language_")
        state = {
            "threshold": self.threshold,
            "short_threshold": self.short_threshold,
            "short_words": self.short_words,
            "long_threshold": self.long_threshold,
            "long_words": self.long_words,
            "model": meta,
        }
        (Path(folder) / "language.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        np.savez_compressed(Path(folder) / "language.npz", **arrays)

    @classmethod
    def load(cls, folder: Path) -> "LanguageModel":
        state = json.loads((Path(folder) / "language.json").read_text(encoding="utf-8"))
        with np.load(Path(folder) / "language.npz", allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        return cls(
            TextModel.restore(state["model"], arrays, "language_"),
            state["threshold"],
            state.get("short_threshold", 0.95),
            state.get("short_words", 3),
            state.get("long_threshold", state["threshold"]),
            state.get("long_words", 6),
        )


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
