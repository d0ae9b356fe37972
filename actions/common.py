"""What every action shares: the knowledge base, the dialogue's words, and how an
answer is shaped (text, source line, buttons, payload)."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

import user_texts
from knowledge.content import Topic
from knowledge.store import KnowledgeBase
from user_texts import REFERENCE

TEXTS_DIR = Path(__file__).parent

MAX_RELATED_BUTTONS = 3

_kb: Optional[KnowledgeBase] = None


def knowledge_base() -> KnowledgeBase:
    """One KnowledgeBase (one connection pool) per action server process."""
    global _kb
    if _kb is None:
        _kb = KnowledgeBase()
    return _kb


def words(language: Text = REFERENCE) -> Dict[Text, Any]:
    """The actions' own texts (messages_<language>.yml, French where one is missing)."""
    return user_texts.load(TEXTS_DIR, language)


def language(tracker: Tracker) -> Text:
    """The language to answer in (user_texts.answer_language), among those the actions have texts for."""
    return user_texts.answer_language(
        tracker.get_slot("chosen_language"),
        tracker.latest_message.get("language") or {},
        tracker.get_slot("language"),
        user_texts.languages(TEXTS_DIR),
    )


@dataclass(frozen=True)
class Localized:
    """A topic's texts in the conversation's language (the French reference when there
    is no translation yet), and whether a native speaker reviewed them."""

    title: Text
    answer: Text
    details: Text
    language: Text
    reviewed: bool


def localized(topic: Topic, lang: Text) -> Localized:
    translation = topic.in_language(lang) if lang != REFERENCE else None
    if translation is None:
        return Localized(topic.title, topic.answer, topic.details, REFERENCE, True)
    return Localized(translation.title, translation.answer, translation.details, lang, translation.reviewed)


def unreviewed_note(text: Localized) -> Optional[Text]:
    """One short line under a translation nobody has reviewed yet."""
    return None if text.reviewed else words(text.language)["traduction_non_relue"]


def french_button(lang: Text) -> Dict[Text, Text]:
    """The French reference text of the current topic (switches the answers to French)."""
    return {"title": words(lang)["bouton_texte_francais"], "payload": '/choisir_langue{"language":"fr"}'}


def latest_intent(tracker: Tracker) -> Dict[Text, Any]:
    return tracker.latest_message.get("intent") or {}


def in_danger(tracker: Tracker) -> bool:
    """True when this turn gives the emergency numbers first: the danger detector
    (nlu/danger.py) fired on the latest message, or it is the urgence topic."""
    latest = tracker.latest_message or {}
    return (
        bool((latest.get("danger") or {}).get("detected")) or latest_intent(tracker).get("name") == "urgence"
    )


def payload(
    tracker: Tracker, topic_id: Text, topic: Optional[Topic], text: Optional[Localized] = None
) -> Dict[Text, Any]:
    """The machine-readable answer payload of shared/TOPICS.md."""
    intent = latest_intent(tracker)
    answered_in = text.language if text else language(tracker)
    return {
        "topic": topic_id,
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "language": answered_in,
        # Shown to staff: the language the message was detected in, and whether the
        # answer is a translation nobody has reviewed yet.
        "detected_language": (tracker.latest_message.get("language") or {}).get("code"),
        "translation_reviewed": text.reviewed if text else answered_in == REFERENCE,
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
    line = words(language(tracker))["ligne_urgence"]
    if in_danger(tracker) or answer.startswith(line):
        return answer
    return line + "\n\n" + answer


def french_date(day: date) -> Text:
    return day.strftime("%d/%m/%Y")


def source_line(topic: Topic, lang: Text = REFERENCE) -> Text:
    """ "Source : CESEDA art. L425-1 — vérifié le 26/11/2026" (first source; the
    references stay in French, the words around them are in the person's language)."""
    first = topic.sources[0]
    line = f"{words(lang)['source']} : {first.reference}"
    if first.verified_on:
        line += f" — {words(lang)['verifie_le']} {french_date(first.verified_on)}"
    return line


def sources_block(topic: Topic, lang: Text = REFERENCE) -> Text:
    lines = [f"{words(lang)['sources']} :"]
    for s in topic.sources:
        line = f"- {s.reference} — {s.title}"
        if s.verified_on:
            line += f" ({words(lang)['verifie_le']} {french_date(s.verified_on)})"
        lines.append(line + (f"\n  {s.url}" if s.url else ""))
    return "\n".join(lines)


def topic_button(topic: Topic, lang: Text = REFERENCE) -> Dict[Text, Text]:
    return {"title": localized(topic, lang).title, "payload": f"/{topic.id}"}


def details_button(topic_id: Text, lang: Text = REFERENCE) -> Dict[Text, Text]:
    return {
        "title": words(lang)["bouton_en_savoir_plus"],
        "payload": '/en_savoir_plus{"topic":"%s"}' % topic_id,
    }


def talk_button(lang: Text = REFERENCE) -> Dict[Text, Text]:
    return {"title": words(lang)["bouton_parler"], "payload": "/contacts-aide"}


def topic_buttons(topics: Iterable[Topic], lang: Text = REFERENCE) -> List[Dict]:
    return [topic_button(t, lang) for t in topics]


def slot_changes(tracker: Tracker, **values: Any) -> List[Dict[Text, Any]]:
    """SlotSet events for the slots whose value changes (and the conversation's language,
    kept for the next short message). An event that changes nothing would still be stored,
    validated and replayed by Rasa on every later turn."""
    current = language(tracker)
    if current != (tracker.get_slot("language") or REFERENCE):  # an empty slot means French
        values.setdefault("language", current)
    return [SlotSet(name, value) for name, value in values.items() if tracker.get_slot(name) != value]


def send_unavailable(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The knowledge base cannot be read: say so, with the emergency numbers."""
    dispatcher.utter_message(text=words(language(tracker))["base_indisponible"])
    dispatcher.utter_message(json_message=payload(tracker, "urgence", None))
