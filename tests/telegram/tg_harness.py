"""Runs the real front (in this process) against the fake Bot API and a Rasa URL."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, AsyncIterator, Optional

from fake_bot_api import FakeBotAPI
from fake_rasa_rest import FakeRasa

from telegram_front.app import TelegramFront
from telegram_front.config import Config
from telegram_front.pseudonym import sender_id

REPO_ROOT_FOR_TESTS = Path(__file__).resolve().parents[2]
TOKEN = "123456789:" + "AAH-test_TOKEN-value-0123456789abcd"  # fake, split for secret scanners
SECRET = "test-sender-secret-0123456789abcdef0123456789"
TEST_TIMEOUT = 90


def async_test(fn):
    """Runs an async test function in a fresh event loop, with a global time limit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), TEST_TIMEOUT))

    return wrapper


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_config(api: FakeBotAPI, rasa_url: str, tmp_path: Path, **overrides: Any) -> Config:
    config = Config(
        token=TOKEN,
        api_url=api.base_url,
        rasa_url=rasa_url,
        rasa_timeout=2.0,
        sender_id_secret=SECRET,
        sender_id_secret_file=tmp_path / "sender_secret",
        poll_timeout=1.0,
        retry_base_delay=0.01,
        retry_max_delay=2.0,
        typing_interval=0.2,
        # No trained model: the keyword net, unless a test gives a model (test_telegram_danger.py).
        model_path=tmp_path / "no-model.tar.gz",
    )
    return replace(config, **overrides)


@dataclass
class Running:
    api: FakeBotAPI
    rasa: Optional[FakeRasa]
    front: TelegramFront
    config: Config

    def sender(self, chat_id: int) -> str:
        return sender_id(self.config.sender_id_secret or "", chat_id)


@contextlib.asynccontextmanager
async def running_front(
    tmp_path: Path, *, rasa_url: Optional[str] = None, webhook: bool = False, **overrides: Any
) -> AsyncIterator[Running]:
    """Fake Bot API + (fake Rasa unless rasa_url is given) + the real front."""
    api = await FakeBotAPI(TOKEN).start()
    rasa = None if rasa_url else await FakeRasa().start()
    if webhook:
        port = free_port()
        overrides.setdefault("webhook_url", f"http://127.0.0.1:{port}/telegram/hook")
        overrides.setdefault("webhook_port", port)
        overrides.setdefault("webhook_listen", "127.0.0.1")
    config = test_config(api, rasa_url or rasa.url, tmp_path, **overrides)
    front = TelegramFront(config)
    try:
        await front.start()
        yield Running(api, rasa, front, config)
    finally:
        await front.stop()
        if rasa:
            await rasa.stop()
        await api.stop()
