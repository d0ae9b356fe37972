"""`make evaluate`: the new model against the one it replaces, on the held-out set.

    python -m retrain.regression [--model models/assistant.tar.gz] [--baseline FILE]
                                     [--out reports]

Evaluates the model (``retrain.evaluate``: same figures, same reports/nlu_evaluation.md)
and its baseline, then applies the regression gate, which fails when

- the topic accuracy drops by more than 1 point (0.01), or
- the recall of any intent of the held-out set drops by more than 10 points (0.10):
  the failing topics are named.

The baseline is the deployed model (``make deploy-model``) when it is not the one
evaluated, else the previous model of models/registry.json, or ``--baseline``. With
no baseline (first model) the gate passes. Evaluations are cached in
reports/evaluations/ by model and held-out contents, so a model is parsed once.

Writes reports/regression.json and reports/regression.md; exit code 1 when the gate
fails. The absolute quality gates (accuracy >= 0.95, ...) stay in tests/nlu/test_gates.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from knowledge.config import topic_of_intent
from project_paths import REPO_ROOT
from retrain import evaluate as ev
from retrain import models as registry_module
from retrain.models import file_sha256

MAX_ACCURACY_DROP = 0.01
MAX_RECALL_DROP = 0.10
_EPSILON = 1e-9  # 0.95 - 0.94 is 0.010000000000000009 in floating point


def _metrics(report: Dict[str, Any]) -> Dict[str, Any]:
    """Accepts a full retrain.evaluate report or its ``metrics`` part."""
    return report.get("metrics", report)


def compare(
    baseline: Dict[str, Any],
    candidate: Dict[str, Any],
    max_accuracy_drop: float = MAX_ACCURACY_DROP,
    max_recall_drop: float = MAX_RECALL_DROP,
) -> Dict[str, Any]:
    """The gate's verdict on two evaluations (dicts with ``topic_accuracy`` and
    ``per_intent: {intent: {recall, support}}``, or whole retrain.evaluate reports)."""
    old, new = _metrics(baseline), _metrics(candidate)
    old_acc, new_acc = old.get("topic_accuracy"), new.get("topic_accuracy")
    accuracy_drop = (old_acc - new_acc) if old_acc is not None and new_acc is not None else None
    accuracy_ok = accuracy_drop is None or accuracy_drop <= max_accuracy_drop + _EPSILON

    topics: List[Dict[str, Any]] = []
    old_scores, new_scores = old.get("per_intent") or {}, new.get("per_intent") or {}
    for intent in sorted(set(old_scores) & set(new_scores)):
        before, after = old_scores[intent], new_scores[intent]
        if not before.get("support", 1) or not after.get("support", 1):
            continue
        drop = before["recall"] - after["recall"]
        topics.append(
            {
                "intent": intent,
                "topic": topic_of_intent(intent) or intent,
                "baseline": before["recall"],
                "candidate": after["recall"],
                "drop": drop,
                "support": after.get("support"),
                "passed": drop <= max_recall_drop + _EPSILON,
            }
        )
    regressed = [t for t in topics if not t["passed"]]

    reasons = []
    if not accuracy_ok:
        reasons.append(
            f"topic accuracy dropped by {100 * accuracy_drop:.1f} points "
            f"({100 * old_acc:.1f} % -> {100 * new_acc:.1f} %; at most "
            f"{100 * max_accuracy_drop:.0f} allowed)"
        )
    if regressed:
        reasons.append(
            f"recall dropped by more than {100 * max_recall_drop:.0f} points for: "
            + ", ".join(
                f"{t['topic']} ({100 * t['baseline']:.0f} % -> {100 * t['candidate']:.0f} %)"
                for t in regressed
            )
        )
    return {
        "passed": accuracy_ok and not regressed,
        "accuracy": {
            "baseline": old_acc,
            "candidate": new_acc,
            "drop": accuracy_drop,
            "max_drop": max_accuracy_drop,
            "passed": accuracy_ok,
        },
        "max_recall_drop": max_recall_drop,
        "topics": topics,
        "regressed_topics": [t["topic"] for t in regressed],
        "reasons": reasons,
    }


def to_markdown(verdict: Dict[str, Any], baseline: str, candidate: str) -> str:
    acc = verdict["accuracy"]
    pct = lambda v: "n/a" if v is None else f"{100 * v:.1f} %"  # noqa: E731
    change = "" if acc["drop"] is None else f"{100 * (acc['candidate'] - acc['baseline']) + 0.0:+.1f}"
    lines = [
        "# Regression gate (held-out set)",
        "",
        f"Candidate: `{candidate}`  ",
        f"Baseline: `{baseline}`",
        "",
        f"**{'PASSED' if verdict['passed'] else 'FAILED'}**"
        + (": " + "; ".join(verdict["reasons"]) if verdict["reasons"] else ""),
        "",
        "| figure | baseline | candidate | change | allowed drop |",
        "|---|---|---|---|---|",
        f"| topic accuracy | {pct(acc['baseline'])} | {pct(acc['candidate'])} | "
        f"{change} | {100 * acc['max_drop']:.0f} |",
        "",
        "| topic | recall before | recall after | change | support | |",
        "|---|---|---|---|---|---|",
    ]
    for t in sorted(verdict["topics"], key=lambda t: -t["drop"]):
        lines.append(
            f"| {t['topic']} | {pct(t['baseline'])} | {pct(t['candidate'])} | "
            f"{100 * (t['candidate'] - t['baseline']) + 0.0:+.1f} | {t['support']} | {'' if t['passed'] else '**regressed**'} |"
        )
    return "\n".join(lines) + "\n"


# --- evaluation with a cache ----------------------------------------------------------


def _digest(paths: List[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def evaluate_cached(model: Path, heldout: Path, cache_dir: Path) -> Dict[str, Any]:
    """retrain.evaluate's report of a model, computed once per (model, held-out set)."""
    heldout_files = sorted(Path(heldout).glob("*.yml")) + sorted(Path(heldout).glob("*.yaml"))
    key = f"{_digest([Path(model)])}-{_digest(heldout_files)}"
    cached = Path(cache_dir) / f"{key}.json"
    if cached.exists():
        report = json.loads(cached.read_text(encoding="utf-8"))
        report["model"]["model_path"] = str(model)
        return report
    report = ev.evaluate(Path(model), Path(heldout))
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return report


