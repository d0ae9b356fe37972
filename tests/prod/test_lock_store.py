"""The lock store shared by the replicas (bot/lock_store.py), without Rasa servers:
several stores (one per simulated replica, each with its own connection and event loop)
take the lock of the same conversations at the same moments."""

import asyncio
import threading
import time
import uuid

import redis
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore

REPLICAS = 3
ROUNDS = 15
MESSAGES_PER_ROUND = 5  # per replica, at once


def store(port: int) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(endpoint_config=EndpointConfig(url="127.0.0.1", port=str(port), db="1"))


def test_endpoint_settings_come_from_the_endpoints_file(redis_port, monkeypatch):
    monkeypatch.setenv("REDIS_PASSWORD", "")
    lock_store = store(redis_port)
    kwargs = lock_store.red.connection_pool.connection_kwargs
    assert kwargs["host"] == "127.0.0.1" and kwargs["port"] == redis_port and kwargs["db"] == 1


def test_one_conversation_is_never_served_twice_at_once(redis_port):
    counter = redis.Redis(port=redis_port, db=2)
    run = uuid.uuid4().hex
    start = time.time() + 1.0
    problems = []
    served = []

    async def message(lock_store, conversation):
        async with lock_store.lock(conversation, wait_time_in_seconds=0.02):
            inside = counter.incr(f"inside:{conversation}")
            if inside != 1:
                problems.append(f"{conversation}: {inside} messages served at once")
            await asyncio.sleep(0.01)
            counter.decr(f"inside:{conversation}")
            served.append(conversation)

    async def replica():
        lock_store = store(redis_port)
        for round_ in range(ROUNDS):
            await asyncio.sleep(max(0.0, start + round_ * 0.4 - time.time()))
            conversation = f"{run}-{round_}"
            await asyncio.wait_for(
                asyncio.gather(*(message(lock_store, conversation) for _ in range(MESSAGES_PER_ROUND))),
                timeout=10,
            )

    errors = []

    def thread():
        try:
            asyncio.run(replica())
        except BaseException as error:  # a LockError, or a round that never ends
            errors.append(repr(error))

    threads = [threading.Thread(target=thread) for _ in range(REPLICAS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert not problems, problems[:5]
    assert len(served) == REPLICAS * ROUNDS * MESSAGES_PER_ROUND
    # Nothing left behind: the last one out deletes the lock.
    assert not redis.Redis(port=redis_port, db=1).keys(f"lock:{run}*")
