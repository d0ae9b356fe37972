"""Logging that never shows message text, chat ids, names, usernames or the token.

The front's own log lines carry only update kinds and timings. Two guards cover the
libraries: httpx's request lines (whose URLs contain the bot token) are silenced, and a
filter on the handlers replaces the token and any Telegram object passed as a log
argument (python-telegram-bot logs whole updates in some error paths).
"""

from __future__ import annotations

import logging
from typing import Iterable, Optional

from telegram import TelegramObject

QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "aiohttp.access")


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def add_secret(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            if any(isinstance(a, TelegramObject) for a in args):
                safe = tuple(f"<{type(a).__name__}>" if isinstance(a, TelegramObject) else a for a in args)
                record.args = safe if isinstance(record.args, tuple) else safe[0]
        if self._secrets:
            try:
                message = record.getMessage()
            except Exception:  # malformed record: let logging report it as usual
                return True
            redacted = message
            for secret in self._secrets:
                redacted = redacted.replace(secret, "<redacted>")
            if redacted != message:
                record.msg, record.args = redacted, None
            if record.exc_info and record.exc_info[1] is not None:
                text = logging.Formatter().formatException(record.exc_info)
                for secret in self._secrets:
                    text = text.replace(secret, "<redacted>")
                record.exc_text = text
        return True


def setup_logging(
    level: int = logging.INFO, secrets: Iterable[str] = (), handler: Optional[logging.Handler] = None
) -> RedactingFilter:
    """Configures the root logger for the front (used by `python -m telegram_front`)."""
    root = logging.getLogger()
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    redactor = RedactingFilter(secrets)
    handler.addFilter(redactor)
    root.addHandler(handler)
    root.setLevel(level)
    quiet_libraries()
    return redactor


def quiet_libraries() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
