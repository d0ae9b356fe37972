"""Weak and placeholder secrets are refused by every process that takes one from the
environment (review S2, S18): the Telegram front (SENDER_ID_SECRET,
TELEGRAM_WEBHOOK_SECRET), the launcher and the production Rasa server (RASA_API_TOKEN)."""

import secrets
import subprocess
import sys

import pytest

from bot import launcher
from project_paths import REPO_ROOT
from secrets_policy import WeakSecretError, check_secret, secret_problem
from telegram_front.config import Config, ConfigError
from telegram_front.pseudonym import make_pseudonymizer

WEAK = {
    "placeholder": "CHANGE-ME",
    "long placeholder": "change-me-to-a-long-random-secret-please",
    "changeme": "changemechangemechangemechangeme12",
    "example": "example-webhook-secret-0123456789abcdef",
    "xxx": "x" * 40,
    "short": "s3cret_token-OK",
    "31 chars": secrets.token_hex(16)[:31],
    "repeated": "k" * 40,
    "two chars": "ab" * 20,
}


@pytest.mark.parametrize("value", WEAK.values(), ids=WEAK.keys())
def test_weak_secrets_are_refused_without_echoing_them(value):
    assert secret_problem(value)
    with pytest.raises(WeakSecretError) as error:
        check_secret("SENDER_ID_SECRET", value)
    assert "SENDER_ID_SECRET" in str(error.value) and value not in str(error.value)


def test_generated_secrets_pass():
    for _ in range(2000):
        for value in (secrets.token_hex(32), secrets.token_urlsafe(32), secrets.token_hex(16)):
            assert secret_problem(value) is None, value


def front_env(**extra):
    return {"TELEGRAM_BOT_TOKEN": "1:abc", **extra}


@pytest.mark.parametrize("name", ["SENDER_ID_SECRET", "TELEGRAM_WEBHOOK_SECRET"])
@pytest.mark.parametrize(
    "value",
    [WEAK["placeholder"], WEAK["short"], WEAK["example"], WEAK["xxx"]],
    ids=["placeholder", "short", "example", "xxx"],
)
def test_the_telegram_front_refuses_weak_secrets(name, value):
    with pytest.raises(ConfigError) as error:
        Config.from_env(front_env(**{name: value}))
    assert name in str(error.value) and value not in str(error.value)


def test_the_telegram_front_requires_the_sender_key_in_webhook_mode():
    hook = {"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg/hook"}
    with pytest.raises(ConfigError, match="SENDER_ID_SECRET is required"):
        Config.from_env(front_env(**hook))
    key = secrets.token_hex(32)
    assert Config.from_env(front_env(SENDER_ID_SECRET=key, **hook)).sender_id_secret == key
    assert Config.from_env(front_env()).sender_id_secret is None  # polling: generated file


def test_the_pseudonymizer_refuses_a_weak_key(tmp_path):
    with pytest.raises(WeakSecretError):
        make_pseudonymizer("CHANGE-ME", tmp_path / "key")
    assert not (tmp_path / "key").exists()
    assert len(make_pseudonymizer(secrets.token_hex(32), tmp_path / "key")(42)) == 64
    assert len(make_pseudonymizer(None, tmp_path / "key")(42)) == 64  # generated: fine


def test_the_launcher_refuses_a_weak_api_token(monkeypatch):
    monkeypatch.setenv("RASA_API_TOKEN", "CHANGE-ME")
    with pytest.raises(WeakSecretError, match="RASA_API_TOKEN"):
        launcher.api_token()
    token = secrets.token_urlsafe(32)
    monkeypatch.setenv("RASA_API_TOKEN", token)
    assert launcher.api_token() == token


@pytest.mark.parametrize("token", ["CHANGE-ME-please-CHANGE-ME-please-1234", "short-token"])
def test_the_production_rasa_server_refuses_a_weak_api_token(token):
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO_ROOT),
        "RASA_API_TOKEN": token,
        "ACTION_SERVER_URL": "http://127.0.0.1:1/webhook",
        "TRACKER_DB_URL": "sqlite://",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "1",
        "REDIS_DB": "0",
        "ASSISTANT_MODEL": str(REPO_ROOT / "no-such-model.tar.gz"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "deploy.rasa_server", "--port", "1"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "RASA_API_TOKEN" in done.stderr, done.stderr
    assert token not in done.stderr + done.stdout
