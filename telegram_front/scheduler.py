"""When each update runs: urgent first, one queue per chat, a cap per chat.

A PTB update processor (telegram.ext.BaseUpdateProcessor). PTB holds one of its
concurrency slots while `do_process_update` runs, so this method never waits for
anything slow:
- an urgent update (/urgence, or a text that looks like danger) gets the emergency
  numbers at once, before and outside the chat's queue;
- any other update of a private chat is appended to its chat's queue and the slot is
  released at once; one worker per chat runs the chat's updates one after the other
  (arrival order), and at most `max_running` chats run at the same time;
- a chat with `max_pending` updates not yet done (the running one included) gets no
  more: the update is dropped and the person is told, once per backlog, to send one
  message at a time.
So one chat that floods holds at most one running place and `max_pending` updates in
memory; it cannot delay /urgence, nor the other chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Deque, Dict, Optional, Set

from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Triage:
    """What the scheduler needs to know of an update (decided without awaiting)."""

    chat_id: Optional[int]  # a private chat, or None: run at once, no queue (groups…)
    urgent: bool = False  # send the emergency numbers at once
    queued: bool = True  # then run the handler in the chat's queue (False: /urgence)


class ChatScheduler(BaseUpdateProcessor):
    def __init__(
        self,
        triage: Callable[[object], Triage],
        answer_urgent: Callable[[object, int], Awaitable[None]],
        refuse: Callable[[object, int, bool], Awaitable[None]],
        *,
        max_running: int = 64,
        max_pending: int = 3,
        max_concurrent_updates: int = 256,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._triage = triage
        self._answer_urgent = answer_urgent
        self._refuse = refuse
        self.max_pending = max_pending
        self._running = asyncio.Semaphore(max_running)
        self._queues: Dict[int, Deque[Awaitable[Any]]] = {}
        self._workers: Dict[int, asyncio.Task] = {}
        self._told: Set[int] = set()  # chats told "one message at a time"
        self._urgent_sending: Set[int] = set()  # chats whose numbers are being sent
        self._refusals: Set[asyncio.Task] = set()

    # ------------------------------------------------------------------ PTB hooks
    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Nothing is awaited before the update has its place: PTB starts these calls in
        # arrival order, so the queues keep it.
        triage = self._triage(update)
        chat_id = triage.chat_id
        if chat_id is None:
            await coroutine
            return
        if triage.queued:
            self._enqueue(update, chat_id, coroutine)
        else:
            _close(coroutine)
        if triage.urgent:
            await self._urgent(update, chat_id)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        await self.stop(grace=0)

    # ------------------------------------------------------------------ queues
    def _enqueue(self, update: object, chat_id: int, coroutine: Awaitable[Any]) -> None:
        queue = self._queues.setdefault(chat_id, deque())
        if len(queue) >= self.max_pending:
            _close(coroutine)
            tell = chat_id not in self._told
            self._told.add(chat_id)
            logger.info("chat backlog full: update dropped")
            task = asyncio.create_task(self._quietly(self._refuse(update, chat_id, tell)))
            self._refusals.add(task)
            task.add_done_callback(self._refusals.discard)
            return
        queue.append(coroutine)
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._work(chat_id))

    async def _work(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue:
                # The running update stays in the queue until done: it counts as pending.
                async with self._running:
                    await self._quietly(queue[0])
                queue.popleft()
        finally:
            for coroutine in queue:
                _close(coroutine)
            del self._queues[chat_id]
            del self._workers[chat_id]
            self._told.discard(chat_id)  # idle again: a later flood is told again

    async def _urgent(self, update: object, chat_id: int) -> None:
        if chat_id in self._urgent_sending:
            return  # the numbers are already on their way to this chat
        self._urgent_sending.add(chat_id)
        try:
            await self._quietly(self._answer_urgent(update, chat_id))
        finally:
            self._urgent_sending.discard(chat_id)

    @staticmethod
    async def _quietly(awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except Exception as error:  # the handlers log their own failures; never kill a worker
            logger.error("scheduled update failed: %s", type(error).__name__)

    # ------------------------------------------------------------------ state
    def pending(self, chat_id: int) -> int:
        """Updates of the chat not done yet (the running one included)."""
        return len(self._queues.get(chat_id, ()))

    def __len__(self) -> int:  # chats with updates running or waiting
        return len(self._workers)

    async def stop(self, grace: float) -> None:
        """Lets the queued updates run for up to `grace` seconds, then cancels the rest."""
        workers = list(self._workers.values()) + list(self._refusals)
        if not workers:
            return
        if grace > 0:
            await asyncio.wait(workers, timeout=grace)
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _close(coroutine: Awaitable[Any]) -> None:
    """Drops an update's coroutine without running it (and without a 'never awaited' warning)."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
