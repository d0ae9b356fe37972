"""A fake of Rasa's REST channel (POST /webhooks/rest/webhook) for the front's tests.

By default it answers like the real assistant does (answer text + buttons + the
`custom` answer payload); `responder` can be replaced, `delay` slows every answer down,
`status` makes it fail, and stop() makes it unreachable.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

LONG_PAYLOAD = '/en_savoir_plus{"topic":"protection-hebergement-et-mise-a-l-abri-des-victimes"}'
ANSWER = "Réponse courte à votre question. Source : CESEDA art. L425-1."
DETAILS = "Voici les détails demandés.\n\nDeuxième paragraphe des détails."
ERASED = "Votre conversation a été effacée."
MENU = "Voici les sujets :"


@dataclass
class Received:
    sender: str
    message: str
    at: float
    body: Dict[str, Any]  # the whole JSON body, as the front sent it


def default_responder(sender: str, message: str) -> List[Dict[str, Any]]:
    custom = {
        "recipient_id": sender,
        "custom": {
            "topic": "titre-sejour",
            "intent": "titre-sejour",
            "confidence": 0.93,
            "sources": [{"title": "CESEDA", "reference": "L425-1", "url": "https://x"}],
        },
    }
    if message == "/effacer_conversation":
        return [{"recipient_id": sender, "text": ERASED}]
    if message == "/menu":
        return [
            {
                "recipient_id": sender,
                "text": MENU,
                "buttons": [
                    {"title": "Titre de séjour", "payload": "/titre-sejour"},
                    {"title": "Porter plainte", "payload": "/porter-plainte"},
                ],
            }
        ]
    if message.startswith("/en_savoir_plus"):
        # Rasa's REST channel sends each paragraph of a text as its own element.
        return [{"recipient_id": sender, "text": p} for p in DETAILS.split("\n\n")] + [custom]
    return [
        {
            "recipient_id": sender,
            "text": ANSWER,
            "buttons": [
                {"title": "En savoir plus", "payload": LONG_PAYLOAD},
                {"title": "Parler à quelqu'un", "payload": "/contacts-aide"},
            ],
        },
        custom,
    ]


Responder = Callable[[str, str], Any]  # returns the elements, or an awaitable of them


class FakeRasa:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port: Optional[int] = None
        self.received: List[Received] = []
        self.responder: Responder = default_responder
        self.delay: float = 0.0
        self.status: int = 200
        self._runner: Optional[web.AppRunner] = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> "FakeRasa":
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port or 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    def messages(self, sender: Optional[str] = None) -> List[str]:
        return [r.message for r in self.received if sender is None or r.sender == sender]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender, message = body["sender"], body["message"]
        self.received.append(Received(sender, message, time.perf_counter(), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.json_response({"error": "boom"}, status=self.status)
        elements = self.responder(sender, message)
        if inspect.isawaitable(elements):
            elements = await elements
        return web.json_response(elements)
