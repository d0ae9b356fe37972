"""Reading updates so that one unreadable update never blocks the others.

python-telegram-bot parses a whole getUpdates batch at once: if one update does not fit
its models (a newer or older Bot API server, an unexpected field), the batch fails, the
offset never moves, and polling is stuck on that update forever; the library also logs
the raw batch (message texts, chat ids, names) at CRITICAL. Here each update is parsed
on its own; an unreadable one is replaced by a bare update (its chat and message id
only), which the handlers answer as "a message I cannot read".
"""

from __future__ import annotations

import datetime as dtm
import logging
from typing import Any, Dict, Optional, Tuple

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram.ext import ExtBot

logger = logging.getLogger(__name__)

BARE_MESSAGE_KEYS = ("message_id", "date", "chat", "from", "edit_date")


def parse_update(data: Any, bot) -> Optional[Update]:
    """Update.de_json that never raises; None only when there is no update_id at all."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        logger.warning("update without update_id dropped")
        return None
    try:
        return Update.de_json(data, bot)
    except Exception as error:
        logger.warning("unreadable update (%s): handled as a bare one", type(error).__name__)
        return _bare_update(data, bot)


def _bare_update(data: Dict[str, Any], bot) -> Update:
    update_id = data["update_id"]
    for key in ("message", "edited_message"):
        message = data.get(key)
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            bare = {k: message[k] for k in BARE_MESSAGE_KEYS if k in message}
            try:
                return Update.de_json({"update_id": update_id, key: bare}, bot)
            except Exception:
                break
    return Update(update_id=update_id)


class TolerantBot(ExtBot):
    async def get_updates(
        self,
        offset: Optional[int] = None,
        limit: Optional[int] = None,
        timeout: Any = None,
        allowed_updates=None,
        *,
        read_timeout=DEFAULT_NONE,
        write_timeout=DEFAULT_NONE,
        connect_timeout=DEFAULT_NONE,
        pool_timeout=DEFAULT_NONE,
        api_kwargs=None,
    ) -> Tuple[Update, ...]:
        data = {"timeout": timeout, "offset": offset, "limit": limit, "allowed_updates": allowed_updates}
        # As Bot.get_updates: the read timeout must outlast the long poll.
        if isinstance(read_timeout, DefaultValue):
            base = self._request[0].read_timeout or 0
        else:
            base = read_timeout or 0
        seconds = timeout.total_seconds() if isinstance(timeout, dtm.timedelta) else (timeout or 0)
        result = await self._post(
            "getUpdates",
            data,
            read_timeout=base + seconds,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        updates = tuple(u for u in (parse_update(raw, self) for raw in result or []) if u is not None)
        for update in updates:
            self.insert_callback_data(update)
        return updates
