"""Immediate-danger detector, separate from the topic classifier.

Decides whether a message says that the writer, or someone with them, is in danger now
(followed, locked in, hit, threatened, injured, "he is coming back", cannot speak, a
child in danger, thoughts of ending one's life), in any of the supported languages, and
which case it is (``general``, ``child``, ``suicide``: which numbers to give first).

Method (measured in docs/nlu.md, "Danger detector"): a binary TF-IDF (word 1-2 and
char_wb 2-5 n-grams) logistic regression trained on its own positive and negative
examples (data/danger/*.yml, plus the NLU data: ``urgence`` examples as positives, the others
as safe), whose
decision threshold was chosen by cross-validation on the training data for recall
(python -m lab.danger_cv); a second small regression of the same kind tells the case.
The emergency keyword net (nlu/emergency.py) can be joined (``keywords: true``).

This module is the detector itself, without Rasa (no Rasa or TensorFlow import): the Rasa
component ``nlu.danger.DangerDetector`` trains and runs it in the pipeline, and the
Telegram front (telegram_front/danger.py) reads the same trained model to answer a danger
message at once, before Rasa.

Persistence: JSON + NumPy arrays (``allow_pickle=False``), like nlu/classifier.py.
"""

from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Text, Tuple

import numpy as np
import yaml

from nlu.normalize import normalize
from nlu.textmodel import (
    TfidfRows,
    dump_fitted,
    feature_weights,
    fit_text_model,
    restore_fitted,
    softmax_scores,
)

logger = logging.getLogger(__name__)

DANGER = "danger"
SAFE = "safe"
CASES = ("general", "child", "suicide")
DEFAULT_CASE = "general"
NLU_LANG = "nlu"  # language tag of the examples taken from the NLU data (all languages)
DANGER_KEY = "danger"  # message attribute / parse-data key
ENTITY_PREFIX = "danger_"  # entities danger_general, danger_child, danger_suicide


def entity_name(case: Text) -> Text:
    return f"{ENTITY_PREFIX}{case}"


def prepare(text: Text) -> Text:
    """What both models read: phone typography, stretched letters, lowercase, no
    accents, Bulgarian Cyrillic as typed Latin (Arabic letters are kept; their diacritics
    are folded)."""
    return normalize(
        text or "", typography=True, repeats=True, lowercase=True, sms=False, accents=True, cyrillic=True
    )


# --- message parts ---------------------------------------------------------------------

# A message is scored whole and part by part, and its score is the highest: one danger
# clause makes the message a danger message even when a question or a story follows
# ("il me frappe en ce moment, comment porter plainte ?"). Parts: sentence ends, commas,
# semicolons, newlines (Latin and Arabic punctuation) and the words that join two clauses
# in the five languages. Arabic "و" is cut only when it stands alone: glued to a word it
# is also the first letter of many words.
_SENTENCE_BREAKS = r"[.!?;\n\r\u2026\u061f\u061b]+"
_CLAUSE_BREAKS = r"[.!?;,:\n\r\u2026\u061f\u061b\u060c]+"
CONJUNCTIONS = (
    # fr
    "et",
    "mais",
    "puis",
    "donc",
    "alors",
    "si",
    "car",
    "parce que",
    "quand",
    # en, Nigerian Pidgin
    "and",
    "but",
    "so",
    "if",
    "because",
    "when",
    "then",
    "abeg",
    # ro (with and without diacritics)
    "și",
    "şi",
    "si",
    "dar",
    "iar",
    "dacă",
    "daca",
    "pentru că",
    "pentru ca",
    "când",
    "cand",
    # bg, Cyrillic and Latin
    "и",
    "но",
    "а",
    "ако",
    "защото",
    "когато",
    "ako",
    "zashtoto",
    "kogato",
    # ar (MSA and Darija, Arabic script; Darija in Latin letters)
    "و",
    "ثم",
    "لكن",
    "ولكن",
    "إذا",
    "اذا",
    "لو",
    "إلا",
    "الا",
    "حيت",
    "لأن",
    "لان",
    "w",
    "wa",
    "walakin",
    "walakine",
    "ila",
    "ida",
    "ila kan",
    "hit",
    "hitach",
)
# Cut before the joining word, which stays with its clause ("si je porte plainte").
_CONJUNCTION_BREAKS = re.compile(
    r"\s+(?=(?:" + "|".join(re.escape(c) for c in sorted(CONJUNCTIONS, key=len, reverse=True)) + r")\s)",
    re.IGNORECASE,
)
_JOINERS = {c.lower() for c in CONJUNCTIONS}
SEGMENT_MODES = ("message", "sentences", "clauses")


