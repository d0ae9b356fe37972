"""Shared fixtures: the real assistant (action server + Rasa server) on free ports,
with its own SQLite knowledge and conversation databases."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.launcher import Stack, free_port, start_stack
from project_paths import DEFAULT_MODEL, REPO_ROOT


def build_knowledge_db(url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "knowledge", "load", "--db", url],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )


def launch(tmp: Path, model: Path = DEFAULT_MODEL, **extra_env) -> Stack:
    """Starts a fresh stack whose logs go to tmp/servers.log."""
    if not model.exists():
        pytest.fail(f"No trained model at {model}: run `make train` (make test does it).")
    knowledge_url = extra_env.pop("KNOWLEDGE_DB_URL", None) or f"sqlite:///{tmp / 'knowledge.db'}"
    if knowledge_url.startswith("sqlite") and not (tmp / "knowledge.db").exists():
        build_knowledge_db(knowledge_url)
    env = {
        "KNOWLEDGE_DB_URL": knowledge_url,
        "TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.db'}",
        **extra_env,
    }
    log = open(tmp / "servers.log", "ab")
    try:
        stack = start_stack(free_port(), free_port(), env, model=model, stdout=log, stderr=subprocess.STDOUT)
    except RuntimeError as error:
        tail = (tmp / "servers.log").read_text(errors="replace")[-4000:]
        pytest.fail(f"{error}\n--- server log (end) ---\n{tail}")
    stack.log_path = tmp / "servers.log"
    return stack


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory):
    """One running assistant shared by the end-to-end tests that do not stop it."""
    stack = launch(tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()


@pytest.fixture
def own_stack(tmp_path):
    """A private assistant for tests that stop or break its servers (or load another model)."""
    stacks = []

    def start(model: Path = DEFAULT_MODEL, **extra_env) -> Stack:
        stacks.append(launch(tmp_path, model=model, **extra_env))
        return stacks[-1]

    yield start
    for stack in stacks:
        stack.stop()
