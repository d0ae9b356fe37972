"""`make run` is never silent when a part is down (issue #15 item 4), end to end:
`python -m bot.launcher` on free ports; its action server, then its Rasa server, are
killed; the launcher restarts each one (a log line naming it and its exit code) while
the other keeps serving, and Rasa answers a danger message with the numbers while the
action server is down. SIGTERM to the launcher's process group then leaves no process.
"""

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import List

import pytest
from rest_client import ask, payloads, texts

from bot.launcher import free_port, url_ok
from project_paths import REPO_ROOT

DANGER = "au secours on me frappe"
QUESTION = "comment porter plainte ?"
TOPIC = "porter-plainte"


def children(pid: int) -> List[int]:
    """Every live descendant of `pid` (from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def server_pid(launcher, marker: str) -> int:
    """The launcher's child whose command line holds `marker`."""
    parent = launcher.process.pid
    for pid in children(parent):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline and Path(f"/proc/{pid}/stat").read_text().split()[3] == str(parent):
            return pid
    raise AssertionError(f"no {marker} process under the launcher")


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    # tests/conftest.py's helper, loaded by path (several conftest.py share the name).
    spec = importlib.util.spec_from_file_location("tests_root_conftest", REPO_ROOT / "tests" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    tmp = tmp_path_factory.mktemp("launcher")
    conftest.build_knowledge_db(f"sqlite:///{tmp / 'knowledge.db'}")
    env = dict(
        os.environ,
        RASA_PORT=str(free_port()),
        ACTIONS_PORT=str(free_port()),
        KNOWLEDGE_DB_URL=f"sqlite:///{tmp / 'knowledge.db'}",
        TRACKER_DB_URL=f"sqlite:///{tmp / 'tracker.db'}",
        PYTHONUNBUFFERED="1",
    )
    env.pop("TELEGRAM_BOT_TOKEN", None)
    log_path = tmp / "launcher.log"
    log = open(log_path, "ab")
    # Its own process group, as `make run` in a terminal has.
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.launcher"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    run = SimpleNamespace(
        process=process,
        log_path=log_path,
        rasa_url=f"http://127.0.0.1:{env['RASA_PORT']}",
        actions_url=f"http://127.0.0.1:{env['ACTIONS_PORT']}",
    )
    run.log = lambda: log_path.read_text(errors="replace")
    try:
        wait_for(lambda: "Assistant ready" in run.log() or process.poll() is not None, 300, "the launcher")
        assert process.poll() is None, run.log()[-3000:]
        yield run
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            for pid in children(process.pid):
                os.kill(pid, signal.SIGKILL)


def test_a_killed_action_server_is_restarted_and_rasa_still_answers_danger_meanwhile(launcher):
    assert payloads(ask(launcher, "sup-1", QUESTION))[0]["topic"] == TOPIC
    actions = server_pid(launcher, "rasa_sdk")
    os.killpg(actions, signal.SIGKILL)
    wait_for(lambda: not alive(actions), 10, "the action server to die")
    # While it is down (or restarting): Rasa answers, the danger message with the numbers.
    replies = ask(launcher, "sup-1", DANGER)
    assert "17" in texts(replies) and "112" in texts(replies) and "114" in texts(replies), replies
    wait_for(lambda: "The action server is running again." in launcher.log(), 120, "the restart")
    assert "The action server stopped (exit code -9); restarting it in 1 s." in launcher.log()
    assert server_pid(launcher, "rasa_sdk") != actions
    assert url_ok(f"{launcher.actions_url}/health")
    assert payloads(ask(launcher, "sup-1", QUESTION))[0]["topic"] == TOPIC
    assert launcher.process.poll() is None


def test_a_killed_rasa_server_is_restarted_and_the_action_server_keeps_serving(launcher):
    rasa = server_pid(launcher, "--enable-api")
    actions = server_pid(launcher, "rasa_sdk")
    os.killpg(rasa, signal.SIGKILL)
    wait_for(lambda: "The Rasa server stopped (exit code -9)" in launcher.log(), 10, "the log line")
    assert not url_ok(f"{launcher.rasa_url}/webhooks/rest/")
    assert url_ok(f"{launcher.actions_url}/health")  # the other server kept serving
    wait_for(lambda: "The Rasa server is running again." in launcher.log(), 300, "the restart")
    assert server_pid(launcher, "rasa_sdk") == actions  # not restarted
    replies = ask(launcher, "sup-2", QUESTION)
    assert payloads(replies)[0]["topic"] == TOPIC
    # The log names servers and exit codes, never what users wrote.
    assert "porter plainte" not in launcher.log() and "secours" not in launcher.log()


def test_sigterm_to_the_launchers_process_group_leaves_no_process(launcher):
    servers = children(launcher.process.pid)
    assert len(servers) >= 2
    os.killpg(launcher.process.pid, signal.SIGTERM)
    launcher.process.wait(60)
    wait_for(lambda: not any(alive(pid) for pid in servers), 30, "every server to stop")
    assert not url_ok(f"{launcher.rasa_url}/webhooks/rest/")
    assert not url_ok(f"{launcher.actions_url}/health")