def segments(text: Text, mode: Text = "clauses") -> List[Text]:
    """The parts of a message that are scored: the whole message first, then (mode
    ``sentences``) its sentences or (mode ``clauses``) its clauses; parts of fewer than
    two word characters are dropped, duplicates removed."""
    if mode not in SEGMENT_MODES:
        raise ValueError(f"segment mode must be one of {SEGMENT_MODES}, not {mode!r}")
    parts = [text]
    if mode != "message":
        pieces = re.split(_SENTENCE_BREAKS if mode == "sentences" else _CLAUSE_BREAKS, text)
        if mode == "clauses":
            pieces = [p for piece in pieces for p in _CONJUNCTION_BREAKS.split(piece)]
        parts += [p.strip() for p in pieces]
    seen, out = set(), []
    for part in parts:
        key = part.strip().lower()
        if len(re.findall(r"\w", key)) >= 2 and key not in seen and key not in _JOINERS:
            seen.add(key)
            out.append(part)
    return out or [text]


def compose(
    examples: Sequence["DangerExample"], per_example: int = 1, seed: int = 42
) -> List["DangerExample"]:
    """Training composites: each danger example joined with a safe example of the same
    language (label danger; both orders, comma or full stop between), and each safe
    example with another safe one (label safe). Teaches the whole-message score that a
    danger clause stays danger when a question or a story comes with it."""
    rng = random.Random(seed)
    safe_by_lang: Dict[str, List[DangerExample]] = {}
    for example in examples:
        if example.label == SAFE:
            safe_by_lang.setdefault(example.lang, []).append(example)
    out = []
    for example in examples:
        pool = safe_by_lang.get(example.lang) or []
        for _ in range(per_example if pool else 0):
            other = rng.choice(pool)
            if other is example:
                continue
            joiner = rng.choice([", ", ". ", " ", "\n"])
            first, second = (example, other) if rng.random() < 0.6 else (other, example)
            out.append(
                DangerExample(first.text + joiner + second.text, example.label, example.case, example.lang)
            )
    return out


# --- training data --------------------------------------------------------------------


@dataclass(frozen=True)
class DangerExample:
    text: str
    label: str  # danger | safe
    case: Optional[str]
    lang: str = "fr"


def load_examples(paths: Iterable[Path]) -> List[DangerExample]:
    """Examples of the data/danger/*.yml files (keys: version, examples: [{text, lang,
    label, case}]). These files have no nlu/rules/stories key: Rasa's importer skips
    them."""
    examples: List[DangerExample] = []
    for path in sorted(Path(p) for p in paths):
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle) or {}
        for item in spec.get("examples") or []:
            label = item.get("label")
            if label not in (DANGER, SAFE):
                raise ValueError(f"{path.name}: label must be danger or safe, not {label!r}")
            case = item.get("case") or (DEFAULT_CASE if label == DANGER else None)
            if case is not None and case not in CASES:
                raise ValueError(f"{path.name}: case must be one of {CASES}, not {case!r}")
            examples.append(DangerExample(str(item["text"]), label, case, item.get("lang", "fr")))
    return examples


def example_files(folder: Path) -> List[Path]:
    return sorted(Path(folder).glob("*.yml")) + sorted(Path(folder).glob("*.yaml"))


# --- the two regressions --------------------------------------------------------------

MODEL_DEFAULTS: Dict[str, Any] = {
    "word_ngram_range": [1, 2],
    "char_ngram_range": [2, 5],
    "sublinear_tf": True,
    "C": 10.0,
    "class_weight": "balanced",
    "max_iter": 3000,
    "random_state": 42,
    # how a message is cut before scoring (``segments``); composites per example (``compose``)
    "segments": "message",
    "combine": "max",
    "compose": 0,
}
COMBINE_MODES = ("max", "mean")


class TextModel:
    """One fitted TF-IDF + logistic regression (vectorizers, classes, coefficients)."""

    def __init__(
        self, vectorizers: List[Any], classes: List[str], coef: np.ndarray, intercept: np.ndarray
    ) -> None:
        self.vectorizers, self.classes = vectorizers, list(classes)
        self.coef, self.intercept = coef, intercept
        self._weights = feature_weights(coef)
        self._rows = TfidfRows(vectorizers)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], config: Dict[str, Any]) -> "TextModel":
        return cls(*fit_text_model([prepare(t) for t in texts], labels, {**MODEL_DEFAULTS, **config}))

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        rows = self._rows.transform([prepare(t) for t in texts])
        if self.coef.shape[0] == 1:  # binary: one row of coefficients; sklearn's
            # multinomial probability is then softmax([-z, z]) = sigmoid(2z)
            z = np.asarray(rows @ self._weights + self.intercept).ravel()
            p = 1.0 / (1.0 + np.exp(-2.0 * z))
            return np.column_stack([1.0 - p, p])
        return softmax_scores(rows, self._weights, self.intercept)

    # persistence: JSON-able metadata + arrays (nlu/textmodel.py)
    def dump(self, prefix: str) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
        return dump_fitted(self.vectorizers, self.classes, self.coef, self.intercept, prefix)

    @classmethod
    def restore(cls, meta: Dict[str, Any], arrays: Dict[str, np.ndarray], prefix: str) -> "TextModel":
        return cls(*restore_fitted(meta, arrays, prefix))


@dataclass(frozen=True)
class Verdict:
    detected: bool
    score: float
    case: Optional[str]
    reason: Optional[str]  # "classifier" | "keywords" | None; never message text

    def as_dict(self) -> Dict[str, Any]:
        return {
            "detected": self.detected,
            "score": round(self.score, 4),
            "case": self.case,
            "reason": self.reason,
        }


