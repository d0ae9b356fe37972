"""The production profile end to end, as supervisord runs it (`make run-prod`): two Rasa
replicas behind nginx, conversations in PostgreSQL, the Redis lock store, two action
servers behind their own upstream, the Telegram front.

The tests run in file order on one profile (fixture `prod`, conftest.py); the last one
stops a replica.
"""

import asyncio
import base64
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
import sqlalchemy as sa
import websockets

from deploy import database
from knowledge.content import load_content
from project_paths import DEFAULT_MODEL, REPO_ROOT

TELEGRAM_TESTS = Path(__file__).resolve().parents[1] / "telegram"
TITRE = "est-ce que je peux avoir un titre de séjour si je porte plainte ?"
PLAINTE = "comment porter plainte ?"
MORE = "en savoir plus"
TOPICS = {topic.id: topic for topic in load_content()}
# Conversations of earlier tests, checked again after a replica is stopped.
EARLIER: Dict[str, int] = {}


# --------------------------------------------------------------------------- helpers
def http(
    url: str, data: bytes = None, headers: Dict[str, str] = None, timeout: float = 60
) -> Tuple[int, bytes, Dict]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read(), dict(reply.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def staff(prod, **headers: str) -> Dict[str, str]:
    """Headers of the staff widget's requests: its password (nginx auth_basic)."""
    credentials = base64.b64encode(f"equipe:{prod.widget_password}".encode()).decode()
    return dict(headers, Authorization=f"Basic {credentials}")


def say(base: str, sender: str, text: str) -> List[dict]:
    status, body, _ = http(
        f"{base}/webhooks/rest/webhook",
        json.dumps({"sender": sender, "message": text}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 200, (status, body[:300])
    return json.loads(body)


def payload(replies: List[dict]) -> dict:
    payloads = [r["custom"] for r in replies if "custom" in r]
    assert len(payloads) == 1, replies
    return payloads[0]


def texts(replies: List[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def stored_events(prod, sender: str) -> List[dict]:
    """The conversation as PostgreSQL holds it (the replicas have no HTTP API)."""
    engine = sa.create_engine(prod.tracker_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY timestamp, id"), {"s": sender}
            ).fetchall()
    finally:
        engine.dispose()
    return [json.loads(row[0]) for row in rows]


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


def access_log(prod) -> List[str]:
    return (prod.log_dir / "assistant-access.log").read_text().splitlines()


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


def supervisorctl(prod, *arguments: str) -> str:
    done = subprocess.run(prod.supervisorctl(*arguments), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def environ(prod, program: str) -> Dict[str, str]:
    """The environment a running program was started with (/proc/<pid>/environ)."""
    pid = supervisorctl(prod, "pid", program)
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def loaded_model(prod, index: int) -> str:
    """The model the replica logged at its last start (deploy/rasa_server.py)."""
    log = (prod.log_dir / f"rasa-{prod.rasa_ports[index]}.log").read_text()
    return [line for line in log.splitlines() if line.startswith("deploy.rasa_server: model ")][-1]


# --------------------------------------------------------------------------- tests
def test_nginx_exposes_the_widget_with_its_password_and_hides_rest_and_rasas_api(prod):
    base = prod.public_url
    assert http(f"{base}/webchat/")[0] == 401  # the staff widget asks for its password
    assert http(f"{base}/socket.io/?EIO=4&transport=polling")[0] == 401
    status, body, headers = http(f"{base}/webchat/", headers=staff(prod))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert http(f"{base}/webchat/static/page.js", headers=staff(prod))[0] == 200
    assert http(f"{base}/healthz")[0] == 200
    status, body, _ = http(f"{base}/socket.io/?EIO=4&transport=polling", headers=staff(prod))
    assert status == 200 and body.startswith(b"0{") and b'"sid"' in body  # engine.io open packet

    # REST is served by the loopback server only, not by the public one, even to loopback.
    message = json.dumps({"sender": sender(), "message": "bonjour"}).encode()
    assert http(f"{base}/webhooks/rest/webhook", message, {"Content-Type": "application/json"})[0] == 404
    assert http(f"{prod.rest_url}/webhooks/rest/")[0] == 200
    assert http(f"{prod.rest_url}/webchat/")[0] == 404
    for path in ("/", "/status", "/version", "/model", "/domain", "/conversations/x/tracker"):
        assert http(f"{base}{path}")[0] == 404, path
    # The replicas run without Rasa's HTTP API: not even on their loopback ports.
    for path in ("/status", "/conversations/x/tracker", "/model"):
        assert http(f"{prod.replica_url(0)}{path}?token=anything")[0] == 404, path
    assert http(f"{prod.replica_url(0)}/webhooks/rest/")[0] == 200


def test_each_program_receives_only_its_own_settings(prod):
    rasa = environ(prod, f"rasa:rasa-{prod.rasa_ports[0]}")
    actions = environ(prod, f"actions:actions-{prod.actions_ports[0]}")
    nginx = environ(prod, "nginx")
    redis_env = environ(prod, "redis")
    supervisorctl(prod, "start", "telegram")
    try:
        front = environ(prod, "telegram")
    finally:
        supervisorctl(prod, "stop", "telegram")
    front_secrets = {"TELEGRAM_BOT_TOKEN", "SENDER_ID_SECRET", "TELEGRAM_WEBHOOK_SECRET"}
    assert rasa["TRACKER_DB_URL"] == prod.tracker_url and rasa["REDIS_PASSWORD"] == prod.redis_password
    assert not front_secrets & set(rasa) and "KNOWLEDGE_DB_URL" not in rasa and "RASA_API_TOKEN" not in rasa
    assert actions["KNOWLEDGE_DB_URL"] == prod.knowledge_url
    assert not front_secrets & set(actions) and "REDIS_PASSWORD" not in actions
    assert front_secrets <= set(front) and front["RASA_URL"] == prod.rest_url
    assert not {"TRACKER_DB_URL", "KNOWLEDGE_DB_URL", "REDIS_PASSWORD"} & set(front)
    for other in (nginx, redis_env):
        assert set(other) <= {
            "PATH",
            "LANG",
            "SUPERVISOR_ENABLED",
            "SUPERVISOR_SERVER_URL",
            "SUPERVISOR_PROCESS_NAME",
            "SUPERVISOR_GROUP_NAME",
        }, other
    # Redis asks for its password.
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=prod.redis_port).ping()
    assert redis.Redis(port=prod.redis_port, password=prod.redis_password).ping()


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
    assert payload(say(prod.rest_url, user, TITRE))["topic"] == "titre-sejour"
    replies = say(prod.rest_url, user, MORE)
    assert payload(replies)["topic"] == "titre-sejour"
    assert details_start("titre-sejour") in texts(replies)
    sent += [TITRE, MORE]
    time.sleep(0.5)  # nginx writes its log line after the reply
    served_by = upstreams(access_log(prod)[before:], "/webhooks/rest/webhook")
    assert len(served_by) == 2 and served_by[0] != served_by[1], served_by

    events = stored_events(prod, user)
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

    events = stored_events(prod, user)
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
    lock_db = redis.Redis(port=prod.redis_port, db=1, password=prod.redis_password)
    assert not lock_db.keys(f"*{user}*")  # no lock left behind
    EARLIER[user] = len(events)


def test_both_action_servers_serve_through_their_load_balancer(prod):
    lines = (prod.log_dir / "assistant-actions.log").read_text().splitlines()
    served = set(upstreams(lines, "/webhook"))
    assert served == {f"127.0.0.1:{port}" for port in prod.actions_ports}


def test_widget_socket_stays_on_one_replica_and_talks_through_nginx(prod):
    base = prod.public_url
    # Polling: every request of one socket must reach the replica that holds it.
    status, body, _ = http(f"{base}/socket.io/?EIO=4&transport=polling", headers=staff(prod))
    sid = json.loads(body[1:])["sid"]
    status, body, _ = http(
        f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}",
        b"40",
        staff(prod, **{"Content-Type": "text/plain;charset=UTF-8", "Origin": base}),
    )
    assert (status, body.lower()) == (200, b"ok")
    status, body, _ = http(
        f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}", headers=staff(prod, Origin=base)
    )
    assert status == 200 and body.startswith(b"40"), body

    async def conversation() -> List[dict]:
        url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url, origin=base, open_timeout=10, extra_headers=staff(prod)) as ws:
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
                    await ws.send(
                        "42" + json.dumps(["user_uttered", {"message": TITRE, "session_id": args[0]}])
                    )
                    asked = True
                elif event == "bot_uttered":
                    received.append(args[0])
                    if "custom" in args[0]:
                        return received

    received = asyncio.run(asyncio.wait_for(conversation(), 90))
    assert received[-1]["custom"]["topic"] == "titre-sejour"
    assert any("L425-1" in (m.get("text") or "") for m in received)


def test_widget_requests_and_votes_are_rate_limited_per_address(prod):
    base = prod.public_url
    vote = json.dumps({"vote": "up"}).encode()
    statuses = [
        http(f"{base}/webchat/feedback", vote, staff(prod, **{"Content-Type": "application/json"}))[0]
        for _ in range(15)
    ]
    assert 429 in statuses and statuses[0] != 429, statuses
    statuses = [http(f"{base}/socket.io/?EIO=4&transport=polling", headers=staff(prod))[0] for _ in range(40)]
    assert 429 in statuses and statuses[0] == 200, statuses
    time.sleep(3)  # the socket.io allowance refills (10 per second)


def test_telegram_front_works_through_nginx(prod, tmp_path):
    """Webhook mode: the fake Bot API posts updates to nginx, which passes them to the
    front that supervisord runs; the front asks Rasa through nginx's REST server."""
    if not (TELEGRAM_TESTS / "fake_bot_api.py").exists():
        pytest.skip("tests/telegram/fake_bot_api.py is missing")
    sys.path.insert(0, str(TELEGRAM_TESTS))
    try:
        from fake_bot_api import FakeBotAPI
    finally:
        sys.path.remove(str(TELEGRAM_TESTS))
    path = prod.telegram_webhook[0]
    chat = 424242424242

    async def scenario():
        api = FakeBotAPI(prod.telegram_env["TELEGRAM_BOT_TOKEN"])
        api.port = prod.bot_api_port
        await api.start()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, supervisorctl, prod, "start", "telegram")
        try:
            await api.wait_for("setWebhook", timeout=60)
            await api.push_text(chat, TITRE)
            answer = await api.wait_for(
                "sendMessage", chat_id=chat, timeout=90, where=lambda c: bool(c.keyboard)
            )
            await api.quiet(1.0)
            return api, answer
        finally:
            await loop.run_in_executor(None, supervisorctl, prod, "stop", "telegram")
            await api.stop()

    before = len(access_log(prod))
    try:
        api, answer = asyncio.run(scenario())
    except asyncio.TimeoutError:
        pytest.fail("no answer on Telegram:\n" + (prod.log_dir / "telegram.log").read_text()[-3000:])
    assert "L425-1" in "\n".join(api.texts(chat))
    assert any("savoir plus" in b["text"] for row in answer.keyboard for b in row)
    assert api.webhook_statuses and set(api.webhook_statuses) == {200}
    time.sleep(0.5)
    lines = access_log(prod)[before:]
    assert any(f"POST {path} 200" in line for line in lines)  # Telegram -> nginx -> front
    assert any("POST /webhooks/rest/webhook 200" in line for line in lines)  # front -> nginx -> Rasa
    # A compressed body never reaches the front (its parser would inflate it first).
    status = http(
        f"{prod.public_url}{path}",
        b"\x1f\x8b",
        {"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )[0]
    assert status == 415


def test_backup_restores_and_retention_runs_on_postgresql(prod, admin_url, tmp_path):
    """deploy/backup.sh and the restore of docs/deploy.md; the retention job on PostgreSQL."""
    assert payload(say(prod.rest_url, sender(), TITRE))["topic"] == "titre-sejour"  # a conversation to keep
    # pg_dump, watched: its command line must not hold the password (S13).
    spy = tmp_path / "bin"
    spy.mkdir()
    (spy / "pg_dump").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" > {tmp_path}/argv\nexec {shutil.which("pg_dump")} "$@"\n'
    )
    (spy / "pg_dump").chmod(0o755)
    env = dict(
        os.environ,
        TRACKER_DB_URL=prod.tracker_url,
        BACKUP_DIR=str(tmp_path / "backups"),
        PATH=f"{spy}:{os.environ['PATH']}",
    )
    done = subprocess.run([str(REPO_ROOT / "deploy" / "backup.sh")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    password = sa.engine.make_url(prod.tracker_url).password
    argv = (tmp_path / "argv").read_text()
    assert "--dbname=postgresql://" in argv and f":{password}@" not in argv
    [dump] = (tmp_path / "backups").glob("assistant-*.dump")
    assert oct(dump.stat().st_mode & 0o777) == "0o600"

    name = f"assistant_restore_{secrets.token_hex(4)}"
    restored = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    database.ensure_database(restored)
    try:
        with open(dump, "rb") as stdin:  # as docs/deploy.md does it
            done = subprocess.run(
                ["pg_restore", "--no-owner", "--no-privileges", f"--dbname={restored}"],
                stdin=stdin,
                capture_output=True,
                text=True,
            )
        assert done.returncode == 0, done.stderr
        count = "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM kb_topics)"
        engines = [sa.create_engine(u) for u in (prod.tracker_url, restored)]
        try:
            original, copy = (e.connect().execute(sa.text(count)).fetchone() for e in engines)
        finally:
            for e in engines:
                e.dispose()
        assert copy == original and copy[0] > 0 and copy[1] == len(TOPICS)
    finally:
        database.drop_database(admin_url, name)

    done = subprocess.run(
        [sys.executable, "-m", "bot.retention", "--days", "30"],
        cwd=REPO_ROOT,
        env=dict(os.environ, TRACKER_DB_URL=prod.tracker_url),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "Deleted 0 message event(s)" in done.stderr, done.stderr[-2000:]
    # No statement (so no message text) in the server's log: applied, or the job says how.
    engine = sa.create_engine(prod.tracker_url)
    with engine.connect() as connection:
        settings = (
            connection.exec_driver_sql(
                "select setconfig from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase "
                "where d.datname = current_database()"
            )
            .scalars()
            .all()
        )
    engine.dispose()
    applied = any("log_min_error_statement=panic" in (s or []) for s in settings)
    assert applied or "log_min_error_statement = 'panic'" in done.stderr, done.stderr[-2000:]


def test_model_replacement_without_downtime(prod, tmp_path):
    """docs/deploy.md: a new model file, then deploy/rolling-restart.sh restarts the
    replicas one at a time through supervisord while a user keeps talking."""
    new_model = prod.prod_dir / "model" / "assistant-new.tar.gz"
    shutil.copyfile(DEFAULT_MODEL, new_model)
    link = prod.prod_dir / "model" / "next.tar.gz"
    link.symlink_to(new_model)
    os.replace(link, prod.model)  # the replicas' ASSISTANT_MODEL now names the new file
    user = sender()
    results: List[List[dict]] = []
    errors: List[str] = []
    stop = threading.Event()

    def talk():
        script = [TITRE, MORE, PLAINTE, MORE, "bonjour", "merci"]
        try:
            while not stop.is_set():
                results.append(say(prod.rest_url, user, script[len(results) % len(script)]))
                time.sleep(0.2)
        except BaseException as error:
            errors.append(repr(error))

    talker = threading.Thread(target=talk)
    talker.start()
    try:
        done = subprocess.run(
            [str(REPO_ROOT / "deploy" / "rolling-restart.sh")],
            capture_output=True,
            text=True,
            env=dict(os.environ, SUPERVISOR_CONF=str(prod.config_file), SETTLE_SECONDS="2"),
            timeout=900,
        )
    finally:
        stop.set()
        talker.join(120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("answers again") == len(prod.rasa_ports)
    assert not errors, errors
    assert len(results) > 20
    assert all(payload(r)["topic"] != "incompris" for r in results)
    for index in range(len(prod.rasa_ports)):
        assert loaded_model(prod, index).endswith(str(new_model)), loaded_model(prod, index)
    events = stored_events(prod, user)
    assert len(turns(events)) == len(results)
    EARLIER[user] = len(events)


def test_stopping_a_replica_mid_run_loses_no_conversation(prod):
    """Last test: replica 1 stops (supervisorctl stop: SIGTERM, as systemctl stop or a
    rolling update would) while one user talks through nginx."""
    user = sender()
    script = [TITRE, MORE, PLAINTE, MORE, "bonjour", TITRE, MORE, PLAINTE, MORE, "merci"]
    results: List[List[dict]] = []
    errors: List[str] = []
    two_done = threading.Event()

    def talk():
        try:
            for text in script:
                results.append(say(prod.rest_url, user, text))
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
    supervisorctl(prod, "stop", f"rasa:rasa-{prod.rasa_ports[0]}")  # while the next messages are in flight
    talker.join(300)
    assert not errors, errors
    assert len(results) == len(script)
    for text, replies in zip(script, results):
        answer = payload(replies)
        assert answer["topic"] != "incompris", (text, replies)
    assert [payload(r)["topic"] for r in results[:2]] == ["titre-sejour", "titre-sejour"]
    assert [payload(r)["topic"] for r in results[2:4]] == ["porter-plainte", "porter-plainte"]

    # Everything is in the store, in order.
    events = stored_events(prod, user)
    assert [u["text"] for u, _ in turns(events)] == script
    for earlier, count in EARLIER.items():
        assert len(stored_events(prod, earlier)) == count
    # After the stop, nginx sent every message to the remaining replica.
    time.sleep(0.5)
    served_by = upstreams(access_log(prod)[before:], "/webhooks/rest/webhook")
    assert served_by and set(served_by[-3:]) == {f"127.0.0.1:{prod.rasa_ports[1]}"}
    # The refused connections were not logged with the client's address (error_log crit).
    error_log = prod.log_dir / "assistant-error.log"
    assert not error_log.exists() or "client:" not in error_log.read_text()
