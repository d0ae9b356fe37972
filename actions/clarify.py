"""When the message was not understood: suggest the closest topics, then a person."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from knowledge.store import KnowledgeUnavailable

SUGGESTIONS = 3


class ActionClarify(Action):
    """"Je ne suis pas sûr d'avoir compris" + the three closest topics as buttons."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kb = common.knowledge_base()
        try:
            incompris = await kb.get("incompris")
            closest = await kb.search(tracker.latest_message.get("text") or "", SUGGESTIONS)
        except KnowledgeUnavailable:
            common.send_unavailable(dispatcher, tracker)
            return []
        lang = common.language(tracker)
        text = common.localized(incompris, lang)
        buttons = common.topic_buttons(closest, lang) + [common.talk_button(lang)]
        dispatcher.utter_message(text=text.answer.strip(), buttons=buttons)
        dispatcher.utter_message(json_message=common.payload(tracker, "incompris", incompris, text))
        return common.slot_changes(tracker, misunderstood=True)


class ActionOfferContacts(Action):
    """Second misunderstanding in a row: offer the people who can help."""

    def name(self) -> Text:
        return "action_offer_contacts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        try:
            contacts = await common.knowledge_base().get("contacts-aide")
        except KnowledgeUnavailable:
            common.send_unavailable(dispatcher, tracker)
            return []
        lang = common.language(tracker)
        localized = common.localized(contacts, lang)
        text = common.contacts_text("\n\n".join(
            [common.words(lang)["deux_incompris"], localized.answer.strip(),
             common.source_line(contacts, lang)]
        ), tracker)
        buttons = [common.details_button(contacts.id, lang),
                   {"title": common.words(lang)["bouton_menu"], "payload": "/menu"}]
        dispatcher.utter_message(text=text, buttons=buttons)
        dispatcher.utter_message(json_message=common.payload(tracker, "contacts-aide", contacts, localized))
        return common.slot_changes(tracker, topic=contacts.id, misunderstood=False)
