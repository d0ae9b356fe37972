"""Security of the running stack and of the repository: the HTTP API needs the token,
CORS admits the widget's origin only, logs hold no message text or sender id, no
secret is committed, and the retention job deletes old conversations."""

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from reliability_http import ask, payloads, stack_log, tracker
from reliability_socketio import WidgetSession

from bot.launcher import api_token
from project_paths import REPO_ROOT, VAR_DIR

# Every route of Rasa 3.6's HTTP API that has @requires_auth (rasa/server.py). GET
# /conversations/<id>/tracker is in tests/e2e/test_rest_e2e.py. Destructive ones last.
PROTECTED = [
    ("GET", "/status"),
    ("GET", "/domain"),
    ("GET", "/conversations/rel-sec/story"),
    ("POST", "/conversations/rel-sec/tracker/events"),
    ("POST", "/conversations/rel-sec/execute"),
    ("POST", "/conversations/rel-sec/trigger_intent"),
    ("POST", "/conversations/rel-sec/predict"),
    ("POST", "/conversations/rel-sec/messages"),
    ("POST", "/model/parse"),
    ("POST", "/model/predict"),
    ("POST", "/model/test/stories"),
    ("POST", "/model/test/intents"),
    ("POST", "/model/train"),
    ("PUT", "/conversations/rel-sec/tracker/events"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
]
BODIES = {
    "/conversations/rel-sec/tracker/events": b'[{"event": "restart"}]',
    "/conversations/rel-sec/execute": b'{"name": "action_restart"}',
    "/conversations/rel-sec/trigger_intent": b'{"name": "urgence"}',
    "/conversations/rel-sec/messages": b'{"text": "/restart", "sender": "user"}',
    "/model/parse": b'{"text": "bonjour"}',
}


def http(method, url, body=None, headers=None):
    if body is None and method in ("POST", "PUT"):
        body = b"{}"
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.mark.parametrize("method, path", PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
@pytest.mark.parametrize("token", [None, "wrong-token", ""], ids=["no-token", "wrong", "empty"])
def test_the_http_api_needs_the_token(rasa_stack, method, path, token):
    url = rasa_stack.rasa_url + path + ("" if token is None else f"?token={token}")
    status, _, _ = http(method, url, BODIES.get(path))
    assert status == 401, f"{method} {path} answered {status} without the right token"


def test_the_api_answers_with_the_token_and_the_channels_without(rasa_stack):
    """The other side of the test above: the token works, and the channels (and Rasa's
    version/health routes) are the only ones open."""
    base = rasa_stack.rasa_url
    assert http("GET", f"{base}/status?token={api_token()}")[0] == 200
    status, _, raw = http("POST", f"{base}/model/parse?token={api_token()}", b'{"text": "bonjour"}')
    assert status == 200 and json.loads(raw)["intent"]["name"]
    assert payloads(ask(rasa_stack, "rel-sec-public", "bonjour"))
    for path in ("/webhooks/rest/", "/webchat/", "/version", "/"):
        assert http("GET", base + path)[0] == 200, path
    # The sender id is not a credential: another user's conversation is not readable
    # through the channel.
    assert http("GET", f"{base}/webhooks/rest/webhook?sender=rel-sec-public")[0] in (404, 405)


EVIL = "http://evil.example"


def cors_header(headers):
    return headers.get("Access-Control-Allow-Origin")


@pytest.mark.parametrize(
    "method, path",
    [
        ("OPTIONS", "/webhooks/rest/webhook"),
        ("POST", "/webhooks/rest/webhook"),
        ("GET", "/webhooks/rest/"),
        ("OPTIONS", "/model/parse"),
        ("OPTIONS", "/conversations/rel-sec/tracker"),
        ("GET", "/status?token={token}"),
        ("GET", "/conversations/rel-sec-public/tracker?token={token}"),
        ("POST", "/webchat/feedback"),
        ("GET", "/socket.io/?EIO=4&transport=polling"),
    ],
)
def test_cors_does_not_admit_another_origin(rasa_stack, method, path):
    url = rasa_stack.rasa_url + path.format(token=api_token())
    body = b'{"sender": "rel-sec-cors", "message": "bonjour"}' if method == "POST" else None
    headers = {
        "Origin": EVIL,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    status, reply_headers, _ = http(method, url, body, headers)
    assert cors_header(reply_headers) in (None, ""), (status, dict(reply_headers))


def test_cors_admits_the_widget_origin(rasa_stack):
    widget_origin = f"http://localhost:{rasa_stack.rasa_port}"
    for method in ("OPTIONS", "POST"):
        status, headers, _ = http(
            method,
            f"{rasa_stack.rasa_url}/webhooks/rest/webhook",
            b'{"sender": "rel-sec-cors", "message": "bonjour"}',
            {"Origin": widget_origin, "Access-Control-Request-Method": "POST"},
        )
        assert status == 200 and cors_header(headers) == widget_origin, (method, dict(headers))


# ----------------------------------------------------------------------------- logs
LOG_SENDERS = ["rel-log-4f1c2a", "rel-log-9d0e7b"]
LOG_TEXTS = [
    "comment porter plainte contre mon patron Quentilius ?",
    "au secours il me frappe Quentilius est là",
    "zxqv bloubiboulga quentilius",
    "j'ai perdu mon passeport chez Quentilius, un titre de séjour c'est possible ?",
    '/titre-sejour{"misunderstood": true, "quentilius": 1}',
    "efface ma conversation Quentilius",
]


def test_logs_at_info_hold_no_message_text_and_no_sender_id(rasa_stack):
    for sender in LOG_SENDERS:
        for text in LOG_TEXTS:
            assert payloads(ask(rasa_stack, sender, text)), text
        tracker(rasa_stack, sender)

    async def widget():
        async with WidgetSession(rasa_stack.rasa_url) as session:
            await session.say("mon employeur Quentilius garde mes papiers")
            return session.session_id

    session_id = asyncio.run(widget())
    time.sleep(1)  # let the servers flush their logs

    log = stack_log(rasa_stack)
    assert re.search(r" INFO +rasa", log), "the servers do not log at INFO: nothing to check"
    for secret in [
        *LOG_SENDERS,
        session_id,
        session_id.split(".")[0],
        api_token(),
        "quentilius",
        "Quentilius",
        "bloubiboulga",
        "passeport chez",
    ]:
        assert secret not in log, f"{secret!r} is in the servers' log"


def test_the_api_token_is_not_on_the_command_line(rasa_stack):
    """Any local user can read a process's command line (`ps`); only its owner can read
    its environment."""
    for process in rasa_stack.processes:
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode(errors="replace")
        assert api_token() not in cmdline


# -------------------------------------------------------------------------- secrets
TOKEN_PATTERNS = {
    "Telegram bot token": re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+]*://([^/\s:@'\"]+):([^/\s@'\"$]+)@"),
    "secret assigned": re.compile(
        r"(?i)\b(?:api[_-]?key|secret|password|passwd|auth[_-]?token|access[_-]?token)\b"
        r"\s*[:=]\s*['\"]([A-Za-z0-9+/_\-]{20,})['\"]"
    ),
}
# Obvious non-secrets: a fake value that says so in words ("AAH-test_TOKEN-value-0123…",
# "CHANGE-ME"), a throwaway local database login, a template ("{password}", "%s").
# Real tokens are random: they hold no such words. Only the VALUE is looked at, never the
# key: `auth_token = "<random>"` is a finding although its key says "token" (review S19).
PLACEHOLDER = re.compile(
    r"(?i)test|fake|example|dummy|placeholder|change[-_]?me|token|value|"
    r"0123456789|x{6,}"
)
TEMPLATE = re.compile(r"(?i)password|pass|secret|\{\w*\}|<\w*>|%s|\*+")


def committed_files():
    """Every file git would commit: tracked, or new and not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        path = REPO_ROOT / name
        if path.is_file() and path.stat().st_size < 2_000_000:
            yield name, path.read_bytes()


def is_placeholder(pattern, match):
    if pattern == "password in a URL":
        user, password = match.group(1), match.group(2)
        return password == user or bool(PLACEHOLDER.search(password) or TEMPLATE.fullmatch(password))
    value = match.group(match.lastindex) if match.lastindex else match.group(0)
    return bool(PLACEHOLDER.search(value))


RANDOM_LOOKING = "q7Zk2mW9pL4v" + "R8tN1cY6aB3d"  # split: this file is scanned too


@pytest.mark.parametrize(
    "key, value, placeholder",
    [
        ("auth_token = ", RANDOM_LOOKING, False),
        ("api_key: ", RANDOM_LOOKING[::-1], False),
        ("secret = ", "CHANGE-ME-CHANGE-ME-CHANGE", True),
        ("auth_token = ", "AAH-test_TOKEN-value-0123456789", True),
    ],
)
def test_the_scanner_judges_the_value_not_the_key(key, value, placeholder):
    match = TOKEN_PATTERNS["secret assigned"].search(key + '"' + value + '"')
    assert match and is_placeholder("secret assigned", match) is placeholder


def test_no_secret_is_committed():
    found = []
    live_secrets = {
        os.environ.get(name) for name in ("RASA_API_TOKEN", "SENDER_ID_SECRET", "TELEGRAM_BOT_TOKEN")
    } | {api_token()}
    live_secrets |= {
        p.read_text().strip()
        for p in VAR_DIR.glob("*")
        if p.is_file() and re.search(r"token|secret|key", p.name)
    }
    live_secrets = {s for s in live_secrets if s and len(s) >= 12}
    assert live_secrets, "no secret to look for"
    for name, raw in committed_files():
        text = raw.decode("utf-8", errors="replace")
        for secret in live_secrets:
            if secret in text:
                found.append(f"{name}: a live secret (var/ or the environment)")
        for label, pattern in TOKEN_PATTERNS.items():
            for match in pattern.finditer(text):
                if not is_placeholder(label, match):
                    found.append(
                        f"{name}: {label}: {match.group(0)[:8]}… (line "
                        f"{text.count(chr(10), 0, match.start()) + 1})"
                    )
    assert not found, "\n".join(found)


def test_secret_files_are_ignored_and_private():
    token_file = VAR_DIR / "rasa_api_token"
    api_token()  # creates it when missing
    ignored = subprocess.run(["git", "check-ignore", "-q", str(token_file)], cwd=REPO_ROOT)
    assert ignored.returncode == 0, "var/rasa_api_token is not git-ignored"
    if not os.environ.get("RASA_API_TOKEN"):
        assert token_file.stat().st_mode & 0o077 == 0, oct(token_file.stat().st_mode)


def test_configuration_files_take_secrets_from_the_environment():
    """A key that names a secret has a ${VARIABLE} value in every YAML configuration."""
    secret_key = re.compile(r"(?i)token|secret|password|passwd|api_?key")
    offenders = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if (
                    secret_key.search(str(key))
                    and isinstance(value, (str, int))
                    and value != ""
                    and not re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*\}", str(value))
                ):
                    offenders.append(f"{where}: {key}")
                walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    configs = [p for p in (REPO_ROOT / "bot").glob("*.yml")]
    configs += list((REPO_ROOT / "deploy").glob("*.yml")) if (REPO_ROOT / "deploy").is_dir() else []
    assert configs
    for path in configs:
        walk(yaml.safe_load(path.read_text(encoding="utf-8")), path.relative_to(REPO_ROOT))
    assert not offenders, offenders


# ------------------------------------------------------------------------ retention
DAY = 86400


def run_retention(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "bot.retention", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def senders(url):
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = {row[0] for row in connection.execute(sa.text("select distinct sender_id from events"))}
    engine.dispose()
    return found


def age(url, sender, days):
    """Moves one conversation `days` back in time."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("update events set timestamp = timestamp - :s where sender_id = :id"),
            {"s": days * DAY, "id": sender},
        )
    engine.dispose()


@pytest.fixture
def aged_store(rasa_stack, tmp_path):
    """A copy of the running stack's conversation store, written by Rasa itself, with
    conversations 45, 31, 20 and 0 days old."""
    ages = {"rel-ret-45d": 45, "rel-ret-31d": 31, "rel-ret-20d": 20, "rel-ret-now": 0}
    for sender in ages:
        ask(rasa_stack, sender, "bonjour")
        ask(rasa_stack, sender, "comment porter plainte ?")
    source = sqlite3.connect(rasa_stack.tracker_db_url.replace("sqlite:///", "", 1))
    copy = tmp_path / "tracker-copy.db"
    with sqlite3.connect(copy) as target:
        source.backup(target)
    source.close()
    url = f"sqlite:///{copy}"
    for sender, days in ages.items():
        age(url, sender, days)
    return url


def test_retention_cli_deletes_conversations_older_than_the_given_days(aged_store):
    done = run_retention("--days", "30", "--db", aged_store)
    assert done.returncode == 0, done.stderr
    left = senders(aged_store)
    assert not {"rel-ret-45d", "rel-ret-31d"} & left
    assert {"rel-ret-20d", "rel-ret-now"} <= left
    assert "Deleted" in done.stderr + done.stdout
    assert "rel-ret" not in done.stderr + done.stdout  # no sender id in its log

    assert run_retention("--days", "10", "--db", aged_store).returncode == 0
    assert "rel-ret-20d" not in senders(aged_store) and "rel-ret-now" in senders(aged_store)


def test_retention_cli_defaults_to_retention_days_then_30(aged_store):
    env = {k: v for k, v in os.environ.items() if k != "RETENTION_DAYS"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.retention", "--db", aged_store],
        cwd=REPO_ROOT,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert {"rel-ret-45d", "rel-ret-31d"}.isdisjoint(senders(aged_store))
    assert "rel-ret-20d" in senders(aged_store)

    assert run_retention("--db", aged_store, env={"RETENTION_DAYS": "15"}).returncode == 0
    assert "rel-ret-20d" not in senders(aged_store) and "rel-ret-now" in senders(aged_store)


@pytest.mark.parametrize(
    "args, env",
    [
        (["--days", "-1"], {}),
        (["--days", "0"], {}),
        (["--days", "trente"], {}),
        ([], {"RETENTION_DAYS": "-5"}),
    ],
    ids=["minus-one", "zero", "not-a-number", "negative-environment"],
)
def test_retention_cli_refuses_a_number_of_days_that_would_delete_everything(aged_store, args, env):
    before = senders(aged_store)
    done = run_retention(*args, "--db", aged_store, env=env)
    assert done.returncode == 2 and "days" in done.stderr, (done.returncode, done.stderr)
    assert senders(aged_store) == before


def test_a_token_starting_with_a_dash_starts_rasa_and_guards_the_api(own_stack, monkeypatch):
    """Generated tokens (token_urlsafe) start with "-" one time in 64: Rasa's command line
    must still take it as the token's value, not as an option."""
    token = "-dash-first_" + "q7Zk2mW9pL4vR8tN1cY6"
    monkeypatch.setenv("RASA_API_TOKEN", token)
    stack = own_stack()
    assert http("GET", f"{stack.rasa_url}/status?token={token}")[0] == 200
    assert http("GET", f"{stack.rasa_url}/status?token=x")[0] == 401


def test_the_production_server_passes_a_dash_token_as_a_value():
    from rasa.__main__ import create_argument_parser

    from deploy.rasa_server import rasa_arguments

    token = "-dash-first_" + "q7Zk2mW9pL4vR8tN1cY6"
    # Only a maintenance session opens Rasa's API on a production replica (deploy/rasa_server.py).
    arguments = rasa_arguments(["--maintenance-api", "--port", "5005"], {"RASA_API_TOKEN": token})
    args = create_argument_parser().parse_args(arguments)
    assert args.auth_token == token and args.port == 5005
