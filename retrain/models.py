"""Versioned models: `make train` (and rollback) keep a registry of what was trained.

    python -m retrain.models train [--force]   # what `make train` runs
    python -m retrain.models status
    python -m retrain.models rollback          # the previous model becomes current again

Every training writes ``models/assistant-<UTC time>-<inputs hash>.tar.gz`` (e.g.
``assistant-20261126T181500Z-1a2b3c4d.tar.gz``); the hash covers the files the model
is trained from (config.yml, domain.yml, data/ and its subfolders, the NLU code of
nlu/*.py and nlu/*.yml, requirements.lock: what `make train` watches). The model in
use is copied to ``models/assistant.tar.gz`` (the path the launcher, the tests and
``make run`` load), and ``models/registry.json`` records::

    {"current": "<file>", "previous": "<file>", "deployed": {"file", "at", "url"} | null,
     "models": [{"file", "created_at", "inputs_sha256", "sha256", "train_seconds", "config"}]}

Training is skipped (the copy is only touched, for make) when the inputs hash equals the
current model's. ``models/train_info.json`` (wall time, read by ``retrain.evaluate``) is
written by ``retrain.train_info``. The last KEEP models (and the current, previous and
deployed ones) are kept; older files are deleted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from project_paths import CONFIG_FILE, DATA_DIR, DOMAIN_FILE, MODELS_DIR, NLU_CODE_DIR, REPO_ROOT
from retrain.train_info import write_info

ALIAS = "assistant.tar.gz"
REGISTRY = "registry.json"
TRAIN_INFO = "train_info.json"
NAME = "assistant"
KEEP = 5

DEFAULT_CONFIG = CONFIG_FILE
DEFAULT_DOMAIN = DOMAIN_FILE
DEFAULT_DATA = (DATA_DIR,)

Runner = Callable[[List[str], Dict[str, str]], int]


def default_inputs(
    config: Path = DEFAULT_CONFIG,
    domain: Path = DEFAULT_DOMAIN,
    data: Sequence[Path] = DEFAULT_DATA,
    code_dir: Optional[Path] = NLU_CODE_DIR,
    lock_file: Optional[Path] = REPO_ROOT / "requirements.lock",
) -> List[Path]:
    """The files a model is trained from (the prerequisites of the Makefile's $(MODEL):
    configuration, domain, data, NLU code, and the library versions)."""
    files = [Path(config), Path(domain)]
    for folder in data:
        files += sorted(Path(folder).rglob("*.yml"))
    if code_dir is not None:
        files += sorted(Path(code_dir).glob("*.py")) + sorted(Path(code_dir).glob("*.yml"))
    if lock_file is not None and Path(lock_file).is_file():
        files.append(Path(lock_file))
    return files


def _label(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def inputs_digest(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted({Path(f).resolve() for f in files}):
        digest.update(_label(path).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def utc_stamp(moment: Optional[float] = None) -> str:
    return dt.datetime.fromtimestamp(moment if moment is not None else time.time(), dt.timezone.utc).strftime(
        "%Y%m%dT%H%M%SZ"
    )


# --- registry -------------------------------------------------------------------------


def load_registry(models_dir: Path = MODELS_DIR) -> Dict[str, Any]:
    path = Path(models_dir) / REGISTRY
    if path.exists():
        registry = json.loads(path.read_text(encoding="utf-8"))
    else:
        registry = {}
    registry.setdefault("current", None)
    registry.setdefault("previous", None)
    registry.setdefault("deployed", None)
    registry.setdefault("models", [])
    return registry


def save_registry(registry: Dict[str, Any], models_dir: Path = MODELS_DIR) -> None:
    path = Path(models_dir) / REGISTRY
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{REGISTRY}.tmp")
    tmp.write_text(json.dumps(registry, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def record(registry: Dict[str, Any], file: Optional[str]) -> Optional[Dict[str, Any]]:
    return next((m for m in registry["models"] if m["file"] == file), None) if file else None


def model_path(registry: Dict[str, Any], role: str, models_dir: Path = MODELS_DIR) -> Optional[Path]:
    """The file of the current / previous / deployed model, if it still exists."""
    value = registry.get(role)
    name = value.get("file") if isinstance(value, dict) else value
    path = Path(models_dir) / name if name else None
    return path if path is not None and path.is_file() else None


def _install(source: Path, alias: Path, touch: bool) -> None:
    """Copies a versioned model to the alias atomically (a running server that is
    reading the old file keeps reading a whole file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{alias.name}.", dir=alias.parent)
    os.close(fd)
    try:
        shutil.copy2(source, tmp)
        os.replace(tmp, alias)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if touch:
        os.utime(alias)


def _adopt_unregistered(registry: Dict[str, Any], models_dir: Path, name: str) -> None:
    """A models/assistant.tar.gz the registry does not know (trained before versioning,
    or copied by hand) becomes a versioned model, so that it can be compared and
    rolled back to."""
    alias = Path(models_dir) / ALIAS
    if not alias.is_file():
        return
    current = record(registry, registry["current"])
    sha = file_sha256(alias)
    if current is not None and current.get("sha256") == sha and model_path(registry, "current", models_dir):
        return
    known = next(
        (
            m
            for m in registry["models"]
            if m.get("sha256") == sha and (Path(models_dir) / m["file"]).is_file()
        ),
        None,
    )
    if known is None:
        file = f"{name}-{utc_stamp(alias.stat().st_mtime)}-unknown.tar.gz"
        shutil.copy2(alias, Path(models_dir) / file)
        known = {
            "file": file,
            "created_at": dt.datetime.fromtimestamp(alias.stat().st_mtime, dt.timezone.utc).isoformat(
                timespec="seconds"
            ),
            "inputs_sha256": None,
            "sha256": sha,
            "train_seconds": None,
            "config": None,
        }
        registry["models"].append(known)
    if registry["current"] != known["file"]:
        registry["previous"], registry["current"] = registry["current"], known["file"]


def _prune(registry: Dict[str, Any], models_dir: Path, keep: int) -> None:
    protected = {
        registry.get("current"),
        registry.get("previous"),
        (registry.get("deployed") or {}).get("file"),
    }
    ordered = sorted(registry["models"], key=lambda m: m["created_at"], reverse=True)
    kept = []
    for index, model in enumerate(ordered):
        if index < keep or model["file"] in protected:
            kept.append(model)
        else:
            path = Path(models_dir) / model["file"]
            if path.exists():
                path.unlink()
    registry["models"] = sorted(kept, key=lambda m: m["created_at"])


# --- training -------------------------------------------------------------------------


def _run(command: List[str], env: Dict[str, str]) -> int:
    return subprocess.call(command, env=env)


def train_command(config: Path, domain: Path, data: Sequence[Path], out: Path, stem: str) -> List[str]:
    return [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        str(config),
        "--domain",
        str(domain),
        "--data",
        *map(str, data),
        "--out",
        str(out),
        "--fixed-model-name",
        stem,
        "--force",
        "--quiet",
    ]


def train(
    config: Path = DEFAULT_CONFIG,
    domain: Path = DEFAULT_DOMAIN,
    data: Sequence[Path] = DEFAULT_DATA,
    models_dir: Path = MODELS_DIR,
    inputs: Optional[Sequence[Path]] = None,
    force: bool = False,
    name: str = NAME,
    keep: int = KEEP,
    runner: Runner = _run,
    env: Optional[Dict[str, str]] = None,
) -> Tuple[Dict[str, Any], bool]:
    """Trains a new versioned model and makes it current; returns its registry record
    and whether a training happened (False: the inputs did not change)."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    inputs = list(inputs) if inputs is not None else default_inputs(config, domain, data)
    digest = inputs_digest(inputs)
    registry = load_registry(models_dir)
    _adopt_unregistered(registry, models_dir, name)
    alias = models_dir / ALIAS

    current = record(registry, registry["current"])
    current_file = model_path(registry, "current", models_dir)
    if not force and current is not None and current.get("inputs_sha256") == digest and current_file:
        # Up to date: (re)install the copy and touch it, so that make sees a fresh target.
        if not alias.is_file():
            _install(current_file, alias, touch=True)
        os.utime(alias)
        save_registry(registry, models_dir)
        return current, False

    started = time.time()
    stem = f"{name}-{utc_stamp(started)}-{digest[:8]}"
    if (models_dir / f"{stem}.tar.gz").exists():  # forced twice within a second
        stem = next(f"{stem}-{n}" for n in range(2, 1000) if not (models_dir / f"{stem}-{n}.tar.gz").exists())
    command = train_command(config, domain, data, models_dir, stem)
    run_env = dict(env if env is not None else os.environ)
    run_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), run_env.get("PYTHONPATH")]))
    run_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    run_env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    code = runner(command, run_env)
    produced = models_dir / f"{stem}.tar.gz"
    if code != 0 or not produced.is_file():
        raise RuntimeError(f"Training failed (exit code {code}); the current model is unchanged.")
    seconds = round(time.time() - started, 1)

    new = {
        "file": produced.name,
        "created_at": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs_sha256": digest,
        "sha256": file_sha256(produced),
        "train_seconds": seconds,
        "config": _label(Path(config)),
    }
    registry["models"].append(new)
    registry["previous"], registry["current"] = registry["current"], new["file"]
    _install(produced, alias, touch=False)
    _prune(registry, models_dir, keep)
    save_registry(registry, models_dir)

    write_info(models_dir / TRAIN_INFO, seconds, command)
    return new, True


def rollback(models_dir: Path = MODELS_DIR) -> Dict[str, Any]:
    """The previous model becomes current (and models/assistant.tar.gz) again."""
    models_dir = Path(models_dir)
    registry = load_registry(models_dir)
    previous = model_path(registry, "previous", models_dir)
    if previous is None:
        raise RuntimeError("No previous model to roll back to.")
    _install(previous, models_dir / ALIAS, touch=True)
    registry["current"], registry["previous"] = registry["previous"], registry["current"]
    save_registry(registry, models_dir)
    return record(registry, registry["current"])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrain.models", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train", help="train a new versioned model if the inputs changed")
    t.add_argument("--force", action="store_true", help="train even if the inputs did not change")
    t.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    t.add_argument("--models", type=Path, default=MODELS_DIR)
    commands.add_parser("status", help="current, previous and deployed models")
    commands.add_parser("rollback", help="make the previous model current again")
    args = parser.parse_args(argv)

    if args.command == "train":
        try:
            model, trained = train(config=args.config, models_dir=args.models, force=args.force)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        if trained:
            print(
                f"Trained {model['file']} in {model['train_seconds']:.0f} s; "
                f"it is now {_label(args.models / ALIAS)}. Next: make evaluate"
            )
        else:
            print(f"Model up to date ({model['file']}).")
        return 0
    if args.command == "rollback":
        try:
            model = rollback()
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"Current model is {model['file']} again (models/{ALIAS}). Deploy it with: make deploy-model")
        return 0
    registry = load_registry()
    deployed = registry.get("deployed") or {}
    print(f"current:  {registry['current']}")
    print(f"previous: {registry['previous']}")
    print(
        f"deployed: {deployed.get('file')} {('at ' + deployed['at']) if deployed.get('at') else ''}".rstrip()
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
