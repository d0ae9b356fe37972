"""`python -m telegram_front`: start the Telegram front (settings: see config.py)."""

import asyncio
import logging
import sys

from telegram_front.app import run
from telegram_front.config import Config, ConfigError
from telegram_front.logsafe import setup_logging

logger = logging.getLogger("telegram_front")


def main() -> int:
    try:
        config = Config.from_env()
    except ConfigError as error:
        print(f"telegram_front: {error}", file=sys.stderr)
        return 2
    setup_logging(logging.INFO, secrets=[config.token, config.webhook_secret, config.sender_id_secret or ""])
    try:
        asyncio.run(run(config))
    except KeyboardInterrupt:
        pass
    except Exception as error:
        # Through the log (whose filter hides the token: python-telegram-bot puts it in
        # the message of InvalidToken), never as a raw traceback.
        logger.error("could not run the Telegram front: %s: %s", type(error).__name__, error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
