"""Fixtures of the web widget tests: the real channel in a Sanic app with a fake agent."""

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.launcher import free_port, stop_process

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]


@dataclass
class FakeServer:
    url: str
    tracker_db_url: str
    log_path: Path


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def fake_webchat(tmp_path_factory):
    """The webchat channel and page on a free port, with a fake Rasa agent."""
    tmp = tmp_path_factory.mktemp("webchat")
    port = free_port()
    db_url = f"sqlite:///{tmp / 'tracker.db'}"
    env = dict(os.environ, TRACKER_DB_URL=db_url, PYTHONPATH=str(REPO_ROOT))
    log_path = tmp / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(HERE / "fake_webchat_rasa.py"), str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not _ready(f"{url}/webhooks/socketio/"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            pytest.fail("The fake webchat server did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.2)
    yield FakeServer(url, db_url, log_path)
    stop_process(process)
