"""Evaluate a trained model on the held-out set (heldout/*.yml).

    python -m retrain.evaluate --model models/assistant.tar.gz [--out reports]

Parses every held-out example with the full trained pipeline (TextNormalizer ...
FallbackClassifier, DangerDetector, then Rasa's payload handler), exactly as the
Rasa server does, and reports:

- topic accuracy: share of in-scope held-out examples (every gold intent but
  ``hors-sujet``) whose predicted intent equals the gold one (``nlu_fallback`` is wrong);
- macro-F1 over the gold intents, per-intent precision / recall / F1;
- the most frequent confusions, and every misclassified example grouped by confusion;
- out-of-scope rejection: share of ``hors-sujet`` examples predicted ``hors-sujet`` or
  ``nlu_fallback``;
- emergency recall: share of ``urgence`` examples answered with the emergency numbers
  first (intent ``urgence`` or the danger detector fired); the detector's firings on
  non-emergency examples (false positives);
- the danger detector on heldout/danger*.yml (its own format, not Rasa's): recall on the
  positives, false alarms on the hard negatives and on the ordinary questions, per
  language and overall, for the detector as configured and for its two parts alone
  (the classifier, the keyword net); the missed positives are listed;
- training wall time (``train_info.json`` next to the model, written by
  ``python -m retrain.train_info``, or ``--train-seconds``) and model size, with the
  budgets (training <= 300 s, model <= 100 MB).

Writes ``<out>/nlu_evaluation.json`` and ``<out>/nlu_evaluation.md`` and prints the
Markdown. The exit code is 0 whatever the figures: the gates live in
tests/retrain/test_gates.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tarfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from knowledge.config import FALLBACK_INTENT
from nlu.emergency import EmergencyMatcher
from nlu.normalize import fold
from project_paths import HELDOUT_DIR, NLU_DATA_DIR, REPO_ROOT
from retrain.perturb import perturb

DEFAULT_HELDOUT = HELDOUT_DIR
DEFAULT_MODEL = REPO_ROOT / "models" / "assistant.tar.gz"
DEFAULT_TRAINING_DATA = NLU_DATA_DIR
TRAIN_INFO_FILE = "train_info.json"

OUT_OF_SCOPE_INTENT = "hors-sujet"
EMERGENCY_INTENT = "urgence"

# Gates (enforced by tests/nlu/test_gates.py) and budgets (reported only).
GATE_ACCURACY = 0.95
GATE_OOS_REJECTION = 0.90
GATE_EMERGENCY_RECALL = 1.0
GATE_SITUATIONS_ACCURACY = 0.90  # heldout/situations/
GATE_CLARIFICATION_HITS = 0.80  # right topic among the buttons when the classifier missed
GATE_LANGUAGE_ACCURACY = 0.90  # heldout/<language>/, each language
GATE_LANGUAGE_ID = 0.97  # share of a language's held-out messages found in that language
GATE_DANGER_RECALL = 1.0  # overall and in every language
GATE_DANGER_FALSE_ALARMS_HARD = 0.10
GATE_DANGER_FALSE_ALARMS_ORDINARY = 0.02
# The danger evaluation sets, in the held-out folder (not Rasa NLU data): danger.yml, then
# danger-2.yml to danger-8.yml, each written blind (heldout/README.md says
# which figures are unbiased).
DANGER_FILES = "danger*.yml"
BUDGET_TRAIN_SECONDS = 300
BUDGET_MODEL_BYTES = 100 * 1000 * 1000  # 100 MB


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    source: str


@dataclass(frozen=True)
class Prediction:
    example: Example
    intent: str
    confidence: float
    safety_net: Optional[str]  # the danger detector's reason when it fired
    # The classifier's own two best intents (before FallbackClassifier and the net),
    # used to replay other fallback thresholds (see ``replay_fallback``).
    raw_ranking: Tuple[Tuple[str, float], ...] = ()
    # The language nlu/language.py finds for the message (its best guess).
    language: Optional[str] = None
    # The language the assistant answers it in at the start of a conversation with no
    # hint from the front: the one found when the detector is sure, else French (a
    # conversation keeps its language when the detector is unsure).
    answered_in: Optional[str] = None
    # The classifier's topics, best first (what a clarification may offer).
    ranked_topics: Tuple[str, ...] = ()


def _is_nlu_file(path: Path) -> bool:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(data, dict) and "nlu" in data


def load_heldout(heldout_dir: Path = DEFAULT_HELDOUT) -> List[Example]:
    """Every example of every ``*.yml`` file of the held-out folder."""
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    files = [
        f
        for f in sorted(Path(heldout_dir).glob("*.yml")) + sorted(Path(heldout_dir).glob("*.yaml"))
        if not f.match(DANGER_FILES)
    ]
    if not files:
        raise FileNotFoundError(f"No held-out file (*.yml) in {heldout_dir}")
    examples: List[Example] = []
    for path in files:
        if not _is_nlu_file(path):  # heldout/pii.yml: the personal-data check's set
            continue
        data = load_data(str(path))
        for message in data.intent_examples:
            examples.append(Example(message.get(TEXT), message.get(INTENT), path.name))
    return examples


def _quiet_logs() -> None:
    """Errors only: Rasa's processor logs every parsed text at debug level."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger().setLevel(logging.ERROR)
    for name in ("rasa", "tensorflow", "absl", "sanic", "asyncio"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.ERROR)
    except ImportError:  # pragma: no cover - older Rasa
        pass


