"""Helpers of the retraining tests: a conversation store filled with the events the Rasa
server writes (layout checked against a running stack: user row with parse_data, then
bot rows, the payload one holding data.custom.topic)."""

import asyncio
from typing import List, Optional

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import ErasableSQLTrackerStore


def turn(
    text: str,
    intent: str,
    confidence: float,
    topic: Optional[str],
    ranking: Optional[List[tuple]] = None,
    timestamp: Optional[float] = None,
) -> list:
    """The events one user turn leaves in the store, as the Rasa server writes them:
    the user message with its parse data, the action, the answer text and its payload."""
    parse_data = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "text": text,
        "intent_ranking": [{"name": n, "confidence": c} for n, c in (ranking or [(intent, confidence)])],
    }
    events = [
        UserUttered(text, parse_data["intent"], parse_data=parse_data, timestamp=timestamp),
        ActionExecuted("action_answer_topic", timestamp=timestamp),
        BotUttered(
            "Une réponse.", data={"buttons": [{"title": "Menu", "payload": "/menu"}]}, timestamp=timestamp
        ),
    ]
    if topic is not None:
        events.append(
            BotUttered(
                None,
                data={"custom": {"topic": topic, "intent": intent, "confidence": confidence, "sources": []}},
                timestamp=timestamp,
            )
        )
    events.append(ActionExecuted("action_listen", timestamp=timestamp))
    return events


def save_conversation(db_url: str, sender: str, *turns: list) -> None:
    store = ErasableSQLTrackerStore(Domain.empty(), url=db_url)
    tracker = DialogueStateTracker(sender, slots=[])
    for events in turns:
        for event in events:
            tracker.update(event)
    asyncio.run(store.save(tracker))
    store.engine.dispose()
