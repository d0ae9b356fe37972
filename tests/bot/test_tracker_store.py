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
    alice = conversation("alice", UserUttered("bonjour"), ActionExecuted("action_answer_topic"), BotUttered("salut"))
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
    tracker = conversation("carla", UserUttered("efface"), ActionExecuted("action_erase_conversation"),
                           UserUttered("bonjour"), ActionExecuted("action_answer_topic"))
    asyncio.run(store.save(tracker))
    assert rows(url, "carla") == 4


def test_retention_deletes_only_conversations_older_than_the_limit(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = ErasableSQLTrackerStore(Domain.empty(), url=url)
    old, recent = time.time() - 40 * 86400, time.time() - 2 * 86400
    asyncio.run(store.save(conversation("old", UserUttered("a", timestamp=old), ActionExecuted("x", timestamp=old))))
    asyncio.run(store.save(conversation("recent", UserUttered("a", timestamp=old), ActionExecuted("x", timestamp=recent))))

    assert delete_old_conversations(url, days=30) == 1
    assert rows(url, "old") == 0 and rows(url, "recent") == 2
    assert delete_old_conversations(url, days=1) == 1
    assert rows(url, "recent") == 0


def test_retention_also_deletes_old_feedback(tmp_path):
    import datetime as dt

    from bot import feedback
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    vote = feedback.parse_feedback({"topic": "asile", "intent": "asile", "confidence": 0.9,
                                    "question": "q", "vote": "down"})
    now = dt.datetime.now(dt.timezone.utc)
    feedback.add_feedback(vote, url, now=now - dt.timedelta(days=40))
    feedback.add_feedback(vote, url, now=now - dt.timedelta(days=2))
    delete_old_conversations(url, days=30)
    assert len(feedback.list_feedback(url)) == 1
