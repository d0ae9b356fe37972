"""TF-IDF n-grams + logistic regression, without Rasa: fitting, fast scoring, the pieces
that the Rasa components (nlu/classifier.py, nlu/language.py, nlu/danger.py) and the
Telegram front's danger check share.

Importing this module loads NumPy, SciPy and (to fit) scikit-learn, never Rasa or
TensorFlow, so a process that only scores messages stays small.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

WORD_TOKEN_PATTERN = r"(?u)\b\w+\b"  # keeps one-letter words ("j", "c", "l")


def build_vectorizer(
    analyzer: str, ngram_range: Sequence[int], sublinear_tf: bool, vocabulary: Optional[Dict[str, int]] = None
):
    from sklearn.feature_extraction.text import TfidfVectorizer

    kwargs: Dict[str, Any] = {
        "analyzer": analyzer,
        "ngram_range": tuple(int(n) for n in ngram_range),
        "sublinear_tf": sublinear_tf,
        "lowercase": True,
        "vocabulary": vocabulary,
        "dtype": np.float64,
    }
    if analyzer == "word":
        kwargs["token_pattern"] = WORD_TOKEN_PATTERN
    return TfidfVectorizer(**kwargs)


def fit_text_model(
    texts: Sequence[str],
    labels: Sequence[str],
    config: Dict[str, Any],
    extra: Optional[sp.csr_matrix] = None,
) -> Tuple[List[Any], List[str], np.ndarray, np.ndarray]:
    """Fit the vectorizers and the logistic regression on raw texts.

    Returns (vectorizers, classes, coef, intercept). Shared by the Rasa component and
    by ``python -m lab.tune`` (cross-validation on the training data).
    """
    from sklearn.linear_model import LogisticRegression

    vectorizers = []
    for analyzer, key in (("word", "word_ngram_range"), ("char_wb", "char_ngram_range")):
        if config.get(key):
            vectorizer = build_vectorizer(analyzer, config[key], config["sublinear_tf"])
            vectorizer.fit(texts)
            vectorizers.append(vectorizer)
    features = text_features(vectorizers, texts, extra)
    model = LogisticRegression(
        C=float(config["C"]),
        class_weight=config["class_weight"],
        max_iter=int(config["max_iter"]),
        random_state=config["random_state"],
        # saga: same multinomial model as lbfgs, about ten times faster to train on the
        # five languages' data (docs/nlu.md, "Training time"); tol 1e-3 is its stopping rule.
        solver=config.get("solver", "lbfgs"),
        tol=float(config.get("tol", 1e-4)),
        multi_class="multinomial",
    )
    model.fit(features, list(labels))
    return (
        vectorizers,
        [str(c) for c in model.classes_],
        np.asarray(model.coef_, dtype=np.float64),
        np.asarray(model.intercept_, dtype=np.float64),
    )


def text_features(
    vectorizers: Sequence[Any], texts: Sequence[str], extra: Optional[sp.csr_matrix] = None
) -> sp.csr_matrix:
    blocks = [vectorizer.transform(list(texts)) for vectorizer in vectorizers]
    if extra is not None:
        blocks.append(extra)
    return sp.hstack(blocks, format="csr")


class TfidfRows:
    """What `text_features` computes without earlier Rasa features (each vectorizer's
    TF-IDF row, l2-normalised, side by side), without sklearn's per-call checks: about
    0.1 ms a message instead of 1.1 ms, most of the NLU's time in a turn. Same numbers
    as sklearn (tests/nlu/test_classifier.py)."""

    def __init__(self, vectorizers: Sequence[Any]) -> None:
        self.blocks = []
        offset = 0
        for vectorizer in vectorizers:
            if vectorizer.norm != "l2":
                raise ValueError("TfidfRows only computes l2-normalised rows")
            vocabulary = getattr(vectorizer, "vocabulary_", None) or vectorizer.vocabulary
            self.blocks.append(
                (
                    vectorizer.build_analyzer(),
                    vocabulary,
                    np.asarray(vectorizer.idf_, dtype=np.float64),
                    vectorizer.sublinear_tf,
                    offset,
                )
            )
            offset += len(vocabulary)
        self.width = offset

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        indptr, indices, data = [0], [], []
        for text in texts:
            filled = indptr[-1]
            for analyze, vocabulary, idf, sublinear_tf, offset in self.blocks:
                counts = Counter(vocabulary[g] for g in analyze(text) if g in vocabulary)
                if not counts:
                    continue
                columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                weights = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                if sublinear_tf:
                    weights = np.log(weights) + 1.0
                weights *= idf[columns]
                weights /= np.sqrt(weights @ weights)
                indices.append(columns + offset)
                data.append(weights)
                filled += len(columns)
            indptr.append(filled)
        if not data:
            return sp.csr_matrix((len(texts), self.width), dtype=np.float64)
        return sp.csr_matrix(
            (np.concatenate(data), np.concatenate(indices), indptr), shape=(len(texts), self.width)
        )


def feature_weights(coef: np.ndarray) -> np.ndarray:
    """The coefficients laid out for `softmax_scores`: one row per feature, contiguous.
    Multiplying a sparse row by `coef.T` as stored (a strided view) costs ~0.7 ms a
    message; by this copy, ~0.01 ms."""
    return np.ascontiguousarray(coef.T)


def softmax_scores(features: sp.csr_matrix, weights: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Class probabilities; `weights` comes from `feature_weights(coef)`."""
    scores = np.asarray(features @ weights + intercept)
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def dump_fitted(
    vectorizers: Sequence[Any],
    classes: Sequence[str],
    coef: np.ndarray,
    intercept: np.ndarray,
    prefix: str = "",
) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """A fitted model as JSON-able metadata and NumPy arrays (names start with ``prefix``):
    nothing executable is ever stored, so loading never runs code."""
    meta: Dict[str, Any] = {"classes": list(classes), "vectorizers": []}
    arrays = {f"{prefix}coef": coef, f"{prefix}intercept": intercept}
    for index, vectorizer in enumerate(vectorizers):
        meta["vectorizers"].append(
            {
                "analyzer": vectorizer.analyzer,
                "ngram_range": list(vectorizer.ngram_range),
                "sublinear_tf": vectorizer.sublinear_tf,
                "vocabulary": {k: int(v) for k, v in vectorizer.vocabulary_.items()},
            }
        )
        arrays[f"{prefix}idf_{index}"] = np.asarray(vectorizer.idf_, dtype=np.float64)
    return meta, arrays


def restore_fitted(
    meta: Dict[str, Any], arrays: Dict[str, np.ndarray], prefix: str = ""
) -> Tuple[List[Any], List[str], np.ndarray, np.ndarray]:
    """What ``dump_fitted`` stored: (vectorizers, classes, coef, intercept)."""
    vectorizers = []
    for index, spec in enumerate(meta["vectorizers"]):
        vectorizer = build_vectorizer(
            spec["analyzer"], spec["ngram_range"], spec["sublinear_tf"], spec["vocabulary"]
        )
        vectorizer.idf_ = arrays[f"{prefix}idf_{index}"]
        vectorizers.append(vectorizer)
    return vectorizers, list(meta["classes"]), arrays[f"{prefix}coef"], arrays[f"{prefix}intercept"]
