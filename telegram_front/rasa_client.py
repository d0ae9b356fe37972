"""Client of Rasa's REST channel: POST {RASA_URL}/webhooks/rest/webhook."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

import httpx

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/rest/webhook"


class RasaUnavailable(Exception):
    """Rasa did not answer in time, or answered something unusable."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float, max_connections: int = 100) -> None:
        self._url = base_url.rstrip("/") + WEBHOOK_PATH
        self._timeout = timeout
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=max_connections),
        )

    async def send(
        self, sender: str, message: str, language_hint: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Returns Rasa's elements for one user message, or raises RasaUnavailable.

        `language_hint` (the user's app language, a 2-letter code) is the only metadata
        ever sent: a prior for Rasa's language detector (nlu/language.py)."""
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if language_hint:
            body["metadata"] = {"language_hint": language_hint}
        try:
            response = await asyncio.wait_for(
                self._client.post(self._url, json=body),
                timeout=self._timeout,
            )
        except asyncio.TimeoutError:
            raise RasaUnavailable("timeout") from None
        except httpx.HTTPError as error:
            raise RasaUnavailable(type(error).__name__) from None
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            elements = response.json()
        except ValueError:
            raise RasaUnavailable("invalid JSON") from None
        if not isinstance(elements, list):
            raise RasaUnavailable("not a list")
        return [e for e in elements if isinstance(e, dict)]

    async def aclose(self) -> None:
        await self._client.aclose()
