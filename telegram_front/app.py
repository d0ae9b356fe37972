"""Building, starting and stopping the front (polling by default, webhook when configured)."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Optional

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from telegram_front.config import Config
from telegram_front.handlers import Handlers
from telegram_front.logsafe import quiet_libraries
from telegram_front.pseudonym import Pseudonymizer, make_pseudonymizer
from telegram_front.rasa_client import RasaClient
from telegram_front.request import RetryingRequest
from telegram_front.scheduler import ChatScheduler
from telegram_front.texts import REFERENCE, TextBook
from telegram_front.updates import TolerantBot
from telegram_front.webhook import WebhookServer

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


class TelegramFront:
    def __init__(
        self, config: Config, texts: Optional[TextBook] = None, pseudonym: Optional[Pseudonymizer] = None
    ) -> None:
        self.config = config
        self.texts = texts or TextBook.load()
        self.pseudonym = pseudonym or make_pseudonymizer(
            config.sender_id_secret, config.sender_id_secret_file
        )
        self.rasa: Optional[RasaClient] = None
        self.handlers: Optional[Handlers] = None
        self.scheduler: Optional[ChatScheduler] = None
        self.application: Optional[Application] = None
        self.webhook: Optional[WebhookServer] = None

    @property
    def webhook_mode(self) -> bool:
        return bool(self.config.webhook_url)

    def build(self) -> Application:
        config = self.config
        self.rasa = RasaClient(config.rasa_url, config.rasa_timeout, max_connections=config.max_running_chats)
        self.handlers = Handlers(config, self.texts, self.rasa, self.pseudonym)
        self.scheduler = ChatScheduler(
            self.handlers.triage,
            self.handlers.answer_urgent,
            self.handlers.refuse,
            max_running=config.max_running_chats,
            max_pending=config.max_pending_per_chat,
            max_concurrent_updates=config.max_concurrent_updates,
        )
        retry = dict(
            max_retries=config.max_retries,
            base_delay=config.retry_base_delay,
            max_delay=config.retry_max_delay,
        )
        bot = TolerantBot(
            config.token,
            base_url=config.api_url,
            base_file_url=config.file_url,
            request=RetryingRequest(
                connection_pool_size=config.max_concurrent_updates, read_timeout=15.0, **retry
            ),
            get_updates_request=RetryingRequest(connection_pool_size=2, read_timeout=10.0, **retry),
        )
        builder = Application.builder().bot(bot).concurrent_updates(self.scheduler).job_queue(None)
        if self.webhook_mode:
            builder = builder.updater(None)
        application = builder.build()
        application.add_handler(TypeHandler(Update, self.handlers.on_update))
        application.add_error_handler(_on_error)
        self.application = application
        return application

    async def start(self) -> None:
        quiet_libraries()
        application = self.build()
        await application.initialize()  # getMe: fails here on a wrong token or API URL
        await self._register_commands()
        if self.webhook_mode:
            self.webhook = WebhookServer(
                application,
                self.config.webhook_path,
                self.config.webhook_secret,
                self.config.webhook_listen,
                self.config.webhook_port,
            )
            await self.webhook.start()
            await application.start()
            await application.bot.set_webhook(
                url=self.config.webhook_url,
                secret_token=self.config.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            logger.info("Telegram front started (webhook mode)")
        else:
            await application.updater.start_polling(
                poll_interval=0.0,
                timeout=self.config.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=5,
            )
            await application.start()
            logger.info("Telegram front started (long polling)")

    async def _register_commands(self) -> None:
        """The command menu in each language: French for everyone, then one list per
        language for the users whose app is set to it (Bot API `language_code`)."""
        for texts in self.texts:
            commands = [BotCommand(name, description) for name, description in texts.commands.items()]
            language = None if texts.language == REFERENCE else texts.language
            try:
                await self.application.bot.set_my_commands(commands, language_code=language)
            except TelegramError as error:
                logger.warning("setMyCommands (%s) failed: %s", texts.language, type(error).__name__)

    async def stop(self) -> None:
        application = self.application
        if application is None:
            return
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if self.webhook is not None:
            await self.webhook.stop()  # the webhook stays set: Telegram keeps updates meanwhile
        if self.scheduler is not None:
            await self.scheduler.stop(grace=STOP_GRACE_SECONDS)  # let queued turns finish
        if application.running:
            await application.stop()
        await application.shutdown()
        if self.rasa is not None:
            await self.rasa.aclose()
        logger.info("Telegram front stopped")


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Errors outside the update handler (polling, network): type only, never content.
    logger.error("error: %s", type(context.error).__name__)


async def run(config: Config) -> None:
    front = TelegramFront(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover (Windows)
            pass
    try:
        await front.start()
        await stop.wait()
    finally:
        await front.stop()
