"""SQL conversation store configured by one URL, that can really forget a user.

Rasa's SQLTrackerStore only appends events, and re-inserts every event of a tracker
whose rows were deleted behind its back. Erasing must therefore happen here, at save
time: when the turn ran the erase action, the sender's rows are deleted and nothing
of that turn is written.

It also does less work per turn than Rasa's (same table, same rows, same queries'
meaning): it reads only the `data` column, inserts a turn's events in one statement,
and knows which events of a tracker are already stored instead of counting them with
a query on every save; on SQLite it keeps its connection open. Reading and saving were
~45 % of a turn's CPU before (py-spy, 10 users sending back to back).
"""

import itertools
import json
from typing import Any, Dict, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.disk_erasure import forget_on_disk, zero_deleted_rows
from bot.settings import tracker_db_url

ERASE_ACTION = "action_erase_conversation"
# Set on the trackers this store reads or writes: how many of their events are in the
# table. Rasa saves the very object it retrieved, and the lock store lets one process
# at a time handle a conversation, so the number stays true until the next save.
STORED_EVENTS = "_events_in_store"


def _sqlite_settings(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


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
        if self.engine.dialect.name == "sqlite":
            self._tune_sqlite()
        self._prepare_statements()

    def _tune_sqlite(self) -> None:
        """SQLite, the single-process default: Rasa's engine opens and closes a connection
        for every query; this one keeps one open. The write-ahead log with
        synchronous=NORMAL writes a turn without waiting for the disk (a crash of the
        assistant loses nothing; a power cut may lose the last turns), and readers (the
        retention job) do not block the assistant; an erased conversation leaves no copy
        on disk (bot/disk_erasure.py). Production runs on PostgreSQL."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.SingletonThreadPool, hide_parameters=True)
        sa.event.listen(self.engine, "connect", _sqlite_settings)
        zero_deleted_rows(self.engine)
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    def _prepare_statements(self) -> None:
        """Rasa's queries (`SQLTrackerStore._event_query`), built once as Core statements:
        the latest session is every event since the sender's last `session_started`."""
        events = self.SQLEvent.__table__
        sender = events.c.sender_id == sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        in_latest_session = sa.or_(events.c.timestamp >= session_start, session_start.is_(None))
        self._all_events = sa.select(events.c.data).where(sender).order_by(events.c.id)
        self._latest_session = self._all_events.where(in_latest_session)
        self._count_latest_session = (
            sa.select(sa.func.count()).select_from(events).where(sender, in_latest_session)
        )
        self._insert = events.insert()

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        query = self._all_events if fetch_events_from_all_sessions else self._latest_session
        with self.engine.connect() as connection:
            rows = connection.execute(query, {"sender_id": sender_id}).all()
        if not (self.domain and rows):  # Rasa's condition: None means "no tracker"
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(data) for (data,) in rows], self.domain.slots
        )
        if not fetch_events_from_all_sessions:
            setattr(tracker, STORED_EVENTS, len(rows))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        if erase_requested(tracker):
            self.delete_conversation(tracker.sender_id)
            return
        await self.stream_events(tracker)
        with self.engine.begin() as connection:
            stored = getattr(tracker, STORED_EVENTS, None)
            if stored is None:  # a tracker we did not read: count its stored events
                stored = connection.execute(
                    self._count_latest_session, {"sender_id": tracker.sender_id}
                ).scalar()
            new_events = itertools.islice(tracker.events, stored, None)
            rows = [self._row(tracker.sender_id, event) for event in new_events]
            if rows:
                connection.execute(self._insert, rows)
        setattr(tracker, STORED_EVENTS, len(tracker.events))

    @staticmethod
    def _row(sender_id: Text, event: Event) -> Dict[Text, Any]:
        """The columns Rasa's SQLTrackerStore writes for one event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def delete_conversation(self, sender_id: Text) -> int:
        """Deletes every stored event of one sender; returns how many."""
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        with self.engine.connect() as connection:
            forget_on_disk(connection)
        return deleted
