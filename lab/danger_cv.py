"""Cross-validation of the danger detector on its TRAINING data only.

    python -m lab.danger_cv [--C 3 10 30] [--folds 5] [--no-nlu]
                            [--segments message|sentences|clauses] [--combine max|mean]

Chooses the detector's regularisation and decision threshold without looking at the
evaluation set (heldout/danger.yml): out-of-fold P(danger) of every training example
(data/danger/*.yml, plus the ``urgence`` examples of data/nlu/ as positives unless
--no-nlu), then, for each C, the highest threshold that misses no positive in CV and the
false alarms it costs; the keyword net alone and joined to the classifier, for
comparison. Scores are those of nlu.danger_model.DangerModel (the message whole and clause by
clause, ``--segments``/``--combine``, defaults: config.yml's settings). Also reported: recall
and false alarms on data/danger/mixed.yml (danger sentence + question, and their safe
counterparts) and on composites of two held-out-fold examples of one language
(nlu.danger_model.compose: a danger and a safe one, or two safe ones). Prints a table; writes
nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from nlu.danger_model import (
    DANGER,
    NLU_LANG,
    DangerExample,
    DangerModel,
    TextModel,
    compose,
    example_files,
    load_examples,
)
from nlu.emergency import EmergencyMatcher
from project_paths import DATA_DIR, NLU_DATA_DIR

DANGER_DATA_DIR = DATA_DIR / "danger"


def nlu_urgence_examples() -> List[DangerExample]:
    """The ``urgence`` examples of the topic classifier's data, as French positives."""
    import yaml

    path = NLU_DATA_DIR / "urgence.yml"
    out = []
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        if block.get("intent") == "urgence":
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out.append(DangerExample(line[2:].strip(), DANGER, "general", "fr"))
    return out


