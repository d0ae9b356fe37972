"""What every action shares: the knowledge base, the dialogue's words, and how an
answer is shaped (text, source line, buttons, payload)."""
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Text

import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge.content import Topic
from knowledge.store import KnowledgeBase

MAX_RELATED_BUTTONS = 3

_kb: Optional[KnowledgeBase] = None


def knowledge_base() -> KnowledgeBase:
    """One KnowledgeBase (one connection pool) per action server process."""
    global _kb
    if _kb is None:
        _kb = KnowledgeBase()
    return _kb


@lru_cache(maxsize=1)
def words() -> Dict[Text, Any]:
    with open(Path(__file__).with_name("messages_fr.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def latest_intent(tracker: Tracker) -> Dict[Text, Any]:
    return tracker.latest_message.get("intent") or {}


def in_danger(tracker: Tracker) -> bool:
    """True when this turn gives the emergency numbers first: the danger detector
    (nlu/danger.py) fired on the latest message, or it is the urgence topic."""
    latest = tracker.latest_message or {}
    return bool((latest.get("danger") or {}).get("detected")) \
        or latest_intent(tracker).get("name") == "urgence"


def payload(tracker: Tracker, topic_id: Text, topic: Optional[Topic]) -> Dict[Text, Any]:
    """The machine-readable answer payload of shared/TOPICS.md."""
    intent = latest_intent(tracker)
    return {
        "topic": topic_id,
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "danger": in_danger(tracker) or topic_id == "urgence",
        "sources": [
            {
                "title": s.title,
                "reference": s.reference,
                "url": s.url,
                "supports": s.supports,
                "verified_on": s.verified_on.isoformat() if s.verified_on else None,
            }
            for s in (topic.sources if topic else ())
        ],
    }


def contacts_text(answer: Text, tracker: Tracker) -> Text:
    """The contacts-aide answer starts with the emergency line (ARCHITECTURE.md, danger
    first), unless this turn's danger-first message already gave the numbers."""
    line = words()["ligne_urgence"]
    if in_danger(tracker) or answer.startswith(line):
        return answer
    return line + "\n\n" + answer


def french_date(day: date) -> Text:
    return day.strftime("%d/%m/%Y")


def source_line(topic: Topic) -> Text:
    """"Source : CESEDA art. L425-1 — vérifié le 26/11/2026" (first source)."""
    first = topic.sources[0]
    line = f"{words()['source']} : {first.reference}"
    if first.verified_on:
        line += f" — {words()['verifie_le']} {french_date(first.verified_on)}"
    return line


def sources_block(topic: Topic) -> Text:
    lines = [f"{words()['sources']} :"]
    for s in topic.sources:
        line = f"- {s.reference} — {s.title}"
        if s.verified_on:
            line += f" ({words()['verifie_le']} {french_date(s.verified_on)})"
        lines.append(line + (f"\n  {s.url}" if s.url else ""))
    return "\n".join(lines)


def topic_button(topic: Topic) -> Dict[Text, Text]:
    return {"title": topic.title, "payload": f"/{topic.id}"}


def details_button(topic_id: Text) -> Dict[Text, Text]:
    return {
        "title": words()["bouton_en_savoir_plus"],
        "payload": '/en_savoir_plus{"topic":"%s"}' % topic_id,
    }


def talk_button() -> Dict[Text, Text]:
    return {"title": words()["bouton_parler"], "payload": "/contacts-aide"}


def topic_buttons(topics: Iterable[Topic], exclude: Iterable[Text] = ()) -> List[Dict]:
    excluded = set(exclude)
    return [topic_button(t) for t in topics if t.id not in excluded]


def slot_changes(tracker: Tracker, **values: Any) -> List[Dict[Text, Any]]:
    """SlotSet events for the slots whose value changes. An event that changes nothing
    would still be stored, validated and replayed by Rasa on every later turn."""
    return [SlotSet(name, value) for name, value in values.items()
            if tracker.get_slot(name) != value]


def send_unavailable(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The knowledge base cannot be read: say so, with the emergency numbers."""
    dispatcher.utter_message(text=words()["base_indisponible"])
    dispatcher.utter_message(json_message=payload(tracker, "urgence", None))
