"""Button keys and the message log."""

import time

from telegram_front.state import DELETABLE_SECONDS, ButtonStore, MessageLog


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
