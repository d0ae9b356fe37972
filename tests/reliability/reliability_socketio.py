"""A socket.io client of the web widget channel (bot/channels/webchat.py), for the
tests that speak to the real running stack.

Long-polling transport: python-socketio's websocket transport needs a newer aiohttp
than the one Rasa 3.6 pins (aiohttp.ClientWSTimeout is missing from aiohttp 3.9)."""

import asyncio
from typing import Any, Dict, List, Optional

import socketio


class WidgetSession:
    """One widget tab: connects, asks for a session, sends messages, collects replies."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.replies: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        self.session_id: Optional[str] = None

    async def __aenter__(self) -> "WidgetSession":
        confirmed = asyncio.get_running_loop().create_future()

        def on_confirm(data: Any) -> None:
            if not confirmed.done():
                confirmed.set_result(data)

        self.sio.on("session_confirm", on_confirm)
        self.sio.on("bot_uttered", self.replies.put_nowait)
        await self.sio.connect(self.url, transports=["polling"], wait_timeout=20)
        await self.sio.emit("session_request", {"session_id": None})
        self.session_id = await asyncio.wait_for(confirmed, 20)
        return self

    @property
    def sender_id(self) -> str:
        """The conversation's id in the store: the token is `<id>.<proof>`."""
        return (self.session_id or "").split(".")[0]

    async def __aexit__(self, *exc: Any) -> None:
        # Close without waiting for the pending long-poll request (up to 25 s).
        await self.sio.eio.disconnect(abort=True)

    async def emit_raw(self, data: Any) -> None:
        await self.sio.emit("user_uttered", data)

    async def say(self, text: str, timeout: float = 60, settle: float = 0.5) -> List[Dict[str, Any]]:
        """Sends one message; returns the turn's replies (up to the answer payload and
        whatever follows it within `settle` seconds)."""
        await self.emit_raw({"message": text, "session_id": self.session_id})
        return await self.collect(timeout, settle)

    async def collect(self, timeout: float, settle: float = 0.5) -> List[Dict[str, Any]]:
        replies: List[Dict[str, Any]] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            has_payload = any(isinstance(r.get("custom"), dict) for r in replies)
            left = settle if has_payload else deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return replies
            try:
                replies.append(await asyncio.wait_for(self.replies.get(), left))
            except asyncio.TimeoutError:
                return replies
