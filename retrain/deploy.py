"""`make deploy-model`: loads a model into the running Rasa server, without a restart.

    python -m retrain.deploy [--model FILE] [--url http://localhost:5005] [--force]

Uses Rasa's HTTP API: ``PUT /model {"model_file": <absolute path>}`` with the API
token (RASA_API_TOKEN, or var/rasa_api_token: bot.launcher.api_token()), then checks
``GET /status``. The server swaps its agent once the new model is loaded; the
channels (REST, web widget) and the Telegram front keep running: messages that
arrive while the model loads wait a few seconds and are answered (by the new model).
The server must be able to read the file (same machine, or the same path mounted).

By default it deploys the current model of models/registry.json (the versioned file
that models/assistant.tar.gz is a copy of) and refuses a model whose regression gate
failed (reports/regression.json) unless --force. The deployment is recorded in the
registry (``deployed``), which makes it the baseline of the next ``make evaluate``.

If the API is not enabled, restarting `make run` (Ctrl-C, then `make run`) loads
models/assistant.tar.gz too, with a short interruption.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.launcher import api_token
from project_paths import REPO_ROOT
from retrain import models as registry_module

LOAD_TIMEOUT_SECONDS = 600


class DeployError(RuntimeError):
    pass


def _request(method: str, url: str, body: Optional[dict] = None, timeout: float = 30) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            raw = reply.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:500]
        raise DeployError(
            f"{method} {urllib.parse.urlsplit(url).path} answered {error.code}: {detail}"
        ) from None
    except OSError as error:
        raise DeployError(f"Rasa is not reachable at {url.split('?')[0]}: {error}") from None


def load_model(
    rasa_url: str, model: Path, token: str, timeout: float = LOAD_TIMEOUT_SECONDS
) -> Dict[str, Any]:
    """Asks the server to load the model; returns its /status once it has."""
    model = Path(model).resolve()
    if not model.is_file():
        raise DeployError(f"No model file at {model}")
    query = urllib.parse.urlencode({"token": token})
    base = rasa_url.rstrip("/")
    _request("PUT", f"{base}/model?{query}", {"model_file": str(model)}, timeout=timeout)
    status = _request("GET", f"{base}/status?{query}")
    if Path(str(status.get("model_file", ""))).name != model.name:
        raise DeployError(f"The server reports model {status.get('model_file')!r}, not {model.name}")
    return status


def gate_failed(model: Path, reports: Path) -> Optional[List[str]]:
    """The reasons of a failed regression gate for this very model, if any."""
    path = Path(reports) / "regression.json"
    if not path.is_file():
        return None
    verdict = json.loads(path.read_text(encoding="utf-8"))
    if verdict.get("candidate_sha256") != registry_module.file_sha256(model) or verdict.get("passed"):
        return None
    return verdict.get("reasons") or ["regression gate failed"]


def default_url() -> str:
    return os.environ.get("RASA_URL") or f"http://localhost:{os.environ.get('RASA_PORT', '5005')}"


def deploy(
    model: Path, rasa_url: str, token: str, models_dir: Path = registry_module.MODELS_DIR
) -> Dict[str, Any]:
    """Loads the model into the server and records the deployment in the registry."""
    status = load_model(rasa_url, model, token)
    registry = registry_module.load_registry(models_dir)
    known = next(
        (m["file"] for m in registry["models"] if m.get("sha256") == registry_module.file_sha256(model)), None
    )
    if known is not None:
        registry["deployed"] = {
            "file": known,
            "url": rasa_url,
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        registry_module.save_registry(registry, models_dir)
    return status


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retrain.deploy", description="Load a model into the running Rasa server."
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="model file (default: the current model of models/registry.json)",
    )
    parser.add_argument(
        "--url", default=default_url(), help="Rasa server (default: RASA_URL or localhost:RASA_PORT)"
    )
    parser.add_argument("--reports", type=Path, default=REPO_ROOT / "reports")
    parser.add_argument("--force", action="store_true", help="deploy even if the regression gate failed")
    args = parser.parse_args(argv)

    registry = registry_module.load_registry()
    model = (
        args.model
        or registry_module.model_path(registry, "current")
        or (registry_module.MODELS_DIR / registry_module.ALIAS)
    )
    if not Path(model).is_file():
        print(f"No model at {model}: run `make train` first.", file=sys.stderr)
        return 1
    reasons = gate_failed(Path(model), args.reports)
    if reasons and not args.force:
        print(
            "Not deployed: the regression gate failed for this model: " + "; ".join(reasons), file=sys.stderr
        )
        print("Fix and retrain, or deploy anyway with FORCE=1 (make deploy-model FORCE=1).", file=sys.stderr)
        return 1
    try:
        status = deploy(Path(model), args.url, api_token())
    except DeployError as error:
        print(f"Not deployed: {error}", file=sys.stderr)
        return 1
    print(f"Rasa at {args.url} now runs {Path(status['model_file']).name} (model id {status['model_id']}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
