"""Settings of the Telegram front, read from the environment.

| Variable                    | Default                          | Meaning                              |
|-----------------------------|----------------------------------|--------------------------------------|
| TELEGRAM_BOT_TOKEN          | (required)                       | the bot's token (from @BotFather)    |
| TELEGRAM_API_URL            | https://api.telegram.org/bot     | Bot API base URL; requests go to     |
|                             |                                  | {TELEGRAM_API_URL}{token}/{method}   |
| TELEGRAM_WEBHOOK_URL        | (unset: long polling)            | public HTTPS URL Telegram posts to   |
| TELEGRAM_WEBHOOK_SECRET     | (generated at each start)        | secret-token header Telegram sends   |
|                             |                                  | (>= 32 chars, no placeholder)        |
| TELEGRAM_WEBHOOK_LISTEN     | 127.0.0.1                        | address the webhook server binds     |
| TELEGRAM_WEBHOOK_PORT       | 8443                             | port the webhook server binds        |
| RASA_URL                    | http://localhost:5005            | where Rasa's REST channel is         |
| RASA_TIMEOUT_SECONDS        | 15                               | longest wait for Rasa's answer       |
| SENDER_ID_SECRET            | (read or generated in the file;  | HMAC key of the pseudonymous ids     |
|                             | required in webhook mode)        | (>= 32 chars, no placeholder)        |
| SENDER_ID_SECRET_FILE       | var/telegram_sender_secret       | where a generated key is kept (600)  |
| ASSISTANT_MODEL             | models/assistant.tar.gz          | the trained model Rasa serves: the   |
|                             |                                  | front reads its danger detector and  |
|                             |                                  | its language model                   |

Relative paths are taken from the project root.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import urlsplit

from secrets_policy import WeakSecretError, check_secret

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_RASA_URL = "http://localhost:5005"
DEFAULT_SECRET_FILE = "var/telegram_sender_secret"
DEFAULT_MODEL_FILE = "models/assistant.tar.gz"


class ConfigError(ValueError):
    """A setting is missing or malformed (the message says which, never its value)."""


@dataclass
class Config:
    token: str
    api_url: str = DEFAULT_API_URL
    webhook_url: Optional[str] = None
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    rasa_url: str = DEFAULT_RASA_URL
    rasa_timeout: float = 15.0
    sender_id_secret: Optional[str] = None
    sender_id_secret_file: Path = PROJECT_ROOT / DEFAULT_SECRET_FILE
    model_path: Path = PROJECT_ROOT / DEFAULT_MODEL_FILE
    # Not from the environment: tuning knobs (tests shorten them).
    poll_timeout: float = 10.0
    max_retries: int = 5
    retry_base_delay: float = 0.5
    retry_max_delay: float = 30.0
    typing_interval: float = 4.0
    max_user_chars: int = 2000
    max_concurrent_updates: int = 256
    # Per chat, updates not yet done, the running one included (more are refused,
    # scheduler.py); and how many chats may wait for Rasa at the same time.
    max_pending_per_chat: int = 3
    max_running_chats: int = 128

    @property
    def file_url(self) -> str:
        """Base URL of file downloads, derived from the API URL (…/bot -> …/file/bot)."""
        base = self.api_url
        if base.endswith("/bot"):
            return base[: -len("bot")] + "file/bot"
        return base

    @property
    def webhook_path(self) -> str:
        path = urlsplit(self.webhook_url or "").path
        return path or "/"

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Config":
        env = os.environ if env is None else env

        def get(name: str) -> Optional[str]:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        token = get("TELEGRAM_BOT_TOKEN")
        if not token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
        webhook_url = get("TELEGRAM_WEBHOOK_URL")
        if webhook_url and urlsplit(webhook_url).scheme not in ("http", "https"):
            raise ConfigError("TELEGRAM_WEBHOOK_URL must be an http(s) URL")
        kwargs = dict(
            token=token,
            api_url=get("TELEGRAM_API_URL") or DEFAULT_API_URL,
            webhook_url=webhook_url,
            webhook_listen=get("TELEGRAM_WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=_number(get("TELEGRAM_WEBHOOK_PORT"), 8443, int, "TELEGRAM_WEBHOOK_PORT"),
            rasa_url=(get("RASA_URL") or DEFAULT_RASA_URL).rstrip("/"),
            rasa_timeout=_number(get("RASA_TIMEOUT_SECONDS"), 15.0, float, "RASA_TIMEOUT_SECONDS"),
            sender_id_secret=get("SENDER_ID_SECRET"),
            sender_id_secret_file=_project_path(get("SENDER_ID_SECRET_FILE") or DEFAULT_SECRET_FILE),
            model_path=_project_path(get("ASSISTANT_MODEL") or DEFAULT_MODEL_FILE),
        )
        secret = get("TELEGRAM_WEBHOOK_SECRET")
        if secret:
            if not all(c.isalnum() or c in "_-" for c in secret) or len(secret) > 256:
                raise ConfigError("TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256)")
            kwargs["webhook_secret"] = _strong("TELEGRAM_WEBHOOK_SECRET", secret)
        if kwargs["sender_id_secret"]:
            kwargs["sender_id_secret"] = _strong("SENDER_ID_SECRET", kwargs["sender_id_secret"])
        elif webhook_url:
            # Production: a key generated in a container's writable layer would change
            # at every restart, and /oubli could no longer reach earlier conversations.
            raise ConfigError(
                "SENDER_ID_SECRET is required in webhook mode (TELEGRAM_WEBHOOK_URL "
                "is set): keep the same key across restarts"
            )
        return cls(**kwargs)


def _strong(name: str, value: str) -> str:
    try:
        return check_secret(name, value)
    except WeakSecretError as error:
        raise ConfigError(str(error)) from None


def _project_path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def _number(value: Optional[str], default, kind, name: str):
    if value is None:
        return default
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None
    if number <= 0:
        raise ConfigError(f"{name} must be positive")
    return number
