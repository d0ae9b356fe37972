"""The production profile end to end: two Rasa replicas behind nginx, conversations in
PostgreSQL, the Redis lock store, two action servers behind their own upstream.

The tests run in file order on one profile (fixture `prod`, conftest.py); the last one
stops a replica.
"""
import asyncio
import concurrent.futures
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import redis
import websockets

from bot.launcher import api_token, spawn, stop_process
from knowledge.content import load_content
from project_paths import REPO_ROOT, DEFAULT_MODEL

TELEGRAM_TESTS = Path(__file__).resolve().parents[1] / "telegram"
TITRE = "est-ce que je peux avoir un titre de séjour si je porte plainte ?"
PLAINTE = "comment porter plainte ?"
MORE = "en savoir plus"
TOPICS = {topic.id: topic for topic in load_content()}
# Conversations of earlier tests, checked again after a replica is stopped.
EARLIER: Dict[str, int] = {}


# --------------------------------------------------------------------------- helpers
def http(url: str, data: bytes = None, headers: Dict[str, str] = None, timeout: float = 60) -> Tuple[int, bytes, Dict]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read(), dict(reply.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def say(base: str, sender: str, text: str) -> List[dict]:
    status, body, _ = http(f"{base}/webhooks/rest/webhook",
                           json.dumps({"sender": sender, "message": text}).encode(),
                           {"Content-Type": "application/json"})
    assert status == 200, (status, body[:300])
    return json.loads(body)


def payload(replies: List[dict]) -> dict:
    payloads = [r["custom"] for r in replies if "custom" in r]
    assert len(payloads) == 1, replies
    return payloads[0]


def texts(replies: List[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def tracker(stack, sender: str, replica: int = 0) -> dict:
    status, body, _ = http(f"{stack.replica_url(replica)}/conversations/{sender}/tracker?token={api_token()}")
    assert status == 200, body[:300]
    return json.loads(body)


def turns(events: List[dict]) -> List[Tuple[dict, List[dict]]]:
    """(user event, events up to the next user event), checking that every turn ends
    by listening again."""
    result = []
    for event in events:
        if event["event"] == "user":
            result.append((event, []))
        elif result:
            result[-1][1].append(event)
    for user, rest in result:
        actions = [e["name"] for e in rest if e["event"] == "action"]
        assert actions and actions[-1] == "action_listen", (user["text"], actions)
    return result


def access_log(stack) -> List[str]:
    return (stack.log_dir / "assistant-access.log").read_text().splitlines()


def upstreams(lines: List[str], path: str) -> List[str]:
    """The replica (last upstream tried) of each request to `path`."""
    found = []
    for line in lines:
        parts = line.split()
        if len(parts) > 2 and parts[2] == path:
            upstream = line.split("upstream=")[1].split(" upstream_status=")[0]
            found.append(upstream.split(", ")[-1])
    return found


def sender() -> str:
    return f"prod-{secrets.token_hex(6)}"


def details_start(topic_id: str) -> str:
    return TOPICS[topic_id].details.strip().split("\n")[0][:50]


# --------------------------------------------------------------------------- tests
def test_nginx_exposes_the_channels_and_hides_rasas_api(prod):
    base = prod.public_url
    status, body, headers = http(f"{base}/webchat/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert http(f"{base}/webchat/static/page.js")[0] == 200
    assert http(f"{base}/healthz")[0] == 200
    status, body, _ = http(f"{base}/socket.io/?EIO=4&transport=polling")
    assert status == 200 and body.startswith(b"0{") and b'"sid"' in body  # engine.io open packet

    token = api_token()
    for path in ("/", "/status", "/version", "/model", "/domain", "/conversations/x/tracker"):
        assert http(f"{base}{path}?token={token}")[0] == 404, path
    assert http(f"{base}/model?token={token}", b"{}", {"Content-Type": "application/json"})[0] == 404
    # The API exists on the replicas' loopback ports, with the token.
    assert http(f"{prod.replica_url(0)}/status?token={token}")[0] == 200
    assert http(f"{prod.replica_url(0)}/status")[0] == 401


def test_alternating_replicas_keep_the_context_and_the_order(prod):
    user = sender()
    sent = []

    def at(replica: int, text: str) -> List[dict]:
        sent.append(text)
        return say(prod.replica_url(replica), user, text)

    # The topic answered on replica 1 is the one replica 2 details, and back.
    assert payload(at(0, TITRE))["topic"] == "titre-sejour"
    replies = at(1, MORE)
    assert payload(replies)["topic"] == "titre-sejour"
    assert details_start("titre-sejour") in texts(replies) and "Sources :" in texts(replies)
    assert payload(at(1, PLAINTE))["topic"] == "porter-plainte"
    replies = at(0, MORE)
    assert payload(replies)["topic"] == "porter-plainte"
    assert details_start("porter-plainte") in texts(replies)

    # The same through nginx, whose round robin alternates the replicas.
    before = len(access_log(prod))
    assert payload(say(prod.public_url, user, TITRE))["topic"] == "titre-sejour"
    replies = say(prod.public_url, user, MORE)
    assert payload(replies)["topic"] == "titre-sejour"
    assert details_start("titre-sejour") in texts(replies)
    sent += [TITRE, MORE]
    time.sleep(0.5)  # nginx writes its log line after the reply
    served_by = upstreams(access_log(prod)[before:], "/webhooks/rest/webhook")
    assert len(served_by) == 2 and served_by[0] != served_by[1], served_by

    events = tracker(prod, user, 0)["events"]
    assert events == tracker(prod, user, 1)["events"]
    assert [u["text"] for u, _ in turns(events)] == sent
    timestamps = [e["timestamp"] for e in events]
    assert timestamps == sorted(timestamps)
    EARLIER[user] = len(events)


def test_concurrent_messages_of_one_user_are_serialised(prod):
    user = sender()
    messages = ["bonjour", PLAINTE, TITRE, "j'ai besoin d'un avocat", "merci"]
    barrier = threading.Barrier(len(messages))

    def send(i: int) -> List[dict]:
        barrier.wait()
        return say(prod.replica_url(i % 2), user, messages[i])  # both replicas at once

    with concurrent.futures.ThreadPoolExecutor(len(messages)) as pool:
        replies = list(pool.map(send, range(len(messages))))

    events = tracker(prod, user)["events"]
    user_turns = turns(events)
    assert sorted(u["text"] for u, _ in user_turns) == sorted(messages)  # each once
    by_text = {}
    for user_event, rest in user_turns:
        bots = [e for e in rest if e["event"] == "bot"]
        assert bots, f"no reply to {user_event['text']!r} before the next message"
        custom = [b["data"]["custom"] for b in bots if (b.get("data") or {}).get("custom")]
        assert len(custom) == 1 and custom[0]["intent"] == user_event["parse_data"]["intent"]["name"]
        by_text[user_event["text"]] = custom[0]
    for text, answer in zip(messages, replies):  # each reply answers its own message
        assert payload(answer) == by_text[text]
    timestamps = [e["timestamp"] for e in events]
    assert timestamps == sorted(timestamps)
    lock_db = redis.Redis(port=int(prod.env["REDIS_PORT"]), db=int(prod.env["REDIS_DB"]))
    assert not lock_db.keys(f"*{user}*")  # no lock left behind
    EARLIER[user] = len(events)


def test_both_action_servers_serve_through_their_load_balancer(prod):
    lines = (prod.log_dir / "assistant-actions.log").read_text().splitlines()
    served = set(upstreams(lines, "/webhook"))
    assert served == {f"127.0.0.1:{port}" for port in prod.actions_ports}


def test_widget_socket_stays_on_one_replica_and_talks_through_nginx(prod):
    base = prod.public_url
    # Polling: every request of one socket must reach the replica that holds it.
    status, body, _ = http(f"{base}/socket.io/?EIO=4&transport=polling")
    sid = json.loads(body[1:])["sid"]
    status, body, _ = http(f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}", b"40",
                           {"Content-Type": "text/plain;charset=UTF-8", "Origin": base})
    assert (status, body.lower()) == (200, b"ok")
    status, body, _ = http(f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}", headers={"Origin": base})
    assert status == 200 and body.startswith(b"40"), body

    async def conversation() -> List[dict]:
        url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url, origin=base, open_timeout=10) as ws:
            assert (await asyncio.wait_for(ws.recv(), 10)).startswith("0{")
            await ws.send("40")
            assert (await asyncio.wait_for(ws.recv(), 10)).startswith("40")
            await ws.send("42" + json.dumps(["session_request", {"session_id": None}]))
            received = []
            asked = False
            while True:
                packet = await asyncio.wait_for(ws.recv(), 60)
                if packet == "2":
                    await ws.send("3")
                    continue
                if not packet.startswith("42"):
                    continue
                event, *args = json.loads(packet[2:])
                if event == "session_confirm" and not asked:
                    await ws.send("42" + json.dumps(["user_uttered", {"message": TITRE, "session_id": args[0]}]))
                    asked = True
                elif event == "bot_uttered":
                    received.append(args[0])
                    if "custom" in args[0]:
                        return received

    received = asyncio.run(asyncio.wait_for(conversation(), 90))
    assert received[-1]["custom"]["topic"] == "titre-sejour"
    assert any("L425-1" in (m.get("text") or "") for m in received)


def test_telegram_front_works_through_nginx(prod, tmp_path):
    """Webhook mode: the fake Bot API posts updates to nginx, which passes them to the
    front; the front asks Rasa through nginx too."""
    if not (TELEGRAM_TESTS / "fake_bot_api.py").exists():
        pytest.skip("tests/telegram/fake_bot_api.py is missing")
    sys.path.insert(0, str(TELEGRAM_TESTS))
    try:
        from fake_bot_api import FakeBotAPI
    finally:
        sys.path.remove(str(TELEGRAM_TESTS))
    path, port = prod.telegram
    token = "123456789:" + "AAH-prod_TOKEN-value-0123456789abcd"  # fake, split for secret scanners
    chat = 424242424242

    async def scenario(log):
        api = await FakeBotAPI(token).start()
        env = dict(prod.env, TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=api.base_url,
                   TELEGRAM_WEBHOOK_URL=f"{prod.public_url}{path}",
                   TELEGRAM_WEBHOOK_LISTEN="127.0.0.1", TELEGRAM_WEBHOOK_PORT=str(port),
                   RASA_URL=prod.public_url, RASA_TIMEOUT_SECONDS="60",
                   SENDER_ID_SECRET=secrets.token_hex(32),
                   SENDER_ID_SECRET_FILE=str(tmp_path / "sender_secret"))
        front = spawn([sys.executable, "-m", "telegram_front"], env, stdout=log, stderr=subprocess.STDOUT)
        try:
            await api.wait_for("setWebhook", timeout=60)
            await api.push_text(chat, TITRE)
            answer = await api.wait_for("sendMessage", chat_id=chat, timeout=90, where=lambda c: bool(c.keyboard))
            await api.quiet(1.0)
            return api, answer
        finally:
            await asyncio.get_running_loop().run_in_executor(None, stop_process, front)
            await api.stop()

    before = len(access_log(prod))
    with open(tmp_path / "telegram.log", "wb") as log:
        try:
            api, answer = asyncio.run(scenario(log))
        except asyncio.TimeoutError:
            pytest.fail("no answer on Telegram:\n" + (tmp_path / "telegram.log").read_text()[-3000:])
    assert "L425-1" in "\n".join(api.texts(chat))
    assert any("savoir plus" in b["text"] for row in answer.keyboard for b in row)
    assert api.webhook_statuses and set(api.webhook_statuses) == {200}
    time.sleep(0.5)
    lines = access_log(prod)[before:]
    assert any(f"POST {path} 200" in line for line in lines)  # Telegram -> nginx -> front
    assert any("POST /webhooks/rest/webhook 200" in line for line in lines)  # front -> nginx -> Rasa


def test_backup_restores_and_retention_runs_on_postgresql(prod, admin_url, tmp_path):
    """deploy/backup.sh and the restore of docs/deploy.md; the retention job on PostgreSQL."""
    import sqlalchemy as sa

    from deploy import run_prod

    env = dict(os.environ, TRACKER_DB_URL=prod.tracker_db_url, BACKUP_DIR=str(tmp_path / "backups"))
    done = subprocess.run([str(REPO_ROOT / "deploy" / "backup.sh")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    [dump] = (tmp_path / "backups").glob("assistant-*.dump")
    assert oct(dump.stat().st_mode & 0o777) == "0o600"

    name = f"assistant_restore_{secrets.token_hex(4)}"
    restored = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    run_prod.ensure_database(restored)
    try:
        with open(dump, "rb") as stdin:  # as docs/deploy.md does it
            done = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", f"--dbname={restored}"],
                                  stdin=stdin, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        count = "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM kb_topics)"
        engines = [sa.create_engine(u) for u in (prod.tracker_db_url, restored)]
        try:
            original, copy = (e.connect().execute(sa.text(count)).fetchone() for e in engines)
        finally:
            for e in engines:
                e.dispose()
        assert copy == original and copy[0] > 0 and copy[1] == len(TOPICS)
    finally:
        run_prod.drop_database(admin_url, name)

    done = subprocess.run([sys.executable, "-m", "bot.retention", "--days", "30"], cwd=REPO_ROOT,
                          env=dict(prod.env), capture_output=True, text=True)
    assert done.returncode == 0 and "Deleted 0 message event(s)" in done.stderr, done.stderr[-2000:]
    # No statement (so no message text) in the server's log: applied, or the job says how.
    engine = sa.create_engine(prod.tracker_db_url)
    with engine.connect() as connection:
        settings = connection.exec_driver_sql(
            "select setconfig from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase "
            "where d.datname = current_database()").scalars().all()
    engine.dispose()
    applied = any("log_min_error_statement=panic" in (s or []) for s in settings)
    assert applied or "log_min_error_statement = 'panic'" in done.stderr, done.stderr[-2000:]


def test_model_replacement_without_downtime(prod, tmp_path):
    """docs/deploy.md: a new model file, then the replicas restart one at a time
    (deploy/rolling-restart.sh) while a user keeps talking through nginx."""
    new_model = tmp_path / "assistant-new.tar.gz"
    shutil.copyfile(DEFAULT_MODEL, new_model)
    user = sender()
    results: List[List[dict]] = []
    errors: List[str] = []
    stop = threading.Event()

    def talk():
        script = [TITRE, MORE, PLAINTE, MORE, "bonjour", "merci"]
        try:
            while not stop.is_set():
                results.append(say(prod.public_url, user, script[len(results) % len(script)]))
                time.sleep(0.2)
        except BaseException as error:
            errors.append(repr(error))

    talker = threading.Thread(target=talk)
    talker.start()
    try:
        for index in range(len(prod.rasa_ports)):  # one after the other, as rolling-restart.sh
            prod.restart_replica(index, {"ASSISTANT_MODEL": str(new_model)})
    finally:
        stop.set()
        talker.join(120)
    assert not errors, errors
    assert len(results) > 20
    assert all(payload(r)["topic"] != "incompris" for r in results)
    token = api_token()
    for index in range(len(prod.rasa_ports)):
        status = json.loads(http(f"{prod.replica_url(index)}/status?token={token}")[1])
        assert Path(status["model_file"]).name == new_model.name
    events = tracker(prod, user, 1)["events"]
    assert len(turns(events)) == len(results)
    EARLIER[user] = len(events)


def test_stopping_a_replica_mid_run_loses_no_conversation(prod):
    """Last test: replica 1 stops (SIGTERM, as systemctl stop or a rolling update would)
    while one user talks through nginx."""
    user = sender()
    script = [TITRE, MORE, PLAINTE, MORE, "bonjour", TITRE, MORE, PLAINTE, MORE, "merci"]
    results: List[List[dict]] = []
    errors: List[str] = []
    two_done = threading.Event()

    def talk():
        try:
            for text in script:
                results.append(say(prod.public_url, user, text))
                if len(results) == 2:
                    two_done.set()
                time.sleep(0.1)
        except BaseException as error:
            errors.append(repr(error))
            two_done.set()

    talker = threading.Thread(target=talk)
    talker.start()
    two_done.wait(120)
    before = len(access_log(prod))
    prod.stop_replica(0)  # while the next messages are in flight
    talker.join(300)
    assert not errors, errors
    assert len(results) == len(script)
    for text, replies in zip(script, results):
        answer = payload(replies)
        assert answer["topic"] != "incompris", (text, replies)
    assert [payload(r)["topic"] for r in results[:2]] == ["titre-sejour", "titre-sejour"]
    assert [payload(r)["topic"] for r in results[2:4]] == ["porter-plainte", "porter-plainte"]

    # Everything is in the store, in order, read from the replica still running.
    events = tracker(prod, user, 1)["events"]
    assert [u["text"] for u, _ in turns(events)] == script
    for earlier, count in EARLIER.items():
        assert len(tracker(prod, earlier, 1)["events"]) == count
    # After the stop, nginx sent every message to the remaining replica.
    time.sleep(0.5)
    served_by = upstreams(access_log(prod)[before:], "/webhooks/rest/webhook")
    assert served_by and set(served_by[-3:]) == {f"127.0.0.1:{prod.rasa_ports[1]}"}