def default_baseline(model: Path, models_dir: Path) -> Optional[Path]:
    """The deployed model if it is not the one evaluated, else the previous one."""
    registry = registry_module.load_registry(models_dir)
    sha = registry_module.file_sha256(model)
    for role in ("deployed", "previous"):
        path = registry_module.model_path(registry, role, models_dir)
        if path is not None and registry_module.file_sha256(path) != sha:
            return path
    return None


def describe(model: Path) -> str:
    """The file name, with the version it is a copy of (models/assistant.tar.gz)."""
    registry = registry_module.load_registry(model.parent)
    sha = registry_module.file_sha256(model)
    version = next((m["file"] for m in registry["models"] if m.get("sha256") == sha), None)
    return model.name if version in (None, model.name) else f"{model.name} ({version})"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retrain.regression",
        description="Evaluate the model and compare it with its baseline.",
    )
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "models" / "assistant.tar.gz")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="model to compare with (default: deployed, else previous)"
    )
    parser.add_argument("--heldout", type=Path, default=ev.DEFAULT_HELDOUT)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports")
    parser.add_argument("--quiet", action="store_true", help="do not print the evaluation")
    args = parser.parse_args(argv)

    if not args.model.is_file():
        print(f"Model not found: {args.model} (train it first: make train)", file=sys.stderr)
        return 2
    cache = args.out / "evaluations"
    report = evaluate_cached(args.model, args.heldout, cache)
    json_path, md_path = ev.write_report(report, args.out)
    if not args.quiet:
        print(md_path.read_text(encoding="utf-8"))
    print(f"Wrote {json_path} and {md_path}")

    baseline = args.baseline or default_baseline(args.model, args.model.parent)
    if baseline is None:
        print("Regression gate: no previous model to compare with (first model): passed.")
        return 0
    if not baseline.is_file():
        print(f"Baseline model not found: {baseline}", file=sys.stderr)
        return 2
    verdict = compare(evaluate_cached(baseline, args.heldout, cache), report)
    verdict.update(
        candidate=str(args.model), candidate_sha256=file_sha256(args.model), baseline=str(baseline)
    )
    (args.out / "regression.json").write_text(json.dumps(verdict, indent=2), encoding="utf-8")
    (args.out / "regression.md").write_text(
        to_markdown(verdict, describe(baseline), describe(args.model)), encoding="utf-8"
    )
    acc = verdict["accuracy"]
    print(
        f"Regression gate, {describe(args.model)} against {describe(baseline)}: topic accuracy "
        f"{100 * acc['baseline']:.1f} % -> {100 * acc['candidate']:.1f} %."
    )
    if verdict["passed"]:
        print("Regression gate PASSED (reports/regression.md). Deploy with: make deploy-model")
        return 0
    print("Regression gate FAILED: " + "; ".join(verdict["reasons"]), file=sys.stderr)
    print(
        "See reports/regression.md. Fix the examples and retrain, or go back to the "
        "previous model: make rollback-model",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
