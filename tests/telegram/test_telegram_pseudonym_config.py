"""Pseudonymous sender ids and the front's settings."""

import hashlib
import hmac
import os
import stat

import pytest

from telegram_front.config import DEFAULT_API_URL, PROJECT_ROOT, Config, ConfigError
from telegram_front.pseudonym import load_or_create_secret, make_pseudonymizer, sender_id

KEY = "3f9c0a1b2c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"


def test_sender_id_is_hmac_sha256_hex_of_the_chat_id():
    expected = hmac.new(b"k" * 32, b"123456789", hashlib.sha256).hexdigest()
    assert sender_id("k" * 32, 123456789) == expected
    assert len(expected) == 64 and "123456789" not in expected


def test_sender_id_depends_on_the_key_and_the_chat():
    assert sender_id("a" * 32, 1) != sender_id("b" * 32, 1)
    assert sender_id("a" * 32, 1) != sender_id("a" * 32, 2)
    assert sender_id("a" * 32, -100123) == sender_id("a" * 32, -100123)


def test_secret_file_is_created_with_mode_600_and_reused(tmp_path):
    path = tmp_path / "var" / "telegram_sender_secret"
    first = load_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert load_or_create_secret(path) == first
    # a restart (new pseudonymizer from the same file) gives the same ids
    assert make_pseudonymizer(None, path)(42) == make_pseudonymizer(None, path)(42)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_secret_file_is_created_private_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        load_or_create_secret(tmp_path / "s")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o600


def test_a_secret_file_readable_by_others_is_made_private(tmp_path):
    path = tmp_path / "s"
    path.write_text("x" * 64)
    path.chmod(0o644)
    assert load_or_create_secret(path) == "x" * 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_secret_file_is_an_error_not_a_silent_new_key(tmp_path):
    path = tmp_path / "s"
    path.write_text("")
    path.chmod(0o600)
    with pytest.raises(ValueError):
        load_or_create_secret(path)


def test_the_environment_secret_wins_and_no_file_is_written(tmp_path):
    path = tmp_path / "s"
    pseudonym = make_pseudonymizer(KEY, path)
    assert pseudonym(7) == sender_id(KEY, 7)
    assert not path.exists()
    assert KEY not in repr(pseudonym)


def test_config_defaults():
    config = Config.from_env({"TELEGRAM_BOT_TOKEN": "1:abc"})
    assert config.token == "1:abc"
    assert config.api_url == DEFAULT_API_URL == "https://api.telegram.org/bot"
    assert config.file_url == "https://api.telegram.org/file/bot"
    assert config.rasa_url == "http://localhost:5005"
    assert config.webhook_url is None
    assert config.sender_id_secret is None
    assert config.sender_id_secret_file == PROJECT_ROOT / "var" / "telegram_sender_secret"
    assert len(config.webhook_secret) >= 32
    assert Config.from_env({"TELEGRAM_BOT_TOKEN": "1:abc"}).webhook_secret != config.webhook_secret


def test_config_from_environment():
    config = Config.from_env(
        {
            "TELEGRAM_BOT_TOKEN": "1:abc",
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/bot",
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg/hook",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret_token-OK_6f1d0c9a8b7e2f4d3c5b",
            "TELEGRAM_WEBHOOK_LISTEN": "0.0.0.0",
            "TELEGRAM_WEBHOOK_PORT": "9000",
            "RASA_URL": "http://rasa:5005/",
            "RASA_TIMEOUT_SECONDS": "7.5",
            "SENDER_ID_SECRET": KEY,
            "SENDER_ID_SECRET_FILE": "/tmp/elsewhere",
        }
    )
    assert config.api_url == "http://127.0.0.1:8081/bot"
    assert config.webhook_url == "https://bot.example.org/tg/hook" and config.webhook_path == "/tg/hook"
    assert config.webhook_secret == "s3cret_token-OK_6f1d0c9a8b7e2f4d3c5b"
    assert (config.webhook_listen, config.webhook_port) == ("0.0.0.0", 9000)
    assert config.rasa_url == "http://rasa:5005" and config.rasa_timeout == 7.5
    assert config.sender_id_secret == KEY
    assert str(config.sender_id_secret_file) == "/tmp/elsewhere"


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"TELEGRAM_BOT_TOKEN": "  "},
        {"TELEGRAM_BOT_TOKEN": "1:a", "RASA_TIMEOUT_SECONDS": "soon"},
        {"TELEGRAM_BOT_TOKEN": "1:a", "RASA_TIMEOUT_SECONDS": "0"},
        {"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_WEBHOOK_URL": "bot.example.org"},
        {"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_WEBHOOK_SECRET": "no spaces allowed"},
    ],
)
def test_bad_settings_are_refused_without_echoing_values(env):
    with pytest.raises(ConfigError) as error:
        Config.from_env(env)
    assert "no spaces allowed" not in str(error.value)
