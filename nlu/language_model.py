"""Which of the assistant's languages a text is written in: the fitted model and its
decision rule, without Rasa (no Rasa or TensorFlow import).

The Rasa component nlu/language.py trains and runs it in the pipeline; the Telegram front
(telegram_front/language.py) reads the same trained model to give its own first answer
(the emergency numbers) in the language the person wrote in.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from nlu.danger_model import TextModel

REFERENCE_LANGUAGE = "fr"

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
