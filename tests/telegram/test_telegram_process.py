"""`python -m telegram_front` as a real process: settings from the environment, generated
secret file, clean stop on SIGTERM, and logs free of texts, ids, names and the token."""

import asyncio
import hashlib
import hmac
import os
import signal
import stat
import subprocess
import sys

from fake_bot_api import FakeBotAPI
from fake_rasa_rest import ANSWER, FakeRasa
from tg_harness import REPO_ROOT_FOR_TESTS as REPO_ROOT
from tg_harness import TOKEN, async_test

CHAT = 5550001234


def front_env(**values):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "RASA_", "SENDER_ID_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(values)
    return env


def test_missing_token_is_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-m", "telegram_front"],
        cwd=REPO_ROOT,
        env=front_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr


@async_test
async def test_a_token_refused_by_the_bot_api_fails_clearly_without_printing_it(tmp_path):
    async with FakeBotAPI(TOKEN) as api:
        wrong = "111111:WRONG-token_value"
        env = front_env(
            TELEGRAM_BOT_TOKEN=wrong,
            TELEGRAM_API_URL=api.base_url,
            SENDER_ID_SECRET_FILE=str(tmp_path / "secret"),
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "telegram_front",
            cwd=str(REPO_ROOT),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    output = output.decode()
    assert process.returncode == 1
    assert "InvalidToken" in output
    assert "WRONG-token_value" not in output


@async_test
async def test_the_process_answers_erases_and_stops_cleanly(tmp_path):
    secret_file = tmp_path / "var" / "telegram_sender_secret"
    log_path = tmp_path / "front.log"
    async with FakeBotAPI(TOKEN) as api:
        rasa = await FakeRasa().start()
        env = front_env(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=api.base_url,
            RASA_URL=rasa.url,
            SENDER_ID_SECRET_FILE=str(secret_file),
            RASA_TIMEOUT_SECONDS="5",
        )
        with open(log_path, "wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "telegram_front",
                cwd=str(REPO_ROOT),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            await api.wait_for("setMyCommands", timeout=60)
            await api.push_text(CHAT, "Je m'appelle Prenom et j'ai peur")
            answer = await api.wait_for("sendMessage", chat_id=CHAT, timeout=20)
            assert answer.shown == ANSWER
            await api.push_callback(CHAT, answer.result["message_id"], answer.keyboard[0][0]["callback_data"])
            await api.wait_for("sendMessage", chat_id=CHAT, count=2, timeout=20)
            await api.push_text(CHAT, "/oubli")
            await api.wait_for("deleteMessage", chat_id=CHAT, count=4, timeout=20)  # 2 asked, 2 answers
            await api.quiet(0.5)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
            await rasa.stop()
    assert code == 0
    # the generated key: private, and the key of the ids Rasa received
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    key = secret_file.read_text().strip()
    expected = hmac.new(key.encode(), str(CHAT).encode(), hashlib.sha256).hexdigest()
    assert {r.sender for r in rasa.received} == {expected}
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Telegram front started (long polling)" in log and "update kind=text" in log
    assert "Telegram front stopped" in log
    for forbidden in (
        TOKEN,
        TOKEN.split(":")[1],
        str(CHAT),
        "Zorglub",
        "zorglub",
        "Nomdefamille",
        "peur",
        expected,
        key,
    ):
        assert forbidden not in log, forbidden
