"""One Rasa replica of the production profile:

    python -m deploy.rasa_server --port 5005 [other `rasa run` options]

is `rasa run --model $ASSISTANT_MODEL --endpoints deploy/endpoints.prod.yml
--credentials credentials.yml --interface $RASA_INTERFACE --port 5005`: the channels
only, **without Rasa's HTTP API** (/model, /conversations, ...: Rasa 3.6 has no fix for
CVE-2024-49375, model loading through that API). A missing setting is named in one
sentence instead of a stack trace, and the model loaded is logged (its real path).

    python -m deploy.rasa_server --maintenance-api --port 5099

adds the API for a maintenance session (`--enable-api`, token RASA_API_TOKEN, read from
the environment so that it never shows in `ps`); it refuses unless the replica listens
on a loopback address. Production never needs it: the rolling restart checks the REST
channel, and `make deploy-model` is for `make run`.

Environment: ACTION_SERVER_URL, TRACKER_DB_URL, REDIS_HOST, REDIS_PORT, REDIS_DB
(REDIS_PASSWORD when Redis asks for one), ASSISTANT_MODEL (default
models/assistant.tar.gz), RASA_INTERFACE (default 127.0.0.1: only nginx reaches a
replica; 0.0.0.0 in a container).
"""

import ipaddress
import os
import sys
from pathlib import Path
from typing import List, Mapping, Optional

from project_paths import CREDENTIALS_FILE, DEFAULT_MODEL, REPO_ROOT
from secrets_policy import secret_problem

ENDPOINTS = REPO_ROOT / "deploy" / "endpoints.prod.yml"
CREDENTIALS = CREDENTIALS_FILE
REQUIRED = ("ACTION_SERVER_URL", "TRACKER_DB_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB")
MAINTENANCE_FLAG = "--maintenance-api"


class UsageError(ValueError):
    pass


def _loopback(interface: str) -> bool:
    if interface == "localhost":
        return True
    try:
        return ipaddress.ip_address(interface).is_loopback
    except ValueError:
        return False


def rasa_arguments(argv: List[str], env: Mapping[str, str] = os.environ) -> List[str]:
    model = env.get("ASSISTANT_MODEL") or str(DEFAULT_MODEL)
    interface = env.get("RASA_INTERFACE") or "127.0.0.1"
    arguments = [
        "run",
        "--model",
        model,
        "--endpoints",
        str(ENDPOINTS),
        "--credentials",
        str(CREDENTIALS),
        "--interface",
        interface,
    ]
    if MAINTENANCE_FLAG not in argv:
        return arguments + list(argv)
    if not _loopback(interface):
        raise UsageError(
            f"{MAINTENANCE_FLAG}: the API may only listen on a loopback address "
            f"(RASA_INTERFACE is {interface})."
        )
    if not env.get("RASA_API_TOKEN"):
        raise UsageError(f"{MAINTENANCE_FLAG}: set RASA_API_TOKEN.")
    return arguments + [
        "--enable-api",
        *[a for a in argv if a != MAINTENANCE_FLAG],
        "--auth-token=" + env["RASA_API_TOKEN"],
    ]  # "=": a token may start with "-"


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        print(
            f"deploy.rasa_server: set {', '.join(missing)} (see deploy/env/rasa.env.example).",
            file=sys.stderr,
        )
        return 2
    problem = "RASA_API_TOKEN" in os.environ and secret_problem(os.environ["RASA_API_TOKEN"])
    if problem:
        print(
            f"deploy.rasa_server: RASA_API_TOKEN {problem} (see deploy/assistant.env.example).",
            file=sys.stderr,
        )
        return 2
    model = Path(os.environ.get("ASSISTANT_MODEL") or DEFAULT_MODEL)
    if not model.is_file():
        print(f"deploy.rasa_server: no model at {model} (train it with `make train`).", file=sys.stderr)
        return 2
    try:
        arguments = rasa_arguments(argv)
    except UsageError as error:
        print(f"deploy.rasa_server: {error}", file=sys.stderr)
        return 2
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    sys.argv = ["rasa", *arguments]
    os.environ.pop("RASA_API_TOKEN", None)  # Rasa has it now (if at all); nothing else here needs it
    print(
        f"deploy.rasa_server: model {model.resolve()}"
        f"{', maintenance API on' if MAINTENANCE_FLAG in argv else ''}",
        file=sys.stderr,
        flush=True,
    )
    # Imported only now: Rasa (and TensorFlow) read the environment and sys.path set above.
    from rasa.__main__ import main as rasa_main

    from bot import rasa_speedups

    rasa_speedups.apply()
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
