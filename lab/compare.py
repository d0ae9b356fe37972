"""Compare candidate NLU pipelines on the held-out set.

    python -m lab.compare [lab/pipelines/a.yml ...] [--seeds 42 7 1234] [--out reports]

For every config (default: every lab/pipelines/*.yml) and every seed: trains an NLU-only
model (``rasa train nlu --config <cfg> --nlu <snapshot of data/nlu>``, Rasa's training
cache disabled so that times are real), evaluates it with ``python -m retrain.evaluate``
and collects the figures. The training data is copied once at the start so that every
candidate sees the same examples even if data/nlu changes meanwhile.

Writes reports/nlu_comparison.json and reports/nlu_comparison.md and prints the table.
Seeds: the ``random_seed`` of DIETClassifier and the ``random_state`` of
LogisticRegressionClassifier are overridden with each seed given (default: the value
in the config file, so results reproduce).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from project_paths import CONFIG_FILE, NLU_DATA_DIR, REPO_ROOT

PIPELINES_DIR = REPO_ROOT / "lab" / "pipelines"
DATA_DIR = NLU_DATA_DIR
CHOSEN = CONFIG_FILE

SEED_KEYS = {"DIETClassifier": "random_seed", "LogisticRegressionClassifier": "random_state"}


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["RASA_MAX_CACHE_SIZE"] = "0"  # no training cache: honest, comparable times
    return env


def data_fingerprint(data_dir: Path) -> Dict[str, Any]:
    digest = hashlib.sha256()
    files = sorted(p for p in data_dir.rglob("*.yml"))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    examples = sum(
        1
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("- ") and not line.strip().startswith("- intent:")
    )
    return {"files": len(files), "examples": examples, "sha256": digest.hexdigest()[:16]}


def seeded_config(config_path: Path, seed: Optional[int], out_dir: Path) -> Path:
    if seed is None:
        return config_path
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for component in config.get("pipeline", []):
        key = SEED_KEYS.get(component.get("name"))
        if key:
            component[key] = seed
    path = out_dir / f"{config_path.stem}-seed{seed}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


NORMALIZER = "nlu.components.TextNormalizer"
NORMALIZER_STEPS = ("typography", "repeats", "lowercase", "sms", "accents")


def normalizer_variants(config_path: Path, out_dir: Path) -> List[Path]:
    """Leave-one-out ablation of TextNormalizer's steps on ``config_path``.

    Variants: no normaliser, every step, and every step but one (for each step).
    """
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    base = [c for c in config.get("pipeline", []) if c.get("name") != NORMALIZER]
    variants = {"norm-none": None, "norm-all": {k: True for k in NORMALIZER_STEPS}}
    for step in NORMALIZER_STEPS:
        variants[f"norm-all-minus-{step}"] = {k: k != step for k in NORMALIZER_STEPS}
    paths = []
    for suffix, steps in variants.items():
        pipeline = list(base) if steps is None else [{"name": NORMALIZER, **steps}] + base
        variant = {**config, "pipeline": pipeline}
        path = out_dir / f"{config_path.stem}--{suffix}.yml"
        path.write_text(yaml.safe_dump(variant, sort_keys=False, allow_unicode=True), encoding="utf-8")
        paths.append(path)
    return paths


def train(config: Path, data: Path, out_dir: Path, name: str, log: Path) -> float:
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(data),
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as handle:
        code = subprocess.call(command, cwd=REPO_ROOT, env=_env(), stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"training {config.name} failed (exit {code}), see {log}")
    return seconds


def evaluate(
    model: Path, seconds: float, out_dir: Path, log: Path, data: Path, perturb: bool = False
) -> Dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "retrain.evaluate",
        "--model",
        str(model),
        "--data",
        str(data),
        "--out",
        str(out_dir),
        "--train-seconds",
        f"{seconds:.1f}",
        "--quiet",
    ] + (["--perturb"] if perturb else [])
    with open(log, "a", encoding="utf-8") as handle:
        code = subprocess.call(command, cwd=REPO_ROOT, env=_env(), stdout=handle, stderr=subprocess.STDOUT)
    if code != 0:
        raise RuntimeError(f"evaluating {model.name} failed (exit {code}), see {log}")
    return json.loads((out_dir / "nlu_evaluation.json").read_text(encoding="utf-8"))


def _row(name: str, seed: Optional[int], report: Dict[str, Any]) -> Dict[str, Any]:
    m, res = report["metrics"], report["model"]
    raw = next(
        (
            r
            for r in report.get("threshold_sweep") or []
            if r["threshold"] == 0.0 and r["ambiguity_threshold"] == 0.0
        ),
        {},
    )
    return {
        "raw_accuracy": raw.get("topic_accuracy"),
        "raw_out_of_scope_rejection": raw.get("out_of_scope_rejection"),
        "pipeline": name,
        "seed": seed,
        "topic_accuracy": m["topic_accuracy"],
        "macro_f1": m["macro_f1"],
        "out_of_scope_rejection": m["out_of_scope_rejection"],
        "emergency_recall": m["emergency_recall"],
        "in_scope_fallback_rate": m["in_scope_fallback_rate"],
        "net_false_positives": m["safety_net"]["false_positives"],
        "train_seconds": res["train_seconds"],
        "model_mb": res["model_mb"],
        "parse_ms": report["mean_parse_ms"],
        "perturbed_accuracy": (report.get("perturbed_metrics") or {}).get("topic_accuracy"),
        "perturbed_out_of_scope_rejection": (report.get("perturbed_metrics") or {}).get(
            "out_of_scope_rejection"
        ),
    }


def _fmt(v: Optional[float], pct: bool = True) -> str:
    if v is None:
        return "n/a"
    return f"{100 * v:.1f}" if pct else f"{v:.3f}"


def _mean(values: List[float]) -> float:
    return statistics.mean(values)


def aggregate(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One line per pipeline: mean (and spread when several seeds)."""
    by_name: Dict[str, List[Dict[str, Any]]] = {}
    for row in rows:
        by_name.setdefault(row["pipeline"], []).append(row)
    out = []
    for name, group in by_name.items():
        agg: Dict[str, Any] = {"pipeline": name, "seeds": [r["seed"] for r in group]}
        for key in (
            "raw_accuracy",
            "raw_out_of_scope_rejection",
            "topic_accuracy",
            "macro_f1",
            "out_of_scope_rejection",
            "emergency_recall",
            "in_scope_fallback_rate",
            "net_false_positives",
            "train_seconds",
            "model_mb",
            "parse_ms",
            "perturbed_accuracy",
            "perturbed_out_of_scope_rejection",
        ):
            values = [r[key] for r in group if r[key] is not None]
            agg[key] = _mean(values) if values else None
            agg[f"{key}_min"] = min(values) if values else None
            agg[f"{key}_max"] = max(values) if values else None
        out.append(agg)
    return out