def answer_language(found: Dict[str, Any]) -> Optional[str]:
    """See Prediction.language."""
    if not found:
        return None
    return "fr" if found.get("source") == "unsure" else found.get("code")


def predict(model_path: Path, examples: Sequence[Example]) -> Tuple[List[Prediction], float]:
    """Parse every example with the trained model; returns predictions and the mean
    parse time in milliseconds."""
    _quiet_logs()
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))

    async def _run() -> Tuple[List[Prediction], float]:
        out: List[Prediction] = []
        start = time.perf_counter()
        for example in examples:
            parsed = await agent.parse_message(example.text)
            intent = parsed.get("intent") or {}
            danger = parsed.get("danger") or {}
            ranking = [
                (r.get("name"), float(r.get("confidence") or 0.0))
                for r in parsed.get("intent_ranking") or []
                if r.get("name") != FALLBACK_INTENT
            ]
            if danger.get("detected") and ranking and ranking[0][0] == EMERGENCY_INTENT:
                # The detector put urgence first; the classifier's own ranking follows.
                ranking = ranking[1:]
            out.append(
                Prediction(
                    example=example,
                    intent=intent.get("name") or FALLBACK_INTENT,
                    confidence=float(intent.get("confidence") or 0.0),
                    safety_net=danger.get("reason") if danger.get("detected") else None,
                    raw_ranking=tuple(ranking[:2]),
                    language=(parsed.get("language") or {}).get("code"),
                    answered_in=answer_language(parsed.get("language") or {}),
                    ranked_topics=tuple(name for name, _ in ranking[:5]),
                )
            )
        elapsed = time.perf_counter() - start
        return out, 1000.0 * elapsed / max(1, len(examples))

    return asyncio.run(_run())


def _ratio(num: int, den: int) -> Optional[float]:
    return num / den if den else None


def per_intent_scores(
    golds: Sequence[str], preds: Sequence[str], labels: Iterable[str]
) -> Dict[str, Dict[str, float]]:
    scores = {}
    for label in labels:
        tp = sum(1 for g, p in zip(golds, preds) if g == label and p == label)
        fp = sum(1 for g, p in zip(golds, preds) if g != label and p == label)
        fn = sum(1 for g, p in zip(golds, preds) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": tp + fn,
        }
    return scores


def compute_metrics(predictions: Sequence[Prediction]) -> Dict[str, Any]:
    """All quality figures from the predictions (no timing, no size)."""
    golds = [p.example.intent for p in predictions]
    preds = [p.intent for p in predictions]
    labels = sorted(set(golds))

    in_scope = [p for p in predictions if p.example.intent != OUT_OF_SCOPE_INTENT]
    topics_only = [p for p in in_scope if p.example.intent != EMERGENCY_INTENT]
    oos = [p for p in predictions if p.example.intent == OUT_OF_SCOPE_INTENT]
    emergencies = [p for p in predictions if p.example.intent == EMERGENCY_INTENT]
    non_emergencies = [p for p in predictions if p.example.intent != EMERGENCY_INTENT]

    scores = per_intent_scores(golds, preds, labels)
    macro_f1 = sum(s["f1"] for s in scores.values()) / len(scores) if scores else 0.0

    errors = [p for p in predictions if p.intent != p.example.intent]
    # A rejected out-of-scope message (nlu_fallback) is a success for rejection: list
    # it apart from the real confusions.
    confusions = Counter(
        (p.example.intent, p.intent)
        for p in errors
        if not (p.example.intent == OUT_OF_SCOPE_INTENT and p.intent == FALLBACK_INTENT)
    )
    grouped: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for p in errors:
        if p.example.intent == OUT_OF_SCOPE_INTENT and p.intent == FALLBACK_INTENT:
            continue
        grouped[f"{p.example.intent} -> {p.intent}"].append(
            {"text": p.example.text, "confidence": round(p.confidence, 3)}
        )

    net_fp = [p for p in non_emergencies if p.safety_net in ("keywords", "classifier")]
    net_rescue_fp = [p for p in non_emergencies if p.safety_net == "fallback_rescue"]
    # An emergency is answered with the numbers first when its intent is urgence or
    # the danger detector fired (danger first, then the topic).
    caught = [p for p in emergencies if p.intent == EMERGENCY_INTENT or p.safety_net]
    return {
        "examples": len(predictions),
        "in_scope_examples": len(in_scope),
        "topic_accuracy": _ratio(sum(p.intent == p.example.intent for p in in_scope), len(in_scope)),
        "topic_accuracy_without_urgence": _ratio(
            sum(p.intent == p.example.intent for p in topics_only), len(topics_only)
        ),
        "in_scope_fallback_rate": _ratio(sum(p.intent == FALLBACK_INTENT for p in in_scope), len(in_scope)),
        "macro_f1": macro_f1,
        "per_intent": scores,
        "top_confusions": [
            {"gold": g, "predicted": pr, "count": c} for (g, pr), c in confusions.most_common(15)
        ],
        "errors_by_confusion": dict(sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0]))),
        "out_of_scope_examples": len(oos),
        "out_of_scope_rejection": _ratio(
            sum(p.intent in (OUT_OF_SCOPE_INTENT, FALLBACK_INTENT) for p in oos), len(oos)
        ),
        "emergency_examples": len(emergencies),
        "emergency_recall": _ratio(len(caught), len(emergencies)),
        "emergency_intent_recall": _ratio(
            sum(p.intent == EMERGENCY_INTENT for p in emergencies), len(emergencies)
        ),
        "emergency_precision": _ratio(
            sum(p.example.intent == EMERGENCY_INTENT for p in predictions if p.intent == EMERGENCY_INTENT),
            sum(p.intent == EMERGENCY_INTENT for p in predictions),
        ),
        "emergency_missed": [p.example.text for p in emergencies if p not in caught],
        # What the classifier alone (its top intent, no fallback, no keyword net) gets.
        "emergency_recall_classifier_only": _ratio(
            sum(bool(p.raw_ranking) and p.raw_ranking[0][0] == EMERGENCY_INTENT for p in emergencies),
            len(emergencies),
        ),
        "safety_net": {
            "fired_on_emergencies": sum(1 for p in emergencies if p.safety_net),
            "keywords_on_emergencies": sum(1 for p in emergencies if p.safety_net == "keywords"),
            "classifier_on_emergencies": sum(1 for p in emergencies if p.safety_net == "classifier"),
            "false_positives": len(net_fp),
            "false_positive_rate": _ratio(len(net_fp), len(non_emergencies)),
            "false_positive_examples": [{"gold": p.example.intent, "text": p.example.text} for p in net_fp],
            "fallback_rescue_false_positives": len(net_rescue_fp),
            "non_emergency_examples": len(non_emergencies),
        },
    }


