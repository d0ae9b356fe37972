"""The update scheduler alone: per-chat order, chats together, the cap, urgent first.
(With the real front and the fake Bot API: test_telegram_flood.py.)"""

import asyncio
from typing import List, Tuple

from tg_harness import async_test

from telegram_front.scheduler import ChatScheduler, Triage


class Update:
    def __init__(self, chat, n, urgent=False, queued=True):
        self.chat, self.n, self.urgent, self.queued = chat, n, urgent, queued


def scheduler(log: List[Tuple], **kw) -> ChatScheduler:
    async def urgent(update, chat_id):
        log.append(("urgent", chat_id, update.n))

    async def refuse(update, chat_id, tell):
        log.append(("refused", chat_id, update.n, tell))

    return ChatScheduler(lambda u: Triage(u.chat, u.urgent, u.queued), urgent, refuse, **kw)


async def handle(log, update, delay):
    log.append(("start", update.chat, update.n))
    await asyncio.sleep(delay)
    log.append(("end", update.chat, update.n))


async def submit(sched, log, update, delay=0.0):
    # What PTB does: one task per update, started in arrival order.
    return asyncio.create_task(sched.process_update(update, handle(log, update, delay)))


@async_test
async def test_each_chat_in_order_chats_together_and_no_slot_held_while_waiting():
    log = []
    sched = scheduler(log, max_pending=10, max_concurrent_updates=2)
    tasks = []
    for n in range(5):
        for chat in (1, 2, 3):
            # later messages are faster: without the queues they would overtake
            tasks.append(await submit(sched, log, Update(chat, n), 0.05 * (5 - n)))
    await asyncio.wait_for(asyncio.gather(*tasks), 1)  # PTB's slots came back at once
    assert sched.current_concurrent_updates == 0
    while len(sched):
        await asyncio.sleep(0.01)
    for chat in (1, 2, 3):
        events = [(kind, n) for kind, c, n in log if c == chat]
        assert events == [(k, n) for n in range(5) for k in ("start", "end")]
    first_ends = [i for i, e in enumerate(log) if e[0] == "end"][0]
    assert {c for kind, c, n in log[:first_ends] if kind == "start"} == {1, 2, 3}  # together


@async_test
async def test_a_chat_over_its_cap_is_told_once_and_urgent_skips_the_queue():
    log = []
    sched = scheduler(log, max_pending=2)
    await submit(sched, log, Update(7, 0), 0.3)
    await asyncio.sleep(0.01)
    for n in range(1, 6):
        await submit(sched, log, Update(7, n))
    await submit(sched, log, Update(7, 99, urgent=True, queued=False))
    await asyncio.sleep(0.05)
    assert log[0] == ("start", 7, 0)
    assert ("urgent", 7, 99) in log and ("end", 7, 0) not in log  # not behind the queue
    refused = [e for e in log if e[0] == "refused"]
    assert refused == [("refused", 7, n, n == 2) for n in range(2, 6)]  # told once
    while len(sched):
        await asyncio.sleep(0.01)
    assert [e[2] for e in log if e[0] == "start"] == [0, 1]  # the running one counts
    # idle again: a new flood is told again
    await submit(sched, log, Update(7, 10), 0.2)
    for n in range(11, 14):
        await submit(sched, log, Update(7, n))
    await asyncio.sleep(0.05)
    assert [e for e in log if e[0] == "refused"][-2:] == [("refused", 7, 12, True), ("refused", 7, 13, False)]
    await sched.stop(grace=1)


@async_test
async def test_a_failing_update_does_not_stop_its_chat():
    log = []
    sched = scheduler(log)

    async def boom():
        raise RuntimeError("x")

    await sched.process_update(Update(5, 0), boom())
    await submit(sched, log, Update(5, 1))
    await asyncio.sleep(0.05)
    assert log == [("start", 5, 1), ("end", 5, 1)]
    assert len(sched) == 0


@async_test
async def test_stop_cancels_what_is_left():
    log = []
    sched = scheduler(log)
    await submit(sched, log, Update(1, 0), 10)
    await submit(sched, log, Update(1, 1))
    await asyncio.sleep(0.01)
    await sched.stop(grace=0.05)
    assert len(sched) == 0 and ("start", 1, 1) not in log
