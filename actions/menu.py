"""The main topics as buttons."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from knowledge.store import KnowledgeUnavailable


class ActionMenu(Action):
    def name(self) -> Text:
        return "action_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kb = common.knowledge_base()
        lang = common.language(tracker)
        try:
            topics = await kb.get_many(common.words(lang)["menu_sujets"])
        except KnowledgeUnavailable:
            common.send_unavailable(dispatcher, tracker)
            return []
        dispatcher.utter_message(
            text=common.words(lang)["menu_intro"],
            buttons=common.topic_buttons(topics, lang),
        )
        dispatcher.utter_message(json_message=common.payload(tracker, "salutation", None))
        return common.slot_changes(tracker, misunderstood=False)