def to_markdown(aggregated: List[Dict[str, Any]], fingerprint: Dict[str, Any], n_heldout: int) -> str:
    lines = [
        f"Training data: {fingerprint['examples']} examples in {fingerprint['files']} files "
        f"(sha256 {fingerprint['sha256']}); held-out: {n_heldout} examples. "
        f"Figures in %; mean over seeds {aggregated[0]['seeds'] if aggregated else []}"
        " (min–max when several). Raw = the classifier alone (no fallback threshold);"
        " the other quality columns use each config's FallbackClassifier thresholds and the"
        " emergency net.",
        "",
        "| pipeline | raw accuracy | raw OOS rej. | topic accuracy | macro-F1 | OOS rejection | emergency recall | in-scope fallback | net FP | train (s) | model (MB) | parse (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(a: Dict[str, Any], key: str, pct: bool = True) -> str:
        v, lo, hi = a[key], a[f"{key}_min"], a[f"{key}_max"]
        if v is None:
            return "n/a"
        if pct:
            text = f"{100 * v:.1f}"
            if len(a["seeds"]) > 1 and hi != lo:
                text += f" ({100 * lo:.1f}–{100 * hi:.1f})"
            return text
        return (
            f"{v:.3f}"
            if key == "macro_f1"
            else f"{v:.0f}"
            if key == "train_seconds"
            else f"{v:g}"
            if isinstance(v, int)
            else f"{v:.1f}"
        )

    with_perturbed = any(a.get("perturbed_accuracy") is not None for a in aggregated)
    if with_perturbed:
        lines[2] += " phone-style accuracy | phone-style OOS rej. |"
        lines[3] += "---|---|"
    for a in aggregated:
        extra = (
            f" {cell(a, 'perturbed_accuracy')} | {cell(a, 'perturbed_out_of_scope_rejection')} |"
            if with_perturbed
            else ""
        )
        lines.append(
            f"| {a['pipeline']} | {cell(a, 'raw_accuracy')} | {cell(a, 'raw_out_of_scope_rejection')} | {cell(a, 'topic_accuracy')} | {cell(a, 'macro_f1', False)} "
            f"| {cell(a, 'out_of_scope_rejection')} | {cell(a, 'emergency_recall')} "
            f"| {cell(a, 'in_scope_fallback_rate')} | {cell(a, 'net_false_positives', False)} "
            f"| {cell(a, 'train_seconds', False)} | {cell(a, 'model_mb', False)} | {cell(a, 'parse_ms', False)} |"
            + extra
        )
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Train and evaluate candidate NLU pipelines.")
    parser.add_argument("configs", nargs="*", help="config files (default: lab/pipelines/*.yml)")
    parser.add_argument(
        "--seeds",
        nargs="*",
        type=int,
        default=None,
        help="override the classifier seeds (default: the config's own)",
    )
    parser.add_argument("--data", default=str(DATA_DIR))
    parser.add_argument("--out", default=str(REPO_ROOT / "reports"))
    parser.add_argument("--keep-models", action="store_true")
    parser.add_argument(
        "--perturb", action="store_true", help="also evaluate on phone-style variants of the held-out set"
    )
    parser.add_argument(
        "--normalizer-ablation",
        action="store_true",
        help="run each config as leave-one-out variants of TextNormalizer",
    )
    args = parser.parse_args(argv)

    configs = [Path(c) for c in args.configs] or sorted(PIPELINES_DIR.glob("*.yml"))
    seeds: List[Optional[int]] = list(args.seeds) if args.seeds else [None]
    out = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix="nlu_compare_"))
    data = work / "data"
    shutil.copytree(args.data, data)
    fingerprint = data_fingerprint(data)
    if args.normalizer_ablation:
        variants_dir = out / "compare" / "configs"
        variants_dir.mkdir(parents=True, exist_ok=True)
        configs = [v for c in configs for v in normalizer_variants(c, variants_dir)]
    print(f"Data snapshot: {fingerprint}", flush=True)

    rows: List[Dict[str, Any]] = []
    n_heldout = 0
    try:
        for config in configs:
            for seed in seeds:
                name = "chosen: config.yml" if config.resolve() == CHOSEN else config.stem
                tag = config.stem if seed is None else f"{config.stem}-seed{seed}"
                cfg = seeded_config(config, seed, work)
                run_dir = out / "compare" / tag
                run_dir.mkdir(parents=True, exist_ok=True)
                log = run_dir / "run.log"
                try:
                    model_dir = work / "models" / tag
                    seconds = train(cfg, data, model_dir, "model", log)
                    models = sorted(model_dir.glob("*.tar.gz"))
                    if not models:
                        raise RuntimeError(f"no model written in {model_dir}")
                    report = evaluate(models[-1], seconds, run_dir, log, data)
                    if args.perturb:
                        perturbed = evaluate(models[-1], seconds, run_dir / "perturbed", log, data, True)
                        report["perturbed_metrics"] = perturbed["metrics"]
                except RuntimeError as error:
                    print(f"{tag}: FAILED ({error})", flush=True)
                    continue
                n_heldout = report["metrics"]["examples"]
                row = _row(name, seed, report)
                rows.append(row)
                print(
                    f"{tag}: acc {_fmt(row['topic_accuracy'])} f1 {_fmt(row['macro_f1'], False)} "
                    f"oos {_fmt(row['out_of_scope_rejection'])} urg {_fmt(row['emergency_recall'])} "
                    f"train {row['train_seconds']:.0f}s size {row['model_mb']}MB",
                    flush=True,
                )
                if not args.keep_models:
                    shutil.rmtree(model_dir, ignore_errors=True)
    finally:
        aggregated = aggregate(rows)
        table = to_markdown(aggregated, fingerprint, n_heldout) if rows else "No result.\n"
        out.mkdir(parents=True, exist_ok=True)
        (out / "nlu_comparison.json").write_text(
            json.dumps({"data": fingerprint, "runs": rows, "aggregated": aggregated}, indent=2),
            encoding="utf-8",
        )
        (out / "nlu_comparison.md").write_text("# NLU pipeline comparison\n\n" + table, encoding="utf-8")
        print(table)
        if not args.keep_models:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"Models kept in {work / 'models'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
