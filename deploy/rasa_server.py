"""One Rasa replica of the production profile:

    python -m deploy.rasa_server --port 5005 [other `rasa run` options]

is `rasa run --model $ASSISTANT_MODEL --endpoints deploy/endpoints.prod.yml
--credentials credentials.yml --enable-api --auth-token=$RASA_API_TOKEN
--interface $RASA_INTERFACE --port 5005`, with two differences: the API token is read
from the environment, so it never shows in the process list (`ps`), and a missing
setting is named in one sentence instead of a stack trace.

Environment: RASA_API_TOKEN, ACTION_SERVER_URL, TRACKER_DB_URL, REDIS_HOST, REDIS_PORT,
REDIS_DB (REDIS_PASSWORD when Redis asks for one), ASSISTANT_MODEL (default
models/assistant.tar.gz), RASA_INTERFACE (default 127.0.0.1: only nginx and local tools
reach a replica; 0.0.0.0 in a container).
"""
import os
import sys
from pathlib import Path
from typing import List, Optional
from project_paths import CREDENTIALS_FILE, DEFAULT_MODEL, REPO_ROOT
from secrets_policy import secret_problem

ENDPOINTS = REPO_ROOT / "deploy" / "endpoints.prod.yml"
CREDENTIALS = CREDENTIALS_FILE
REQUIRED = ("RASA_API_TOKEN", "ACTION_SERVER_URL", "TRACKER_DB_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB")


def rasa_arguments(argv: List[str], env=os.environ) -> List[str]:
    model = env.get("ASSISTANT_MODEL") or str(DEFAULT_MODEL)
    return [
        "run", "--model", model,
        "--endpoints", str(ENDPOINTS), "--credentials", str(CREDENTIALS),
        "--enable-api", "--interface", env.get("RASA_INTERFACE") or "127.0.0.1",
        *argv,
        "--auth-token=" + env["RASA_API_TOKEN"],  # "=": a token may start with "-"
    ]


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        print(f"deploy.rasa_server: set {', '.join(missing)} (see deploy/assistant.env.example).",
              file=sys.stderr)
        return 2
    problem = "RASA_API_TOKEN" in os.environ and secret_problem(os.environ["RASA_API_TOKEN"])
    if problem:
        print(f"deploy.rasa_server: RASA_API_TOKEN {problem} (see deploy/assistant.env.example).",
              file=sys.stderr)
        return 2
    model = Path(os.environ.get("ASSISTANT_MODEL") or DEFAULT_MODEL)
    if not model.is_file():
        print(f"deploy.rasa_server: no model at {model} (train it with `make train`).", file=sys.stderr)
        return 2
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    sys.argv = ["rasa", *rasa_arguments(argv)]
    del os.environ["RASA_API_TOKEN"]  # Rasa has it now; nothing else in this process needs it
    from rasa.__main__ import main as rasa_main

    from bot import rasa_speedups

    rasa_speedups.apply()
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
