"""Bot API requests with retries: 429 (after Telegram's retry_after) and 5xx (backoff).

Retrying is done around the HTTP call itself, so every Bot API method benefits. A
request is also retried when the connection could not be made (nothing was sent); it is
never retried after a read timeout, because the message may have been sent already.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Optional, Tuple

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)


class RetryingRequest(HTTPXRequest):
    def __init__(
        self,
        *args,
        max_retries: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay

    def _backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * (2**attempt))
        return delay * (1 + random.random() / 4)

    async def do_request(self, url: str, method: str, request_data=None, **timeouts) -> Tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]  # the URL holds the token: log only the method
        attempt = 0
        while True:
            try:
                status, content = await super().do_request(url, method, request_data, **timeouts)
            except TimedOut:
                raise
            except NetworkError as error:
                if attempt >= self.max_retries or not isinstance(error.__cause__, httpx.ConnectError):
                    raise
                delay, reason = self._backoff(attempt), "connection failed"
            else:
                if status == 429:
                    retry_after = _retry_after(content)
                    if retry_after is not None and retry_after > self.max_delay:
                        return status, content  # too long to wait: let the caller see it
                    delay = retry_after if retry_after is not None else self._backoff(attempt)
                elif 500 <= status < 600:
                    delay = self._backoff(attempt)
                else:
                    return status, content
                if attempt >= self.max_retries:
                    return status, content
                reason = f"HTTP {status}"
            attempt += 1
            logger.warning(
                "Bot API %s: %s, retry %d/%d in %.1f s",
                api_method,
                reason,
                attempt,
                self.max_retries,
                delay,
            )
            await asyncio.sleep(delay)


def _retry_after(content: bytes) -> Optional[float]:
    try:
        value = json.loads(content.decode("utf-8"))["parameters"]["retry_after"]
        return max(0.0, float(value))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
