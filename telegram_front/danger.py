"""Does a message look like "I am in danger now"? The front's one seam for that question.

The front answers such messages with the emergency numbers at once, before and outside the
chat's queue and without waiting for Rasa (Rasa still gives its own answer after). The
check is the danger detector that Rasa runs (nlu/danger_model.py), read from the trained
model Rasa serves (ASSISTANT_MODEL), so the front and Rasa fire on the same messages, in
every language the detector was trained on. When no trained detector can be read (not
trained yet, an unreadable file), the NLU's keyword net (nlu/emergency.py, French
phrases) stands in, with a warning in the log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from nlu.danger_model import DangerModel
from nlu.emergency import EmergencyMatcher
from nlu.normalize import typed_words
from telegram_front.trained_model import load_component

logger = logging.getLogger(__name__)

# In a Rasa model archive, the detector is the folder of the DangerDetector component.
COMPONENT = "DangerDetector"
DETECTOR_FILES = ("danger.json", "danger.npz")


def read_detector(model_path: Path) -> Optional[DangerModel]:
    """The danger detector stored in a trained Rasa model (.tar.gz), or None."""
    return load_component(model_path, COMPONENT, DETECTOR_FILES, DangerModel.load)


class DangerCheck:
    """``looks_like(text)``: the trained detector when there is one, else the keyword net."""

    def __init__(self, detector: Optional[DangerModel]) -> None:
        self.detector = detector
        # Also the stand-in if the detector ever fails on a message.
        self.matcher = EmergencyMatcher.from_file()

    @classmethod
    def from_model(cls, model_path: Path) -> "DangerCheck":
        detector = read_detector(model_path)
        if detector is None:
            logger.warning(
                "No danger detector in %s: the front recognises danger by the French keyword "
                "net only until the model is trained and the front restarted.",
                model_path,
            )
        return cls(detector)

    def looks_like(self, text: str) -> bool:
        """True when the text says the person is in danger now. Never logs nor keeps the text."""
        if typed_words(text) is None:
            return False  # blank, or a command: the front's business
        if self.detector is not None:
            try:
                return self.detector.verdicts([text])[0].detected
            except Exception as error:  # a message must never stop the front's triage
                logger.error("Danger detector failed (%s): the keyword net decides.", type(error).__name__)
        return self.matcher.is_emergency(text)
