"""Redis lock store whose ticket operations are atomic across Rasa replicas.

Rasa serialises the messages of one conversation with a ticket lock kept in the lock
store. Rasa 3.6's RedisLockStore changes that lock by read-modify-write (GET, change in
Python, SET) with no transaction, which is safe inside one process only. With two
replicas, two writers can interleave: a ticket is lost or issued twice, so two messages
of one user run at the same time, or a waiter whose ticket vanished waits forever (seen
here: 2 processes x 5 concurrent messages of one conversation deadlocked after a few
rounds, with a lock left in Redis holding no ticket).

Here every change of a lock (issue a ticket, drop expired tickets, finish serving,
clean up) runs as one optimistic Redis transaction (WATCH / MULTI / EXEC, retried when
another replica wrote the lock in between), and the lock key expires shortly after its
last ticket would, so that a crashed replica never leaves a lock behind for good.

endpoints.yml:
    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      db: ${REDIS_DB}
The password, when Redis asks for one, is read from REDIS_PASSWORD (Rasa refuses an
endpoints file that names an unset variable, so it is not written there).
"""

import json
import logging
import os
import time
from typing import Any, Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

# Seconds the lock key outlives its last ticket (a safety net: normally the last
# replica to finish deletes it).
KEY_GRACE_SECONDS = 30


class AtomicRedisLockStore(RedisLockStore):
    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        host: Text = "localhost",
        **kwargs: Any,
    ) -> None:
        if endpoint_config is not None:
            host = endpoint_config.url or host
            kwargs = {**endpoint_config.kwargs, **kwargs}
        if not kwargs.get("password") and os.environ.get("REDIS_PASSWORD"):
            kwargs["password"] = os.environ["REDIS_PASSWORD"]
        for name in ("use_ssl",):
            if isinstance(kwargs.get(name), str):
                kwargs[name] = kwargs[name].strip().lower() in ("1", "true", "yes")
        super().__init__(host=host, **kwargs)

    # -- one atomic change of a lock ---------------------------------------------------
    def _change(
        self,
        conversation_id: Text,
        change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Any]],
    ) -> Any:
        """Applies `change` to the stored lock in one transaction.

        `change` gets the current lock (or None) and returns (lock to store, or None to
        delete the key; a result for the caller). It may run more than once.
        """
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> Any:
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            new_lock, result = change(lock)
            pipe.multi()
            if new_lock is None or not new_lock.tickets:
                if raw:
                    pipe.delete(key)
            else:
                ttl = max(t.expires for t in new_lock.tickets) - time.time() + KEY_GRACE_SECONDS
                pipe.set(key, new_lock.dumps(), px=max(1000, int(ttl * 1000)))
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    # -- the LockStore operations that modify a lock -----------------------------------
    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, change)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}")

    def update_lock(self, conversation_id: Text) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, change)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, change)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        # Finish serving and delete the lock when nobody waits, in one step: otherwise
        # another replica's fresh ticket could be deleted in between.
        self.finish_serving(conversation_id, ticket_number)

    def save_lock(self, lock: TicketLock) -> None:
        self._change(lock.conversation_id, lambda _: (lock, None))
