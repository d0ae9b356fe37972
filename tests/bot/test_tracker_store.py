"""Erasing a conversation removes its rows for real; retention removes old ones."""

import asyncio
import time

import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.retention import delete_old_conversations
from bot.tracker_store import ErasableSQLTrackerStore


def rows(url, sender):
    engine = sa.create_engine(url)
    with engine.connect() as c:
        return c.execute(sa.text("select count(*) from events where sender_id = :s"), {"s": sender}).scalar()


def conversation(sender, *events):
    tracker = DialogueStateTracker(sender, slots=[])
    for event in events:
        tracker.update(event)
    return tracker


def test_erase_turn_deletes_every_row_of_that_sender_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = ErasableSQLTrackerStore(Domain.empty(), url=url)
    alice = conversation(
        "alice", UserUttered("bonjour"), ActionExecuted("action_answer_topic"), BotUttered("salut")
    )
    bob = conversation("bob", UserUttered("bonjour"), ActionExecuted("action_answer_topic"))
    asyncio.run(store.save(alice))
    asyncio.run(store.save(bob))
    assert rows(url, "alice") == 3 and rows(url, "bob") == 2

    alice.update(UserUttered("efface ma conversation"))
    alice.update(ActionExecuted("action_erase_conversation"))
    alice.update(BotUttered("Votre conversation a été effacée"))
    asyncio.run(store.save(alice))

    assert rows(url, "alice") == 0
    assert rows(url, "bob") == 2
    assert asyncio.run(store.retrieve("alice")) is None


def test_an_erase_in_an_earlier_turn_does_not_erase_later_turns(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = ErasableSQLTrackerStore(Domain.empty(), url=url)
    tracker = conversation(
        "carla",
        UserUttered("efface"),
        ActionExecuted("action_erase_conversation"),
        UserUttered("bonjour"),
        ActionExecuted("action_answer_topic"),
    )
    asyncio.run(store.save(tracker))
    assert rows(url, "carla") == 4


def test_retention_deletes_each_event_older_than_the_limit(tmp_path):
    """Review S7: an active conversation does not keep its old messages."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = ErasableSQLTrackerStore(Domain.empty(), url=url)
    old, recent = time.time() - 40 * 86400, time.time() - 2 * 86400
    asyncio.run(
        store.save(conversation("old", UserUttered("a", timestamp=old), ActionExecuted("x", timestamp=old)))
    )
    asyncio.run(
        store.save(
            conversation("recent", UserUttered("a", timestamp=old), ActionExecuted("x", timestamp=recent))
        )
    )

    assert delete_old_conversations(url, days=30) == 1  # conversations now empty
    assert rows(url, "old") == 0 and rows(url, "recent") == 1  # the old message went
    assert delete_old_conversations(url, days=1) == 1
    assert rows(url, "recent") == 0


def test_retention_also_deletes_old_feedback(tmp_path):
    import datetime as dt

    from bot import feedback

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    vote = feedback.parse_feedback(
        {"topic": "asile", "intent": "asile", "confidence": 0.9, "question": "q", "vote": "down"}
    )
    now = dt.datetime.now(dt.timezone.utc)
    feedback.add_feedback(vote, url, now=now - dt.timedelta(days=40))
    feedback.add_feedback(vote, url, now=now - dt.timedelta(days=2))
    delete_old_conversations(url, days=30)
    assert len(feedback.list_feedback(url)) == 1


def stored_rows(url):
    """Every column but the id, without the timestamp of the first event (the
    `action_listen` a store adds itself when it creates a tracker, stamped at that time)."""
    import json

    engine = sa.create_engine(url)
    with engine.connect() as c:
        found = [
            list(r)
            for r in c.execute(
                sa.text(
                    "select sender_id, type_name, timestamp, intent_name, action_name, data from events order by id"
                )
            )
        ]
    data = json.loads(found[0][5])
    del data["timestamp"]
    found[0][2], found[0][5] = None, data
    return found


def play_turns(store, sender, turns):
    """Rasa's cycle for each turn: retrieve (or create), add the turn's events, save."""
    for events in turns:
        tracker = asyncio.run(store.get_or_create_tracker(sender))
        for event in events:
            tracker.update(event)
        asyncio.run(store.save(tracker))


def turns_with_a_new_session(t0):
    from rasa.shared.core.events import SessionStarted

    hello = {"name": "saluer", "confidence": 0.9}
    return [
        [
            UserUttered("bonjour", hello, timestamp=t0),
            ActionExecuted("utter_saluer", timestamp=t0 + 1),
            BotUttered("Bonjour", timestamp=t0 + 2),
            ActionExecuted("action_listen", timestamp=t0 + 3),
        ],
        [
            UserUttered("titre de séjour ?", {"name": "titre-sejour", "confidence": 0.8}, timestamp=t0 + 4),
            ActionExecuted("action_answer_topic", timestamp=t0 + 5),
            BotUttered("Oui", timestamp=t0 + 6),
        ],
        # The session expired: Rasa adds a new session to the same tracker object.
        [
            ActionExecuted("action_session_start", timestamp=t0 + 100),
            SessionStarted(timestamp=t0 + 101),
            ActionExecuted("action_listen", timestamp=t0 + 102),
            UserUttered("merci", hello, timestamp=t0 + 103),
        ],
        [ActionExecuted("utter_saluer", timestamp=t0 + 104)],
    ]


def test_same_rows_and_trackers_as_rasas_own_sql_store(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore

    ours_url, rasa_db = f"sqlite:///{tmp_path / 'ours.db'}", tmp_path / "rasa.db"
    ours = ErasableSQLTrackerStore(Domain.empty(), url=ours_url)
    rasas = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(rasa_db))
    t0 = time.time()
    for store in (ours, rasas):
        play_turns(store, "dana", turns_with_a_new_session(t0))
    written = stored_rows(ours_url)
    assert written == stored_rows(f"sqlite:///{rasa_db}")
    assert len(written) == 1 + 4 + 3 + 4 + 1  # the created tracker's action_listen, the turns
    for fetch in ("retrieve", "retrieve_full_tracker"):
        ours_tracker = asyncio.run(getattr(ours, fetch)("dana"))
        rasas_tracker = asyncio.run(getattr(rasas, fetch)("dana"))
        assert list(ours_tracker.events)[1:] == list(rasas_tracker.events)[1:]
    assert len(asyncio.run(ours.retrieve("dana")).events) == 4  # from the latest SessionStarted


def test_no_event_written_twice_when_processes_take_turns(tmp_path):
    """Two Rasa processes (two store objects) handling one conversation turn by turn."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    first, second = (ErasableSQLTrackerStore(Domain.empty(), url=url) for _ in range(2))
    turns = turns_with_a_new_session(time.time())[:2]
    play_turns(first, "eve", turns[:1])
    play_turns(second, "eve", turns[1:])
    play_turns(first, "eve", [[UserUttered("au revoir")]])
    assert rows(url, "eve") == 1 + 4 + 3 + 1
    tracker = asyncio.run(second.retrieve("eve"))
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
        "bonjour",
        "titre de séjour ?",
        "au revoir",
    ]