def replay_fallback(
    predictions: Sequence[Prediction],
    threshold: float,
    ambiguity_threshold: float,
    rescue_fallback: bool = True,
) -> List[Prediction]:
    """Predictions as they would be with other FallbackClassifier thresholds.

    Replays Rasa's FallbackClassifier on the classifier's two best intents, then the
    emergency net (keyword hits are kept as they are, they do not depend on the
    threshold).
    """
    replayed = []
    for p in predictions:
        if p.safety_net in ("keywords", "classifier") or not p.raw_ranking:
            replayed.append(p)
            continue
        top, conf = p.raw_ranking[0]
        second = p.raw_ranking[1][1] if len(p.raw_ranking) > 1 else 0.0
        intent, confidence = top, conf
        if conf < threshold or (len(p.raw_ranking) > 1 and conf - second < ambiguity_threshold):
            intent, confidence = FALLBACK_INTENT, threshold
        net = None
        if rescue_fallback and intent == FALLBACK_INTENT and top == EMERGENCY_INTENT:
            intent, confidence, net = EMERGENCY_INTENT, 1.0, "fallback_rescue"
        replayed.append(Prediction(p.example, intent, confidence, net, p.raw_ranking))
    return replayed


def threshold_sweep(
    predictions: Sequence[Prediction],
    thresholds: Iterable[float] = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    ambiguity_thresholds: Iterable[float] = (0.0, 0.1),
) -> List[Dict[str, Any]]:
    rows = []
    for amb in ambiguity_thresholds:
        for t in thresholds:
            m = compute_metrics(replay_fallback(predictions, t, amb))
            rows.append(
                {
                    "threshold": t,
                    "ambiguity_threshold": amb,
                    "topic_accuracy": m["topic_accuracy"],
                    "out_of_scope_rejection": m["out_of_scope_rejection"],
                    "emergency_recall": m["emergency_recall"],
                    "macro_f1": m["macro_f1"],
                }
            )
    return rows


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _spacy_model_dirs(model_path: Path) -> List[str]:
    """SpaCy pipelines the model loads at run time (they are not inside the .tar.gz)."""
    try:
        with tarfile.open(model_path, "r:gz") as tar:
            member = next((m for m in tar.getmembers() if m.name.lstrip("./") == "metadata.json"), None)
            if member is None:
                return []
            metadata = json.load(tar.extractfile(member))  # type: ignore[arg-type]
    except (OSError, tarfile.TarError, ValueError):
        return []
    found: List[str] = []
    if not isinstance(metadata, dict):
        return found
    for schema in ("train_schema", "predict_schema"):
        nodes = (metadata.get(schema) or {}).get("nodes") or {}
        for node in nodes.values() if isinstance(nodes, dict) else []:
            if isinstance(node, dict) and str(node.get("uses", "")).endswith("SpacyNLP"):
                name = (node.get("config") or {}).get("model")
                if name and name not in found:
                    found.append(name)
    return found


