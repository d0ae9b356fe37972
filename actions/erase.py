"""Erase-my-data: confirms; the conversation store deletes the rows when it saves
this turn (bot/tracker_store.py), because only it can do so for real."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from knowledge.store import KnowledgeUnavailable


class ActionEraseConversation(Action):
    def name(self) -> Text:
        return "action_erase_conversation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        try:
            privacy = await common.knowledge_base().get("confidentialite")
        except KnowledgeUnavailable:
            privacy = None
        dispatcher.utter_message(text=common.words()["conversation_effacee"])
        dispatcher.utter_message(json_message=common.payload(tracker, "confidentialite", privacy))
        return []
