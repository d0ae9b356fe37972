"""Which language a message is written in, for the front's own first answer.

The front answers a danger message with the emergency numbers before Rasa does; it
writes them in the language of the message when the language model of the trained model
Rasa serves is sure of it (the same model and rule as Rasa's, nlu/language_model.py), so
that a person whose phone is set to French but who writes in Romanian reads the numbers in
Romanian. Otherwise (not sure, no readable model) the chat's language decides.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from nlu.language_model import LanguageModel
from nlu.normalize import typed_words
from telegram_front.trained_model import load_component

logger = logging.getLogger(__name__)

# In a Rasa model archive, the language model is the folder of the LanguageDetector component.
COMPONENT = "LanguageDetector"
MODEL_FILES = ("language.json", "language.npz")


def read_language_model(model_path: Path) -> Optional[LanguageModel]:
    """The language model stored in a trained Rasa model (.tar.gz), or None."""
    return load_component(model_path, COMPONENT, MODEL_FILES, LanguageModel.load)


class MessageLanguage:
    """``of(text)``: the language code the text is surely written in, else None."""

    def __init__(self, model: Optional[LanguageModel]) -> None:
        self.model = model

    @classmethod
    def from_model(cls, model_path: Path) -> "MessageLanguage":
        model = read_language_model(model_path)
        if model is None:
            logger.warning(
                "No language model in %s: the front's own answers follow the chat's language only.",
                model_path,
            )
        return cls(model)

    def of(self, text: str) -> Optional[str]:
        """Never logs nor keeps the text; None when unsure, for a command, or on failure."""
        if self.model is None or typed_words(text) is None:
            return None
        try:
            decision = self.model.decide(text, hint=None)
        except Exception as error:  # a message must never stop the front's answer
            logger.error("Language model failed (%s): the chat's language decides.", type(error).__name__)
            return None
        return decision["code"] if decision["source"] == "text" else None
