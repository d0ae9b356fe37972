"""SQL conversation store configured by one URL, that can really forget a user.

Rasa's SQLTrackerStore only appends events, and re-inserts every event of a tracker
whose rows were deleted behind its back. Erasing must therefore happen here, at save
time: when the turn ran the erase action, the sender's rows are deleted and nothing
of that turn is written.
"""
from typing import Any, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import tracker_db_url

ERASE_ACTION = "action_erase_conversation"


def erase_requested(tracker: DialogueStateTracker) -> bool:
    """True when the erase action ran after the last user message."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name == ERASE_ACTION:
            return True
    return False


class ErasableSQLTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        url: Optional[Text] = None,
        **kwargs: Any,
    ) -> None:
        # Rasa passes the endpoint's `url` as `host`; both name the whole URL here.
        parsed = sa.engine.make_url(url or host or tracker_db_url())
        super().__init__(
            domain=domain,
            dialect=parsed.drivername,
            host=parsed.host,
            port=parsed.port,
            db=parsed.database,
            username=parsed.username,
            password=parsed.password,
            query=dict(parsed.query) or None,
            event_broker=event_broker,
            **kwargs,
        )
        # A failed query must not put sender ids or message texts in the logs: Rasa
        # logs the error text, which would otherwise hold the statement's parameters.
        self.engine.hide_parameters = True

    async def save(self, tracker: DialogueStateTracker) -> None:
        if erase_requested(tracker):
            self.delete_conversation(tracker.sender_id)
            return
        await super().save(tracker)

    def delete_conversation(self, sender_id: Text) -> int:
        """Deletes every stored event of one sender; returns how many."""
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        return deleted