def nlu_examples() -> List[DangerExample]:
    """What nlu.danger.DangerDetector adds: urgence examples as positives, the other
    intents' examples as safe."""
    import yaml

    out = []
    for path in sorted(NLU_DATA_DIR.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = block.get("intent")
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if intent and line.startswith("- "):
                    danger = intent == "urgence"
                    out.append(
                        DangerExample(
                            line[2:].strip(),
                            DANGER if danger else "safe",
                            "general" if danger else None,
                            NLU_LANG,
                        )
                    )
    return out


def training_examples(with_nlu: bool = True) -> List[DangerExample]:
    examples = load_examples(example_files(DANGER_DATA_DIR))
    if with_nlu:
        known = {e.text.lower() for e in examples}
        examples += [e for e in nlu_examples() if e.text.lower() not in known]
    return examples


def mixed_texts() -> set:
    """Texts of data/danger/mixed.yml (danger sentence + question, safe counterparts)."""
    return (
        {e.text for e in load_examples([DANGER_DATA_DIR / "mixed.yml"])}
        if (DANGER_DATA_DIR / "mixed.yml").is_file()
        else set()
    )


def out_of_fold_scores(
    examples: Sequence[DangerExample], config: Dict, folds: int, seed: int = 42
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold P(danger) of every example, and of composites of two held-out-fold
    examples of one language (scores, danger labels)."""
    from sklearn.model_selection import StratifiedKFold

    strata = np.array([f"{e.lang}-{e.label}" for e in examples])
    scores = np.zeros(len(examples))
    comp_scores: List[float] = []
    comp_labels: List[bool] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(np.zeros(len(examples)), strata)):
        model = DangerModel.fit([examples[i] for i in train], config, 0.5)
        scores[test] = model.scores([examples[i].text for i in test])
        pairs = compose([examples[i] for i in test if examples[i].lang != NLU_LANG], seed=100 + fold)
        comp_scores += list(model.scores([e.text for e in pairs]))
        comp_labels += [e.label == DANGER for e in pairs]
    return scores, np.array(comp_scores), np.array(comp_labels)


def rates(flags: np.ndarray, positive: np.ndarray) -> Dict[str, float]:
    return {"recall": float(flags[positive].mean()), "false_alarms": float(flags[~positive].mean())}


def recall_threshold(scores: np.ndarray, positive: np.ndarray, margin: float = 0.9) -> float:
    """A little under the lowest out-of-fold score of a positive (no missed positive)."""
    return float(scores[positive].min()) * margin


def alarm_threshold(scores: np.ndarray, positive: np.ndarray, rate: float = 0.10) -> float:
    """The lowest threshold whose out-of-fold false alarms stay within ``rate``."""
    negatives = np.sort(scores[~positive])[::-1]
    return float(negatives[int(rate * len(negatives))]) + 1e-6


def case_accuracy(examples: Sequence[DangerExample], config: Dict, folds: int) -> float:
    from sklearn.model_selection import StratifiedKFold

    positives = [e for e in examples if e.label == DANGER]
    cases = np.array([e.case for e in positives])
    right = 0
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    for train, test in splitter.split(np.zeros(len(positives)), cases):
        model = TextModel.fit([positives[i].text for i in train], cases[train], config)
        probs = model.proba([positives[i].text for i in test])
        right += sum(model.classes[int(k)] == cases[i] for k, i in zip(probs.argmax(1), test))
    return right / len(positives)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--C", type=float, nargs="+", default=[3.0, 10.0, 30.0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-nlu", action="store_true", help="without the urgence examples of data/nlu/")
    parser.add_argument("--segments", default="message", choices=["message", "sentences", "clauses"])
    parser.add_argument("--combine", default="max", choices=["max", "mean"])
    args = parser.parse_args(argv)

    examples = training_examples(not args.no_nlu)
    positive = np.array([e.label == DANGER for e in examples])
    fr = np.array([e.lang == "fr" for e in examples])
    print(f"{len(examples)} training examples: {Counter(e.label for e in examples)}; {args.folds}-fold CV")
    matcher = EmergencyMatcher.from_file()
    keywords = np.array([matcher.is_emergency(e.text) for e in examples])
    kw = rates(keywords, positive)
    kw_fr = rates(keywords[fr], positive[fr])
    print(
        f"keyword net alone: recall {kw['recall']:.3f} (fr {kw_fr['recall']:.3f}), "
        f"false alarms {kw['false_alarms']:.3f} (fr {kw_fr['false_alarms']:.3f})"
    )
    print(
        "| C | threshold (no CV miss) | CV false alarms | with keywords: recall at 0.5 | "
        "CV recall / false alarms at 0.5 | threshold at 10 % false alarms: recall |"
    )
    print("|---|---|---|---|---|---|")
    mixed = np.array([e.text in mixed_texts() for e in examples])
    print(f"segments: {args.segments}, combine: {args.combine}")
    for c in args.C:
        config = {"C": c, "segments": args.segments, "combine": args.combine}
        scores, comp_scores, comp_labels = out_of_fold_scores(examples, config, args.folds)
        threshold = recall_threshold(scores, positive)
        at = rates(scores >= threshold, positive)
        half = rates(scores >= 0.5, positive)
        both = rates((scores >= 0.5) | keywords, positive)
        # 10 % of the danger file's own negatives (the topic examples are easy ones)
        own = np.array([e.lang != "nlu" for e in examples])
        ten = alarm_threshold(scores[own], positive[own])
        print(
            f"| {c:g} | {threshold:.3f} | {at['false_alarms']:.3f} | {both['recall']:.3f} | "
            f"{half['recall']:.3f} / {half['false_alarms']:.3f} | {ten:.3f}: "
            f"{rates(scores >= ten, positive)['recall']:.3f} |"
        )
        per_lang = {}
        for lang in sorted({e.lang for e in examples}):
            mask = np.array([e.lang == lang for e in examples])
            per_lang[lang] = rates((scores >= ten)[mask], positive[mask])
        flags = scores >= ten
        print(
            f"    at the 10 % threshold: mixed.yml recall {flags[mixed & positive].mean():.3f}"
            f" / false alarms {flags[mixed & ~positive].mean():.3f}; composites recall "
            f"{(comp_scores[comp_labels] >= ten).mean():.3f} / false alarms "
            f"{(comp_scores[~comp_labels] >= ten).mean():.3f}"
        )
        print(
            "    per language at the 10 % threshold (nlu: the topic data): "
            + ", ".join(f"{k} R={v['recall']:.2f} FA={v['false_alarms']:.2f}" for k, v in per_lang.items())
        )
        print(f"    case accuracy (CV, positives): {case_accuracy(examples, config, args.folds):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
