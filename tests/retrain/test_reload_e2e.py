"""A new model is loaded into the running Rasa server (PUT /model, what
`make deploy-model` does) while the REST channel keeps answering: no restart, no
failed message, the conversation goes on."""

import shutil
import threading
import time
from pathlib import Path

from rest_client import ask

from bot.launcher import DEFAULT_MODEL, api_token
from retrain import deploy


def topics(replies):
    return [r["custom"]["topic"] for r in replies if "custom" in r]


def test_reloading_a_model_keeps_the_rest_channel_answering(own_stack, tmp_path):
    stack = own_stack()
    pids = [p.pid for p in stack.processes]
    # Another file than the one loaded at start, as a new version would be.
    new_model = tmp_path / "models" / "assistant-20990101T000000Z-0123abcd.tar.gz"
    new_model.parent.mkdir()
    shutil.copy(DEFAULT_MODEL, new_model)
    assert topics(ask(stack, "reload-before", "comment porter plainte ?")) == ["porter-plainte"]

    answers, failures, stop = [], [], threading.Event()

    def keep_asking():
        n = 0
        while not stop.is_set():
            n += 1
            try:
                sent = time.monotonic()
                replies = ask(stack, f"reload-{n % 3}", "bonjour")
                answers.append((sent, time.monotonic(), topics(replies)))
            except Exception as error:  # noqa: BLE001 - any failure is what this test looks for
                failures.append(repr(error))
            time.sleep(0.05)

    asker = threading.Thread(target=keep_asking, daemon=True)
    asker.start()
    try:
        while not answers:
            time.sleep(0.1)
        started = time.monotonic()
        status = deploy.load_model(stack.rasa_url, new_model, api_token())
        loaded = time.monotonic()
        time.sleep(1.0)
    finally:
        stop.set()
        asker.join(timeout=150)

    assert Path(status["model_file"]).name == new_model.name
    assert failures == []
    assert all(t == ["salutation"] for _, _, t in answers)
    assert any(sent < started for sent, _, _ in answers)
    assert any(sent <= loaded and received >= started for sent, received, _ in answers), (
        "no message was in flight during the reload"
    )
    assert any(sent > loaded for sent, _, _ in answers), "no message sent after the reload"
    # Same processes: nothing was restarted, and the conversations go on.
    assert [p.pid for p in stack.processes] == pids and all(p.poll() is None for p in stack.processes)
    assert topics(ask(stack, "reload-before", "et pour avoir des papiers ?"))
    assert all(p.poll() is None for p in stack.processes)


def test_a_wrong_token_or_file_is_refused_and_the_old_model_stays(own_stack, tmp_path):
    stack = own_stack()
    import pytest

    with pytest.raises(deploy.DeployError, match="401"):
        deploy.load_model(stack.rasa_url, DEFAULT_MODEL, "not-the-token")
    with pytest.raises(deploy.DeployError, match="No model file"):
        deploy.load_model(stack.rasa_url, tmp_path / "missing.tar.gz", api_token())
    assert topics(ask(stack, "still", "bonjour")) == ["salutation"]
