"""Per-chat state kept in memory only, and bounded: nothing here survives a restart.

- ButtonStore: short keys for callback_data (Telegram allows 64 bytes; Rasa payloads
  can be longer) -> the button's payload.
- MessageLog: ids of recent messages of the chat (the user's and the bot's), so that
  /oubli can delete them.
- ChatLanguages: the language a chat chose with /langue (for the front's own texts);
  /oubli forgets it.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from typing import Deque, Generic, List, Optional, Tuple, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: "OrderedDict[K, V]" = OrderedDict()

    def get(self, key: K) -> Optional[V]:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def pop(self, key: K) -> Optional[V]:
        return self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


class ButtonStore:
    """Per chat, the payloads behind the buttons recently shown (bounded LRU)."""

    def __init__(self, max_chats: int = 10_000, per_chat: int = 200) -> None:
        self._chats: _LRU[int, "OrderedDict[str, str]"] = _LRU(max_chats)
        self.per_chat = per_chat

    def key_for(self, chat_id: int, payload: str) -> str:
        keys = self._chats.get(chat_id)
        if keys is None:
            keys = OrderedDict()
            self._chats.put(chat_id, keys)
        # Random keys: after a restart an old button finds nothing instead of a wrong
        # payload. 12 characters of base64url, well under the 64-byte limit.
        key = secrets.token_urlsafe(9)
        keys[key] = payload
        while len(keys) > self.per_chat:
            keys.popitem(last=False)
        return key

    def payload(self, chat_id: int, key: str) -> Optional[str]:
        keys = self._chats.get(chat_id)
        return keys.get(key) if keys else None

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id)


# Bots can delete messages of a private chat for 48 hours.
DELETABLE_SECONDS = 48 * 3600 - 60


class MessageLog:
    """Per chat, the ids of recent messages (bounded LRU of bounded deques)."""

    def __init__(self, max_chats: int = 10_000, per_chat: int = 300) -> None:
        self._chats: _LRU[int, Deque[Tuple[int, float]]] = _LRU(max_chats)
        self.per_chat = per_chat

    def add(self, chat_id: int, message_id: int, when: Optional[float] = None) -> None:
        log = self._chats.get(chat_id)
        if log is None:
            log = deque(maxlen=self.per_chat)
            self._chats.put(chat_id, log)
        log.append((message_id, time.time() if when is None else when))

    def take_deletable(self, chat_id: int, now: Optional[float] = None) -> List[int]:
        """Removes and returns the chat's message ids still deletable, newest first."""
        log = self._chats.pop(chat_id)
        if not log:
            return []
        now = time.time() if now is None else now
        ids = sorted({mid for mid, when in log if now - when < DELETABLE_SECONDS}, reverse=True)
        return ids

    def ids(self, chat_id: int) -> List[int]:
        log = self._chats.get(chat_id)
        return [mid for mid, _ in log] if log else []


class ChatLanguages:
    """Per chat, the language chosen with a language button (bounded LRU)."""

    def __init__(self, max_chats: int = 10_000) -> None:
        self._chats: _LRU[int, str] = _LRU(max_chats)

    def get(self, chat_id: int) -> Optional[str]:
        return self._chats.get(chat_id)

    def choose(self, chat_id: int, language: str) -> None:
        self._chats.put(chat_id, language)

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id)