def resource_figures(model_path: Path, train_seconds: Optional[float]) -> Dict[str, Any]:
    info: Dict[str, Any] = {}
    info_path = model_path.parent / TRAIN_INFO_FILE
    if train_seconds is None and info_path.is_file():
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
            train_seconds = float(info["seconds"])
        except (ValueError, KeyError):
            train_seconds = None
    size = model_path.stat().st_size
    spacy_dirs = []
    for name in _spacy_model_dirs(model_path):
        path = Path(name) if Path(name).is_absolute() else REPO_ROOT / name
        spacy_dirs.append({"model": name, "bytes": _dir_size(path) if path.is_dir() else None})
    return {
        "model_path": str(model_path),
        "model_bytes": size,
        "model_mb": round(size / 1e6, 2),
        "budget_model_bytes": BUDGET_MODEL_BYTES,
        "model_within_budget": size <= BUDGET_MODEL_BYTES,
        "spacy_pipelines": spacy_dirs,
        "train_seconds": train_seconds,
        "train_info": info or None,
        "budget_train_seconds": BUDGET_TRAIN_SECONDS,
        "train_within_budget": None if train_seconds is None else train_seconds <= BUDGET_TRAIN_SECONDS,
        "cpu_count": os.cpu_count(),
    }


def gates(metrics: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    def gate(value: Optional[float], threshold: float) -> Dict[str, Any]:
        return {
            "value": value,
            "threshold": threshold,
            "passed": value is not None and value >= threshold,
        }

    return {
        "topic_accuracy": gate(metrics["topic_accuracy"], GATE_ACCURACY),
        "out_of_scope_rejection": gate(metrics["out_of_scope_rejection"], GATE_OOS_REJECTION),
        "emergency_recall": gate(metrics["emergency_recall"], GATE_EMERGENCY_RECALL),
    }


def training_overlap(
    predictions: Sequence[Prediction], training_dir: Path = DEFAULT_TRAINING_DATA
) -> Optional[Dict[str, Any]]:
    """How many held-out examples also appear in the training data (same words once
    case, accents and punctuation are folded), and the accuracy without them."""
    try:
        training = {fold(e.text) for e in load_heldout(training_dir)}
    except FileNotFoundError:
        return None
    fresh = [p for p in predictions if fold(p.example.text) not in training]
    fresh_in_scope = [p for p in fresh if p.example.intent != OUT_OF_SCOPE_INTENT]
    return {
        "training_dir": str(training_dir),
        "exact_duplicates": len(predictions) - len(fresh),
        "topic_accuracy_without_duplicates": _ratio(
            sum(p.intent == p.example.intent for p in fresh_in_scope), len(fresh_in_scope)
        ),
        "in_scope_examples_without_duplicates": len(fresh_in_scope),
    }


# --- the danger detector (heldout/danger*.yml) ---------------------------------------

DANGER_METHODS = ("detector", "classifier_alone", "keywords_alone")


def load_danger_set(path: Path) -> List[Dict[str, Any]]:
    """Messages of a danger evaluation set: text, lang, variety, label
    (danger | hard_negative | ordinary), case; ``set``: the file's name."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        messages = (yaml.safe_load(handle) or {}).get("messages") or []
    return [{**m, "set": Path(path).name} for m in messages]


def predict_danger(model_path: Path, items: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Parse every message with the trained model. ``detector``: the emergency numbers
    come first (the detector fired, or the intent is urgence); ``classifier_alone`` and
    ``keywords_alone``: the detector's two parts on their own."""
    _quiet_logs()
    from rasa.core.agent import Agent  # loads TensorFlow: only when a model is parsed

    agent = Agent.load(str(model_path))
    matcher = EmergencyMatcher.from_file()

    async def _run() -> List[Dict[str, Any]]:
        out = []
        for item in items:
            parsed = await agent.parse_message(item["text"])
            danger = parsed.get("danger") or {}
            intent = (parsed.get("intent") or {}).get("name")
            out.append(
                {
                    **item,
                    "detector": bool(danger.get("detected")) or intent == EMERGENCY_INTENT,
                    "classifier_alone": danger.get("reason") == "classifier",
                    "keywords_alone": matcher.is_emergency(item["text"]),
                    "score": danger.get("score"),
                    "predicted_case": danger.get("case"),
                    "intent": intent,
                }
            )
        return out

    return asyncio.run(_run())


def danger_metrics(results: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Recall on the positives, false alarms on the hard negatives and on the ordinary
    questions, overall and per language, for each method."""

    def figures(rows: Sequence[Dict[str, Any]], method: str) -> Dict[str, Any]:
        pos = [r for r in rows if r["label"] == "danger"]
        hard = [r for r in rows if r["label"] == "hard_negative"]
        ordinary = [r for r in rows if r["label"] == "ordinary"]
        return {
            "positives": len(pos),
            "hard_negatives": len(hard),
            "ordinary": len(ordinary),
            "recall": _ratio(sum(r[method] for r in pos), len(pos)),
            "false_alarms_hard": _ratio(sum(r[method] for r in hard), len(hard)),
            "false_alarms_ordinary": _ratio(sum(r[method] for r in ordinary), len(ordinary)),
        }

    langs = sorted({r["lang"] for r in results})
    sets = sorted({r.get("set", "") for r in results})
    caught = [r for r in results if r["label"] == "danger" and r["detector"] and r["predicted_case"]]
    return {
        "messages": len(results),
        "methods": {
            method: {
                "overall": figures(results, method),
                "per_language": {
                    lang: figures([r for r in results if r["lang"] == lang], method) for lang in langs
                },
                "per_set": {
                    name: figures([r for r in results if r.get("set", "") == name], method) for name in sets
                },
            }
            for method in DANGER_METHODS
        },
        "case_accuracy": _ratio(
            sum(r["predicted_case"] == (r.get("case") or "general") for r in caught), len(caught)
        ),
        "missed": [
            {
                "lang": r["lang"],
                "case": r.get("case"),
                "score": r["score"],
                "text": r["text"],
                "set": r.get("set"),
            }
            for r in results
            if r["label"] == "danger" and not r["detector"]
        ],
        "false_alarms": [
            {
                "lang": r["lang"],
                "label": r["label"],
                "score": r["score"],
                "text": r["text"],
                "set": r.get("set"),
            }
            for r in results
            if r["label"] != "danger" and r["detector"]
        ],
    }


def danger_gates(metrics: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    detector = metrics["methods"]["detector"]
    out = {}
    for scope, figs in [("overall", detector["overall"]), *detector["per_language"].items()]:
        out[f"recall_{scope}"] = {
            "value": figs["recall"],
            "threshold": GATE_DANGER_RECALL,
            "passed": figs["recall"] is not None and figs["recall"] >= GATE_DANGER_RECALL,
        }
    overall = detector["overall"]
    for key, limit in (
        ("false_alarms_hard", GATE_DANGER_FALSE_ALARMS_HARD),
        ("false_alarms_ordinary", GATE_DANGER_FALSE_ALARMS_ORDINARY),
    ):
        out[key] = {
            "value": overall[key],
            "threshold": limit,
            "passed": overall[key] is not None and overall[key] <= limit,
        }
    return out


def danger_paths(heldout_dir: Path = DEFAULT_HELDOUT) -> List[Path]:
    return sorted(Path(heldout_dir).glob(DANGER_FILES))


def predict_danger_sets(model_path: Path, paths: Sequence[Path]) -> List[Dict[str, Any]]:
    """``predict_danger`` on every message of the given danger sets."""
    return predict_danger(model_path, [item for path in paths for item in load_danger_set(path)])


def danger_report(paths: Sequence[Path], rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    metrics = danger_metrics(rows)
    return {"files": [str(p) for p in paths], "metrics": metrics, "gates": danger_gates(metrics)}


def evaluate_danger(model_path: Path, heldout_dir: Path = DEFAULT_HELDOUT) -> Optional[Dict[str, Any]]:
    """Every danger evaluation set together (the gates), with the figures of each set."""
    paths = danger_paths(heldout_dir)
    if not paths:
        return None
    return danger_report(paths, predict_danger_sets(model_path, paths))


def danger_markdown(danger: Dict[str, Any]) -> List[str]:
    m, g = danger["metrics"], danger["gates"]
    ok = lambda passed: "pass" if passed else "**FAIL**"  # noqa: E731
    lines = [
        "",
        "## Danger detector (heldout/danger*.yml)",
        "",
        f"{m['messages']} messages. Gates: recall = 100 % (overall and per language), "
        f"false alarms ≤ {_pct(GATE_DANGER_FALSE_ALARMS_HARD)} on hard negatives and "
        f"≤ {_pct(GATE_DANGER_FALSE_ALARMS_ORDINARY)} on ordinary questions. "
        "detector = what the assistant does (numbers first when the detector fires or "
        "the intent is urgence).",
        "",
        "| method | scope | recall | false alarms (hard neg.) | false alarms (ordinary) |",
        "|---|---|---|---|---|",
    ]
    for method in DANGER_METHODS:
        figs = m["methods"][method]
        for scope, f in [("all", figs["overall"]), *figs["per_language"].items()]:
            lines.append(
                f"| {method} | {scope} ({f['positives']}/{f['hard_negatives']}/"
                f"{f['ordinary']}) | {_pct(f['recall'])} | {_pct(f['false_alarms_hard'])} "
                f"| {_pct(f['false_alarms_ordinary'])} |"
            )
    lines += ["", "Per set (detector):", ""]
    lines += [
        f"- {name}: recall {_pct(f['recall'])} of {f['positives']}, false alarms "
        f"{_pct(f['false_alarms_hard'])} of {f['hard_negatives']} hard negatives, "
        f"{_pct(f['false_alarms_ordinary'])} of {f['ordinary']} ordinary"
        for name, f in m["methods"]["detector"]["per_set"].items()
    ]
    lines += [
        "",
        f"Case (general / child / suicide) right on {_pct(m['case_accuracy'])} of the positives caught.",
        "",
        "| gate | value | limit | status |",
        "|---|---|---|---|",
    ]
    for name, gate in g.items():
        lines.append(f"| {name} | {_pct(gate['value'])} | {_pct(gate['threshold'])} | {ok(gate['passed'])} |")
    lines += ["", f"Missed positives ({len(m['missed'])}):"]
    lines += [f"- [{r['set']}, {r['lang']}, {r['case']}, {r['score']}] {r['text']}" for r in m["missed"]] or [
        "None."
    ]
    lines += ["", f"False alarms ({len(m['false_alarms'])}):"]
    lines += [
        f"- [{r['set']}, {r['lang']}, {r['label']}, {r['score']}] {r['text']}" for r in m["false_alarms"]
    ] or ["None."]
    return lines


# --- clarification: are the offered topics the right ones? ----------------------------

CLARIFY_STRATEGIES = ("search", "ranking", "ranking_then_search")


def clarification_hits(
    predictions: Sequence[Prediction], content_dir: Optional[Path] = None, suggestions: int = 3
) -> Dict[str, Any]:
    """On the in-scope held-out messages the classifier got wrong (a clarification is
    what the person then sees when it fell back), how often the right topic is among the
    offered buttons, for each way of choosing them (actions/clarify.py uses the best)."""
    import tempfile

    from sqlalchemy.orm import Session

    from actions.clarify import offered_topics
    from knowledge.content import load_content
    from knowledge.db import make_engine
    from knowledge.loader import build_database
    from knowledge.search import search_scores
    from project_paths import CONTENT_DIR

    missed = [
        p
        for p in predictions
        if p.example.intent not in (OUT_OF_SCOPE_INTENT, EMERGENCY_INTENT) and p.intent != p.example.intent
    ]
    hits = {name: 0 for name in CLARIFY_STRATEGIES}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'kb.db'}"
        build_database(url, load_content(content_dir or CONTENT_DIR))
        engine = make_engine(url)
        try:
            with Session(engine, future=True) as session:
                for p in missed:
                    found = [t for t, _ in search_scores(session, p.example.text, suggestions)]
                    offers = {
                        "search": found,
                        "ranking": offered_topics(list(p.ranked_topics), [], suggestions),
                        "ranking_then_search": offered_topics(list(p.ranked_topics), found, suggestions),
                    }
                    for name, topics in offers.items():
                        hits[name] += p.example.intent in topics
        finally:
            engine.dispose()
    return {
        "missed": len(missed),
        "suggestions": suggestions,
        "hit_rate": {name: _ratio(count, len(missed)) for name, count in hits.items()},
    }


# --- the other held-out sets: heldout/<set>/ ------------------------------------------

REFERENCE_LANGUAGE = "fr"


def held_out_sets(heldout_dir: Path = DEFAULT_HELDOUT) -> Dict[str, List[Example]]:
    """The held-out sets of the subfolders: ``situations`` (French, victims telling
    their situation) and one per language (the folder is named by its language code)."""
    return {
        folder.name: load_heldout(folder)
        for folder in sorted(Path(heldout_dir).iterdir())
        if folder.is_dir() and list(folder.glob("*.yml"))
    }


def set_language(name: str, training_dir: Path = DEFAULT_TRAINING_DATA) -> str:
    return name if (Path(training_dir) / name).is_dir() else REFERENCE_LANGUAGE


def set_metrics(predictions: Sequence[Prediction], language: str) -> Dict[str, Any]:
    """Topic figures of one set, and how often its messages were found in its language
    (out-of-scope messages left out: some are in another language on purpose)."""
    metrics = compute_metrics(predictions)
    in_scope = [p for p in predictions if p.example.intent != OUT_OF_SCOPE_INTENT]
    metrics["language"] = language
    metrics["language_id"] = _ratio(sum(p.language == language for p in in_scope), len(in_scope))
    metrics["answered_in_language"] = _ratio(sum(p.answered_in == language for p in in_scope), len(in_scope))
    metrics["fallback_rate"] = _ratio(sum(p.intent == FALLBACK_INTENT for p in in_scope), len(in_scope))
    metrics["examples"] = len(predictions)
    return metrics


def set_gates(name: str, metrics: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    def gate(value: Optional[float], threshold: float) -> Dict[str, Any]:
        return {
            "value": value,
            "threshold": threshold,
            "passed": value is not None and value >= threshold - 1e-9,
        }

    if metrics["language"] == REFERENCE_LANGUAGE:
        return {
            "topic_accuracy": gate(metrics["topic_accuracy"], GATE_SITUATIONS_ACCURACY),
            "out_of_scope_rejection": gate(metrics["out_of_scope_rejection"], GATE_OOS_REJECTION),
        }
    return {
        "topic_accuracy": gate(metrics["topic_accuracy"], GATE_LANGUAGE_ACCURACY),
        "language_id": gate(metrics["language_id"], GATE_LANGUAGE_ID),
    }


def evaluate_sets(
    predictions_by_set: Dict[str, List[Prediction]], training_dir: Path = DEFAULT_TRAINING_DATA
) -> Dict[str, Any]:
    out = {}
    for name, predictions in predictions_by_set.items():
        metrics = set_metrics(predictions, set_language(name, training_dir))
        out[name] = {"metrics": metrics, "gates": set_gates(name, metrics)}
    return out


def sets_markdown(sets: Dict[str, Any]) -> List[str]:
    lines = [
        "",
        "## Other held-out sets (heldout/<set>/)",
        "",
        "| set | language | examples | topic accuracy | out-of-scope rejection | "
        "language identified | answered in it (new conversation, no hint) | fallback rate | gates |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in sets.items():
        m, g = result["metrics"], result["gates"]
        verdict = "PASS" if all(x["passed"] for x in g.values()) else "**FAIL**"
        lines.append(
            f"| {name} | {m['language']} | {m['examples']} | {_pct(m['topic_accuracy'])} | "
            f"{_pct(m['out_of_scope_rejection'])} | {_pct(m['language_id'])} | "
            f"{_pct(m['answered_in_language'])} | "
            f"{_pct(m['fallback_rate'])} | {verdict} |"
        )
    names = list(sets)
    intents = sorted(
        {i for r in sets.values() for i, f in r["metrics"]["per_intent"].items() if f["support"]}
    )
    lines += [
        "",
        "Per intent in each set: precision / recall (examples).",
        "",
        "| intent | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for intent in intents:
        cells = []
        for name in names:
            f = sets[name]["metrics"]["per_intent"].get(intent)
            cells.append(f"{f['precision']:.2f} / {f['recall']:.2f} ({f['support']})" if f else "")
        lines.append(f"| {intent} | " + " | ".join(cells) + " |")
    for name, result in sets.items():
        confusions = result["metrics"].get("top_confusions") or []
        if confusions:
            lines += [
                "",
                f"Top confusions, {name}: "
                + "; ".join(f"{c['gold']} -> {c['predicted']} ({c['count']})" for c in confusions[:8]),
            ]
    return lines


def evaluate(
    model_path: Path,
    heldout_dir: Path = DEFAULT_HELDOUT,
    train_seconds: Optional[float] = None,
    training_dir: Path = DEFAULT_TRAINING_DATA,
    perturbed: bool = False,
) -> Dict[str, Any]:
    """Full evaluation report (a JSON-serialisable dict).

    ``perturbed``: parse phone-style variants of the held-out sentences instead
    (retrain/perturb.py), to measure robustness to typing habits.
    """
    examples = load_heldout(heldout_dir)
    sets = {} if perturbed else held_out_sets(heldout_dir)
    if perturbed:
        examples = [Example(perturb(e.text), e.intent, e.source) for e in examples]
    every = examples + [e for name in sets for e in sets[name]]
    all_predictions, parse_ms = predict(model_path, every)
    predictions = all_predictions[: len(examples)]
    by_set, start = {}, len(examples)
    for name, set_examples in sets.items():
        by_set[name] = all_predictions[start : start + len(set_examples)]
        start += len(set_examples)
    metrics = compute_metrics(predictions)
    metrics["training_overlap"] = training_overlap(predictions, training_dir)
    return {
        "predictions": [
            {
                "text": p.example.text,
                "gold": p.example.intent,
                "predicted": p.intent,
                "confidence": round(p.confidence, 4),
                "safety_net": p.safety_net,
                "raw_ranking": [[n, round(c, 4)] for n, c in p.raw_ranking],
            }
            for p in predictions
        ],
        "threshold_sweep": threshold_sweep(predictions),
        "model": resource_figures(model_path, train_seconds),
        "heldout_dir": str(heldout_dir),
        "perturbed": perturbed,
        "metrics": metrics,
        "gates": gates(metrics),
        "mean_parse_ms": round(parse_ms, 2),
        "danger": None if perturbed else evaluate_danger(model_path, heldout_dir),
        "sets": evaluate_sets(by_set, training_dir),
        # French held-out messages (main and situations) the classifier missed.
        "clarification": None
        if perturbed
        else clarification_hits(list(predictions) + list(by_set.get("situations", []))),
    }


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def to_markdown(report: Dict[str, Any], max_examples_per_confusion: int = 8) -> str:
    m = report["metrics"]
    res = report["model"]
    g = report["gates"]
    train_time = "n/a" if res["train_seconds"] is None else f"{res['train_seconds']:.0f} s"
    ok = lambda passed: "pass" if passed else ("n/a" if passed is None else "**FAIL**")  # noqa: E731
    lines = [
        "# NLU evaluation (held-out set)",
        "",
        f"Model: `{res['model_path']}` — held-out: `{report['heldout_dir']}`"
        f"{' (phone-style perturbed variants, retrain/perturb.py)' if report.get('perturbed') else ''} "
        f"({m['examples']} examples: {m['in_scope_examples']} in scope, "
        f"{m['out_of_scope_examples']} out of scope, {m['emergency_examples']} emergencies)",
        "",
        "| figure | value | gate / budget | status |",
        "|---|---|---|---|",
        f"| topic accuracy (in scope) | {_pct(m['topic_accuracy'])} | ≥ {_pct(g['topic_accuracy']['threshold'])} | {ok(g['topic_accuracy']['passed'])} |",
        f"| macro-F1 (all intents) | {m['macro_f1']:.3f} | | |",
        f"| out-of-scope rejection | {_pct(m['out_of_scope_rejection'])} | ≥ {_pct(g['out_of_scope_rejection']['threshold'])} | {ok(g['out_of_scope_rejection']['passed'])} |",
        f"| emergency recall (numbers first: urgence or danger detected) | {_pct(m['emergency_recall'])} | = {_pct(g['emergency_recall']['threshold'])} | {ok(g['emergency_recall']['passed'])} |",
        f"| emergency precision | {_pct(m['emergency_precision'])} | | |",
        f"| emergency recall of the classifier alone (no keyword net) | {_pct(m.get('emergency_recall_classifier_only'))} | | |",
        f"| in-scope fallback rate (nlu_fallback) | {_pct(m['in_scope_fallback_rate'])} | | |",
        f"| danger detector firings on non-emergency examples | {m['safety_net']['false_positives']} / {m['safety_net']['non_emergency_examples']} | | |",
        f"| training wall time | {train_time} | ≤ {BUDGET_TRAIN_SECONDS} s | {ok(res['train_within_budget'])} |",
        f"| model size (.tar.gz) | {res['model_mb']} MB | ≤ {BUDGET_MODEL_BYTES // 10**6} MB | {ok(res['model_within_budget'])} |",
        f"| mean parse time | {report['mean_parse_ms']} ms | | |",
    ]
    overlap = m.get("training_overlap")
    if overlap:
        lines.append(
            f"| topic accuracy without the {overlap['exact_duplicates']} held-out examples also "
            f"in the training data | {_pct(overlap['topic_accuracy_without_duplicates'])} | | |"
        )
    for sp in res["spacy_pipelines"]:
        size = "missing" if sp["bytes"] is None else f"{sp['bytes'] / 1e6:.1f} MB"
        lines.append(f"| spaCy pipeline `{sp['model']}` (loaded beside the model) | {size} | | |")
    lines += [
        "",
        "## Per intent",
        "",
        "| intent | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for name, s in m["per_intent"].items():
        lines.append(
            f"| {name} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1']:.2f} | {s['support']} |"
        )
    lines += ["", "## Most frequent confusions", ""]
    if m["top_confusions"]:
        lines += ["| gold | predicted | count |", "|---|---|---|"]
        lines += [f"| {c['gold']} | {c['predicted']} | {c['count']} |" for c in m["top_confusions"]]
    else:
        lines.append("None.")
    sn = m["safety_net"]
    lines += [
        "",
        "## Danger detector on the topic held-out set",
        "",
        f"Fired on {sn['fired_on_emergencies']} of {m['emergency_examples']} emergencies "
        f"({sn['keywords_on_emergencies']} by keywords); firings on "
        f"non-emergency examples: {sn['false_positives']} of {sn['non_emergency_examples']}"
        f" (fallback rescues of non-emergencies: {sn['fallback_rescue_false_positives']}).",
    ]
    for fp in sn["false_positive_examples"]:
        lines.append(f"- ({fp['gold']}) {fp['text']}")
    if m["emergency_missed"]:
        lines += ["", "Missed emergencies:"] + [f"- {t}" for t in m["emergency_missed"]]
    if report.get("threshold_sweep"):
        lines += [
            "",
            "## Fallback threshold replay",
            "",
            "What the figures would be with other FallbackClassifier thresholds "
            "(replayed from the classifier's ranking; informative only).",
            "",
            "| threshold | ambiguity | accuracy | OOS rejection | emergency recall | macro-F1 |",
            "|---|---|---|---|---|---|",
        ]
        for row in report["threshold_sweep"]:
            lines.append(
                f"| {row['threshold']} | {row['ambiguity_threshold']} | {_pct(row['topic_accuracy'])} "
                f"| {_pct(row['out_of_scope_rejection'])} | {_pct(row['emergency_recall'])} "
                f"| {row['macro_f1']:.3f} |"
            )
    if report.get("sets"):
        lines += sets_markdown(report["sets"])
    if report.get("clarification"):
        c = report["clarification"]
        lines += [
            "",
            "## Clarification (French held-out messages the classifier missed)",
            "",
            f"{c['missed']} messages; share where the right topic is among the "
            f"{c['suggestions']} offered buttons, per way of choosing them "
            "(actions/clarify.py offers the classifier's ranking, then the search's):",
            "",
        ]
        lines += [f"- {name}: {_pct(rate)}" for name, rate in c["hit_rate"].items()]
    if report.get("danger"):
        lines += danger_markdown(report["danger"])
    lines += ["", "## Misclassified examples by confusion", ""]
    if not m["errors_by_confusion"]:
        lines.append("None.")
    for key, items in m["errors_by_confusion"].items():
        lines.append(f"**{key}** ({len(items)})")
        for item in items[:max_examples_per_confusion]:
            lines.append(f"- {item['text']} ({item['confidence']})")
        if len(items) > max_examples_per_confusion:
            lines.append(f"- … {len(items) - max_examples_per_confusion} more (see JSON)")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_report(report: Dict[str, Any], out_dir: Path) -> Tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "nlu_evaluation.json"
    md_path = out_dir / "nlu_evaluation.md"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    md_path.write_text(to_markdown(report), encoding="utf-8")
    return json_path, md_path


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the NLU model on the held-out set.")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="trained model (.tar.gz)")
    parser.add_argument("--out", default=str(REPO_ROOT / "reports"), help="report folder")
    parser.add_argument("--heldout", default=str(DEFAULT_HELDOUT), help="held-out folder")
    parser.add_argument(
        "--data",
        default=str(DEFAULT_TRAINING_DATA),
        help="training data, to count held-out examples it duplicates",
    )
    parser.add_argument(
        "--train-seconds",
        type=float,
        default=None,
        help="training wall time (default: train_info.json beside the model)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the Markdown")
    parser.add_argument(
        "--perturb",
        action="store_true",
        help="parse phone-style variants of the held-out sentences (robustness)",
    )
    args = parser.parse_args(argv)

    model = Path(args.model)
    if not model.is_file():
        print(f"Model not found: {model} (train it first: make train)", file=sys.stderr)
        return 2
    report = evaluate(model, Path(args.heldout), args.train_seconds, Path(args.data), args.perturb)
    json_path, md_path = write_report(report, Path(args.out))
    if not args.quiet:
        print(md_path.read_text(encoding="utf-8"))
    print(f"Wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