class DangerModel:
    """The detector (danger vs safe) and the case classifier, plus the optional
    keyword net; pure Python, shared by the Rasa component, the evaluation and lab/."""

    def __init__(
        self,
        detector: TextModel,
        case_model: Optional[TextModel],
        threshold: float,
        matcher: Any = None,
        segment_mode: str = "message",
        combine: str = "max",
    ) -> None:
        self.detector, self.case_model = detector, case_model
        self.threshold = float(threshold)
        self.matcher = matcher
        self.segment_mode, self.combine = segment_mode, combine
        if combine not in COMBINE_MODES:
            raise ValueError(f"combine must be one of {COMBINE_MODES}, not {combine!r}")

    @classmethod
    def fit(
        cls, examples: Sequence[DangerExample], config: Dict[str, Any], threshold: float, matcher: Any = None
    ) -> "DangerModel":
        config = {**MODEL_DEFAULTS, **config}
        training = list(examples) + compose(examples, int(config["compose"]))
        detector = TextModel.fit([e.text for e in training], [e.label for e in training], config)
        positives = [e for e in examples if e.label == DANGER]
        case_model = None
        if len({e.case for e in positives}) > 1:
            case_model = TextModel.fit([e.text for e in positives], [e.case for e in positives], config)
        return cls(detector, case_model, threshold, matcher, config["segments"], config["combine"])

    def best_parts(self, texts: Sequence[str]) -> Tuple[np.ndarray, List[str]]:
        """P(danger) of each text and its part that scored highest (``segments``); the
        classifier alone, all parts in one batch. ``combine``: ``max``, the best part's
        score; ``mean``, the mean of the whole message's and the best part's scores (the
        whole message keeps a say: "si je porte plainte, il va me tuer ?" is a question,
        though its last clause alone sounds like danger)."""
        parts = [segments(t, self.segment_mode) for t in texts]
        flat = [p for ps in parts for p in ps]
        column = self.detector.classes.index(DANGER)
        flat_scores = self.detector.proba(flat)[:, column] if flat else np.zeros(0)
        scores, best, start = np.zeros(len(texts)), [], 0
        for index, ps in enumerate(parts):
            chunk = flat_scores[start : start + len(ps)]
            top = int(chunk.argmax())
            scores[index] = (
                chunk[top] if self.combine == "max" else (chunk[0] + chunk[top]) / 2.0
            )  # chunk[0]: the whole
            best.append(ps[top])
            start += len(ps)
        return scores, best

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """P(danger) of each text, from the classifier alone."""
        return self.best_parts(texts)[0]

    def case_of(self, texts: Sequence[str]) -> List[str]:
        if self.case_model is None:
            return [DEFAULT_CASE] * len(texts)
        probs = self.case_model.proba(texts)
        return [self.case_model.classes[int(i)] for i in probs.argmax(axis=1)]

    def verdicts(self, texts: Sequence[str]) -> List[Verdict]:
        scores, parts = self.best_parts(texts) if texts else ([], [])
        out = []
        for text, score in zip(texts, scores):
            reason = None
            if score >= self.threshold:
                reason = "classifier"
            elif self.matcher is not None and self.matcher.is_emergency(text):
                reason = "keywords"
            out.append(Verdict(reason is not None, float(score), None, reason))
        fired = [i for i, v in enumerate(out) if v.detected]
        if fired:
            # the case of the part that fired (a whole message if the keywords did)
            cases = self.case_of([parts[i] if out[i].reason == "classifier" else texts[i] for i in fired])
            for i, case in zip(fired, cases):
                out[i] = Verdict(True, out[i].score, case, out[i].reason)
        return out

    def dump(self) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
        meta, arrays = self.detector.dump("detector_")
        state: Dict[str, Any] = {
            "threshold": self.threshold,
            "detector": meta,
            "case": None,
            "segments": self.segment_mode,
            "combine": self.combine,
        }
        if self.case_model is not None:
            case_meta, case_arrays = self.case_model.dump("case_")
            state["case"] = case_meta
            arrays.update(case_arrays)
        return state, arrays

    @classmethod
    def restore(
        cls, state: Dict[str, Any], arrays: Dict[str, np.ndarray], matcher: Any = None
    ) -> "DangerModel":
        detector = TextModel.restore(state["detector"], arrays, "detector_")
        case_model = TextModel.restore(state["case"], arrays, "case_") if state.get("case") else None
        return cls(
            detector,
            case_model,
            state["threshold"],
            matcher,
            state.get("segments", "message"),
            state.get("combine", "max"),
        )

    def save(self, folder: Path) -> None:
        state, arrays = self.dump()
        (Path(folder) / "danger.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        np.savez_compressed(Path(folder) / "danger.npz", **arrays)

    @classmethod
    def load(cls, folder: Path, matcher: Any = None) -> "DangerModel":
        state = json.loads((Path(folder) / "danger.json").read_text(encoding="utf-8"))
        with np.load(Path(folder) / "danger.npz", allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        return cls.restore(state, arrays, matcher)
