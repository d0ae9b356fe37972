"""Webhook receiver (aiohttp): Telegram POSTs updates here when TELEGRAM_WEBHOOK_URL is set.

Only requests carrying the secret token given to setWebhook (header
X-Telegram-Bot-Api-Secret-Token) are accepted; others get 403 and are dropped. TLS is
left to the reverse proxy that TELEGRAM_WEBHOOK_URL points at.

Telegram never compresses its requests: a compressed body (Content-Encoding) is refused
with 415 before anything is read, and aiohttp's automatic decompression is off, so that
a small "zip bomb" cannot cost gigabytes of memory (aiohttp 3.9.5: CVE-2025-69223).
"""

from __future__ import annotations

import hmac
import logging
from typing import Optional

from aiohttp import web
from telegram.ext import Application

from telegram_front.updates import parse_update

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024


class WebhookServer:
    def __init__(self, application: Application, path: str, secret: str, listen: str, port: int) -> None:
        self.application = application
        self.path = path
        self._secret = secret.encode("utf-8")
        self.listen = listen
        self.port = port
        self._runner: Optional[web.AppRunner] = None

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None, auto_decompress=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        logger.info("webhook server listening on %s:%d", self.listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        encodings = (
            (request.headers.get("Content-Encoding", "") + "," + request.headers.get("Transfer-Encoding", ""))
            .lower()
            .split(",")
        )
        if any(e.strip() not in ("", "identity", "chunked") for e in encodings):
            return web.Response(status=415)  # before the body is read
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, self._secret):
            logger.warning("webhook: request without the right secret token refused")
            return web.Response(status=403)
        try:
            data = await request.json()
        except Exception as error:
            logger.warning("webhook: unreadable update (%s)", type(error).__name__)
            return web.Response(status=400)
        update = parse_update(data, self.application.bot)
        if update is None:
            return web.Response(status=400)
        await self.application.update_queue.put(update)
        return web.Response(status=200)