def test_a_tracker_saved_twice_writes_its_events_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = ErasableSQLTrackerStore(Domain.empty(), url=url)
    tracker = conversation("fred", UserUttered("bonjour"), ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))
    tracker.update(UserUttered("encore"))
    asyncio.run(store.save(tracker))
    assert rows(url, "fred") == 3


def disk_bytes(tmp_path):
    """Everything SQLite keeps on disk for the conversation database."""
    return b"".join(p.read_bytes() for p in tmp_path.glob("tracker.db*"))


def test_an_erased_conversation_leaves_no_copy_on_disk(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = ErasableSQLTrackerStore(Domain.empty(), url=url)
    secret = "mon patron garde mon passeport rue des Lilas"
    tracker = conversation("gina", UserUttered(secret), ActionExecuted("action_answer_topic"))
    asyncio.run(store.save(tracker))
    other = conversation("hugo", UserUttered("bonjour"), ActionExecuted("action_answer_topic"))
    asyncio.run(store.save(other))
    assert secret.encode() in disk_bytes(tmp_path)

    tracker.update(UserUttered("efface tout"))
    tracker.update(ActionExecuted("action_erase_conversation"))
    asyncio.run(store.save(tracker))
    assert secret.encode() not in disk_bytes(tmp_path)
    assert rows(url, "hugo") == 2
    with store.engine.connect() as connection:  # set here, whatever SQLite's build default
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_retention_leaves_no_copy_on_disk(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = ErasableSQLTrackerStore(Domain.empty(), url=url)
    old = time.time() - 40 * 86400
    secret = "je dors dans l'atelier du 12 rue Haute"
    asyncio.run(
        store.save(
            conversation("ines", UserUttered(secret, timestamp=old), ActionExecuted("x", timestamp=old))
        )
    )
    assert secret.encode() in disk_bytes(tmp_path)
    assert delete_old_conversations(url, days=30) == 1
    assert secret.encode() not in disk_bytes(tmp_path)
