"""Per-chat ordering, button keys and the message log."""
import asyncio
import time

from telegram_front.state import DELETABLE_SECONDS, ButtonStore, ChatTurns, MessageLog

from tg_harness import async_test


@async_test
async def test_turns_keep_each_chats_order_and_let_chats_run_together():
    turns = ChatTurns()
    log = []
    running = {"now": 0, "max": 0}

    async def handle(chat, n, delay):
        turn = turns.enter(chat)  # taken synchronously, in arrival order
        await asyncio.sleep(0)    # something awaited before the turn (e.g. answering a callback)
        async with turn:
            running["now"] += 1
            running["max"] = max(running["max"], running["now"])
            log.append(("start", chat, n))
            await asyncio.sleep(delay)
            log.append(("end", chat, n))
            running["now"] -= 1

    tasks = []
    for n in range(5):
        for chat in (1, 2, 3):
            # later messages are faster: without turns they would overtake the earlier ones
            tasks.append(asyncio.create_task(handle(chat, n, 0.05 * (5 - n))))
    await asyncio.gather(*tasks)
    for chat in (1, 2, 3):
        starts = [n for kind, c, n in log if kind == "start" and c == chat]
        assert starts == [0, 1, 2, 3, 4]
        # never two updates of the same chat at once
        events = [(kind, n) for kind, c, n in log if c == chat]
        assert events == [(k, n) for n in range(5) for k in ("start", "end")]
    assert running["max"] == 3  # the three chats ran concurrently
    assert len(turns) == 0  # nothing left behind


@async_test
async def test_an_abandoned_turn_does_not_block_the_chat():
    turns = ChatTurns()
    first = turns.enter(1)
    skipped = turns.enter(1)
    third = turns.enter(1)
    order = []

    async def run(turn, name):
        async with turn:
            order.append(name)

    task = asyncio.create_task(run(third, "third"))
    skipped.abandon()
    await asyncio.sleep(0.01)
    assert order == []  # still waits for the first one
    async with first:
        order.append("first")
    await asyncio.wait_for(task, 1)
    assert order == ["first", "third"]
    assert len(turns) == 0


@async_test
async def test_a_failing_update_releases_its_turn():
    turns = ChatTurns()

    async def boom():
        async with turns.enter(5):
            raise RuntimeError("x")

    try:
        await boom()
    except RuntimeError:
        pass
    async with turns.enter(5):
        pass
    assert len(turns) == 0


def test_button_keys_are_short_private_and_bounded():
    store = ButtonStore(max_chats=2, per_chat=3)
    long_payload = '/en_savoir_plus{"topic":"' + "x" * 100 + '"}'
    key = store.key_for(1, long_payload)
    assert len(key.encode()) <= 64 and "en_savoir" not in key
    assert store.payload(1, key) == long_payload
    assert store.payload(2, key) is None  # keys are per chat
    keys = [store.key_for(1, f"/p{i}") for i in range(3)]
    assert store.payload(1, key) is None  # oldest dropped
    assert [store.payload(1, k) for k in keys] == ["/p0", "/p1", "/p2"]
    store.key_for(2, "/a")
    store.key_for(3, "/b")
    assert store.payload(1, keys[0]) is None  # least recently used chat dropped
    store.forget(3)
    assert len(store._chats) == 1


def test_message_log_is_bounded_and_skips_messages_too_old_to_delete():
    log = MessageLog(max_chats=2, per_chat=4)
    now = time.time()
    log.add(1, 10, when=now - DELETABLE_SECONDS - 10)
    for mid in (11, 12, 13, 14):
        log.add(1, mid, when=now)
    assert log.ids(1) == [11, 12, 13, 14]  # 10 pushed out by the bound
    log.add(2, 20, when=now - DELETABLE_SECONDS - 1)
    log.add(2, 21, when=now)
    assert log.take_deletable(2, now=now) == [21]
    assert log.take_deletable(2, now=now) == []  # taken means forgotten
    assert log.take_deletable(1, now=now) == [14, 13, 12, 11]
    for chat in (3, 4, 5):
        log.add(chat, 1)
    assert log.ids(3) == [] and log.ids(5) == [1]
