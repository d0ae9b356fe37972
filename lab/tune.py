"""Cross-validation of the linear classifier on the TRAINING data only.

    python -m lab.tune [--config config.yml] [--C 3 10 30] [--folds 5]

Used to choose the classifier's regularisation and the fallback thresholds without
looking at the held-out set, and to find the training data's weak spots (per-intent
recall, most frequent confusions) so that examples can be added where they are missing.

It reads the TextNormalizer and TfidfLogRegClassifier settings of the config, normalises
the training texts the same way, runs stratified k-fold CV (fixed seed) and replays the
FallbackClassifier for a grid of thresholds. Text-only: Rasa featurizers placed before
the classifier (``rasa_features``) are not replayed here.

Caveat: the conversation intents (salutation, au-revoir, menu...) are lists of short,
mostly unique formulas, so CV under-estimates them (an unseen "ciao" cannot be learnt
from the other folds). Read the figures relatively.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from nlu.classifier import TfidfLogRegClassifier
from nlu.components import TextNormalizer
from nlu.textmodel import feature_weights, fit_text_model, softmax_scores, text_features
from project_paths import CONFIG_FILE, NLU_DATA_DIR

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "hors-sujet"


def load_training(data_dir: Path) -> Tuple[List[str], List[str]]:
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    texts, labels = [], []
    # Every language: data/nlu/*.yml (French) and data/nlu/<code>/*.yml.
    for path in sorted(Path(data_dir).rglob("*.yml")):
        for message in load_data(str(path)).intent_examples:
            texts.append(message.get(TEXT))
            labels.append(message.get(INTENT))
    return texts, labels


def pipeline_settings(config_path: Path) -> Tuple[Optional[Dict[str, Any]], Dict[str, Any], Dict[str, Any]]:
    """(normalizer config or None, classifier config, fallback config) of a pipeline."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    normalizer, classifier, fallback = None, None, {"threshold": 0.3, "ambiguity_threshold": 0.1}
    for component in config.get("pipeline", []):
        name = component.get("name", "")
        if name.endswith("TextNormalizer"):
            normalizer = {k: v for k, v in component.items() if k != "name"}
        elif name.endswith("TfidfLogRegClassifier"):
            classifier = {k: v for k, v in component.items() if k != "name"}
        elif name == "FallbackClassifier":
            fallback.update({k: v for k, v in component.items() if k != "name"})
    if classifier is None:
        raise SystemExit(f"{config_path} has no nlu.classifier.TfidfLogRegClassifier")
    return normalizer, {**TfidfLogRegClassifier.get_default_config(), **classifier}, fallback


def cross_val_proba(
    texts: Sequence[str], labels: Sequence[str], config: Dict[str, Any], folds: int, seed: int
) -> Tuple[np.ndarray, List[str]]:
    """Out-of-fold probabilities, columns in sorted label order."""
    from sklearn.model_selection import StratifiedKFold

    texts_arr = np.asarray(texts, dtype=object)
    labels_arr = np.asarray(labels)
    classes = sorted(set(labels))
    out = np.zeros((len(texts), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(texts_arr, labels_arr):
        vectorizers, fold_classes, coef, intercept = fit_text_model(
            list(texts_arr[train_idx]), list(labels_arr[train_idx]), config
        )
        probs = softmax_scores(
            text_features(vectorizers, list(texts_arr[test_idx])), feature_weights(coef), intercept
        )
        for j, name in enumerate(fold_classes):
            out[test_idx, classes.index(name)] = probs[:, j]
    return out, classes


def replay(probs: np.ndarray, classes: List[str], threshold: float, ambiguity: float) -> List[str]:
    preds = []
    for row in probs:
        order = np.argsort(-row)
        top, second = row[order[0]], row[order[1]] if len(order) > 1 else 0.0
        if top < threshold or top - second < ambiguity:
            preds.append(FALLBACK)
        else:
            preds.append(classes[order[0]])
    return preds


def scores(labels: Sequence[str], preds: Sequence[str]) -> Dict[str, float]:
    in_scope = [(g, p) for g, p in zip(labels, preds) if g != OUT_OF_SCOPE]
    oos = [p for g, p in zip(labels, preds) if g == OUT_OF_SCOPE]
    return {
        "accuracy": sum(g == p for g, p in in_scope) / max(1, len(in_scope)),
        "oos_rejection": sum(p in (OUT_OF_SCOPE, FALLBACK) for p in oos) / max(1, len(oos)),
        "fallback_rate": sum(p == FALLBACK for _, p in in_scope) / max(1, len(in_scope)),
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Cross-validate the linear classifier on the training data.")
    parser.add_argument("--config", default=str(CONFIG_FILE))
    parser.add_argument("--data", default=str(NLU_DATA_DIR))
    parser.add_argument(
        "--C", nargs="*", type=float, default=None, help="C values to try (default: the config's)"
    )
    parser.add_argument("--thresholds", nargs="*", type=float, default=[0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5])
    parser.add_argument("--ambiguity", nargs="*", type=float, default=[0.0, 0.05, 0.1])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)

    normalizer_cfg, clf_cfg, fallback_cfg = pipeline_settings(Path(args.config))
    texts, labels = load_training(Path(args.data))
    if normalizer_cfg is not None:
        normalizer = TextNormalizer({**TextNormalizer.get_default_config(), **normalizer_cfg})
        texts = [normalizer.normalize_text(t) for t in texts]
    print(
        f"{len(texts)} training examples, {len(set(labels))} intents, {args.folds}-fold CV, "
        f"normaliser: {normalizer_cfg}",
        flush=True,
    )

    results: Dict[str, Any] = {"runs": []}
    for c in args.C or [clf_cfg["C"]]:
        config = {**clf_cfg, "C": c}
        probs, classes = cross_val_proba(texts, labels, config, args.folds, args.seed)
        sweep = []
        print(f"\nC={c:g}: threshold / ambiguity -> in-scope accuracy, OOS rejection, fallback rate")
        for amb in args.ambiguity:
            for t in args.thresholds:
                s = scores(labels, replay(probs, classes, t, amb))
                sweep.append({"threshold": t, "ambiguity_threshold": amb, **s})
                print(
                    f"  t={t:<5g} amb={amb:<5g} acc {s['accuracy']:.3f}  oos {s['oos_rejection']:.3f}"
                    f"  fallback {s['fallback_rate']:.3f}"
                )
        preds = replay(probs, classes, 0.0, 0.0)
        recall = collections.defaultdict(list)
        for g, p in zip(labels, preds):
            recall[g].append(g == p)
        per_intent = {k: float(np.mean(v)) for k, v in recall.items()}
        confusions = collections.Counter((g, p) for g, p in zip(labels, preds) if g != p).most_common(15)
        print(
            "  weakest intents (CV recall, no fallback): "
            + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_intent.items(), key=lambda kv: kv[1])[:8])
        )
        print("  top confusions: " + ", ".join(f"{g}->{p} {n}" for (g, p), n in confusions[:10]))
        results["runs"].append(
            {
                "C": c,
                "sweep": sweep,
                "per_intent_recall": per_intent,
                "confusions": [[g, p, n] for (g, p), n in confusions],
            }
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
