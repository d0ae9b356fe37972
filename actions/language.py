"""The person chooses the language of the answers (/langue on Telegram, buttons)."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

import user_texts
from actions import common
from actions.answer import send_answer
from knowledge.store import KnowledgeUnavailable


def chosen(tracker: Tracker) -> Optional[Text]:
    """The language a button named (`/choisir_langue{"language":"en"}`), if any."""
    if not (tracker.latest_message.get("text") or "").startswith("/"):
        return None  # typed words ("in english please"): offer the buttons
    for entity in tracker.latest_message.get("entities") or []:
        value = entity.get("value")
        if entity.get("entity") == "language" and value in user_texts.languages(common.TEXTS_DIR):
            return value
    return None


def language_buttons() -> List[Dict[Text, Text]]:
    names = common.words()["noms_des_langues"]
    return [
        {"title": names.get(code, code), "payload": '/choisir_langue{"language":"%s"}' % code}
        for code in user_texts.languages(common.TEXTS_DIR)
    ]


class ActionChooseLanguage(Action):
    """A language named by a button becomes the conversation's language, and the topic
    being read is given again in it; typed words get the buttons to choose."""

    def name(self) -> Text:
        return "action_choose_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        lang = chosen(tracker)
        if lang is None:
            current = common.language(tracker)
            dispatcher.utter_message(text=common.words(current)["choisir_langue"], buttons=language_buttons())
            dispatcher.utter_message(json_message=common.payload(tracker, "salutation", None))
            return []
        dispatcher.utter_message(text=common.words(lang)["langue_choisie"])
        events: List[Dict[Text, Any]] = [SlotSet("chosen_language", lang), SlotSet("language", lang)]
        topic_id = tracker.get_slot("topic")
        if topic_id:
            try:
                topic, related = await common.knowledge_base().with_related(topic_id)
            except KnowledgeUnavailable:
                topic = None
            if topic is not None:
                send_answer(dispatcher, tracker, topic, related, lang)
                return events
        dispatcher.utter_message(json_message=common.payload(tracker, "salutation", None))
        return events
