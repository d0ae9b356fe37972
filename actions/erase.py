"""Erase-my-data: confirms; the conversation store deletes the rows when it saves
this turn (bot/tracker_store.py), because only it can do so for real.

When the conversation database cannot be reached, Rasa keeps the turn in memory and the
erase cannot happen: the user is told so instead of being told it worked.
"""

import asyncio
from typing import Any, Dict, List, Text

import sqlalchemy as sa
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from bot.settings import tracker_db_url
from knowledge.store import KnowledgeUnavailable


def conversation_store_reachable() -> bool:
    engine = sa.create_engine(tracker_db_url(), future=True)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select count(*) from events where 1 = 0"))
        return True
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


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
        if await asyncio.to_thread(conversation_store_reachable):
            dispatcher.utter_message(text=common.words(common.language(tracker))["conversation_effacee"])
        else:
            dispatcher.utter_message(text=common.words(common.language(tracker))["effacement_impossible"])
        dispatcher.utter_message(json_message=common.payload(tracker, "confidentialite", privacy))
        return []
