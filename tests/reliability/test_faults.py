"""Faults of the running stack: knowledge base unavailable (SQLite file gone, PostgreSQL
stopped), conversation store unavailable, Rasa killed and restarted.

The action server going down is tested in tests/e2e/test_degraded_e2e.py.
All the tests share one private stack (each start costs ~15-40 s); each puts back what
it broke, and the restart comes last.
"""

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from reliability_http import (
    NORMAL_QUESTION,
    NORMAL_TOPIC,
    ask,
    assert_still_answers,
    is_alive,
    launch,
    payloads,
    post_raw,
    texts,
    tracker,
)

from bot.launcher import free_port, stop_process
from project_paths import REPO_ROOT

KB_UNAVAILABLE = yaml.safe_load((REPO_ROOT / "actions" / "messages_fr.yml").read_text(encoding="utf-8"))[
    "base_indisponible"
]
EMERGENCY_QUESTION = "au secours on me frappe"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    stack = launch(tmp)
    stack.tmp = tmp
    yield stack
    stack.stop()


def log_file(stack):
    return dict(stdout=open(stack.log_path, "ab"), stderr=subprocess.STDOUT)


def restart_actions(stack, **env):
    """Restarts the action server (processes[0]) with some variables changed."""
    stop_process(stack.processes[0])
    stack.processes.pop(0)
    stack.env.update(env)
    stack.start_actions(**log_file(stack))
    stack.processes.insert(0, stack.processes.pop())


def actions_healthy(stack):
    with urllib.request.urlopen(f"{stack.actions_url}/health", timeout=10) as reply:
        return reply.status == 200


def assert_kb_unavailable_answer(replies):
    text = texts(replies)
    assert KB_UNAVAILABLE.split(".")[0] in text, replies
    assert "17" in text and "112" in text and "114" in text
    assert payloads(replies) and payloads(replies)[0]["topic"] == "urgence", replies


def test_knowledge_base_file_gone_gives_the_clear_message_then_recovers(stack):
    assert_still_answers(stack, "faults-kb")
    kb = stack.tmp / "knowledge.db"
    away = kb.with_name("knowledge.db.away")
    kb.rename(away)
    try:
        assert_kb_unavailable_answer(ask(stack, "faults-kb", NORMAL_QUESTION))
        # Emergencies do not need the knowledge base.
        assert ask(stack, "faults-kb", EMERGENCY_QUESTION)[0]["text"].startswith("En danger immédiat")
        assert is_alive(stack) and actions_healthy(stack)
    finally:
        away.rename(kb)
    assert_still_answers(stack, "faults-kb")


def test_knowledge_base_on_a_stopped_postgresql_gives_the_clear_message(stack):
    sqlite_url = stack.env["KNOWLEDGE_DB_URL"]
    # Nothing listens on that port: the same as a stopped PostgreSQL server.
    stopped = f"postgresql://assistant@127.0.0.1:{free_port()}/knowledge"
    restart_actions(stack, KNOWLEDGE_DB_URL=stopped)
    try:
        for _ in range(2):  # the second call finds the same, no half-open pool
            assert_kb_unavailable_answer(ask(stack, "faults-pg", NORMAL_QUESTION))
        assert ask(stack, "faults-pg", EMERGENCY_QUESTION)[0]["text"].startswith("En danger immédiat")
        assert is_alive(stack) and actions_healthy(stack)
    finally:
        restart_actions(stack, KNOWLEDGE_DB_URL=sqlite_url)
    assert_still_answers(stack, "faults-pg")


def assert_answered_or_5xx(status, reply, emergency=False):
    """While the conversation store is down, Rasa falls back to an in-memory store
    (FailSafeTrackerStore): the user still gets an answer, without the earlier context.
    An apology with the emergency numbers, or a 5xx with a reason, would also do."""
    if status == 200:
        text = texts(reply)
        assert payloads(reply) and text.strip(), reply
        if emergency:
            assert "17" in text and "112" in text and "114" in text, reply
    else:
        assert 500 <= status < 600 and reply, (status, reply)


def test_conversation_store_unavailable_still_answers_then_recovers(stack):
    sender = "faults-tracker"
    ask(stack, sender, NORMAL_QUESTION)
    before = tracker(stack, sender)
    db = Path(stack.tracker_db_url.replace("sqlite:///", "", 1))
    away = db.with_name("tracker.db.away")

    # 1. The database cannot be opened at all.
    db.rename(away)
    db.mkdir()  # SQLite cannot open a directory: every query fails
    try:
        for question, emergency in ((NORMAL_QUESTION, False), (EMERGENCY_QUESTION, True)):
            status, reply = post_raw(stack, json.dumps({"sender": sender, "message": question}).encode())
            assert_answered_or_5xx(status, reply, emergency)
        assert is_alive(stack)
    finally:
        db.rmdir()
        away.rename(db)

    # 2. Reads work, writes fail (a full disk, a read-only replica): the error that Rasa
    # logs must name neither the sender nor what was written.
    engine = sa.create_engine(stack.tracker_db_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TRIGGER refuse_writes BEFORE INSERT ON events "
                "BEGIN SELECT RAISE(ABORT, 'writes refused'); END"
            )
        )
    secret_sender, secret_text = "faults-write-5b8e", "ma patronne garde mon passeport depuis mars"
    try:
        status, reply = post_raw(
            stack, json.dumps({"sender": secret_sender, "message": secret_text}).encode()
        )
        assert_answered_or_5xx(status, reply)
        assert is_alive(stack)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TRIGGER refuse_writes"))
        engine.dispose()
    log = stack.log_path.read_text(encoding="utf-8", errors="replace")
    assert "writes refused" in log  # the failure was logged...
    assert secret_sender not in log and "passeport depuis mars" not in log  # ...without data

    # Back: the conversation goes on from what the store kept before the outage.
    replies = ask(stack, sender, "/en_savoir_plus")  # "En savoir plus" on the topic asked before
    assert payloads(replies)[0]["topic"] == NORMAL_TOPIC, replies
    after = tracker(stack, sender)
    assert after["events"][: len(before["events"])] == before["events"]


def test_rasa_killed_and_restarted_continues_the_conversations(stack):
    sender = "faults-restart"
    ask(stack, sender, "bonjour")
    ask(stack, sender, NORMAL_QUESTION)
    before = tracker(stack, sender)
    assert before["slots"]["topic"] == NORMAL_TOPIC

    rasa = stack.processes[1]
    os.killpg(rasa.pid, signal.SIGKILL)  # a crash: nothing is flushed on the way out
    rasa.wait(30)
    stack.processes.remove(rasa)
    stack.start_rasa(**log_file(stack))  # same TRACKER_DB_URL

    after = tracker(stack, sender)
    assert after["slots"]["topic"] == NORMAL_TOPIC
    assert after["events"] == before["events"]
    # The conversation goes on where it was: "En savoir plus" knows the topic.
    replies = ask(stack, sender, "/en_savoir_plus")
    assert payloads(replies)[0]["topic"] == NORMAL_TOPIC
    assert "Sources :" in texts(replies)
    assert tracker(stack, sender)["events"][: len(before["events"])] == before["events"]
