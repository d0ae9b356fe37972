"""When the message was not understood: suggest the closest topics, then a person."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from knowledge.config import topic_of_intent
from knowledge.store import KnowledgeUnavailable

SUGGESTIONS = 3
# Never offered as a suggestion: not a question about a right.
NOT_OFFERED = {"hors-sujet", "salutation", "remerciement", "au-revoir", "identite-bot", "incompris"}


def offered_topics(ranked: List[Text], found: List[Text], limit: int = SUGGESTIONS) -> List[Text]:
    """The topics a clarification offers: the classifier's own best guesses first (it
    hesitated between them), then the knowledge-base search's, without repeats. The
    order was chosen by measurement: python -m retrain.evaluate, "Clarification"."""
    offered: List[Text] = []
    for topic in list(ranked) + list(found):
        topic = topic_of_intent(topic)
        if topic and topic not in NOT_OFFERED and topic not in offered:
            offered.append(topic)
    return offered[:limit]


class ActionClarify(Action):
    """ "Je ne suis pas sûr d'avoir compris" + the three closest topics as buttons."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kb = common.knowledge_base()
        ranked = [entry.get("name") for entry in tracker.latest_message.get("intent_ranking") or []]
        try:
            incompris = await kb.get("incompris")
            found = await kb.search(tracker.latest_message.get("text") or "", SUGGESTIONS)
            closest = await kb.get_many(offered_topics(ranked, [t.id for t in found]))
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
        text = common.contacts_text(
            "\n\n".join(
                [
                    common.words(lang)["deux_incompris"],
                    localized.answer.strip(),
                    common.source_line(contacts, lang),
                ]
            ),
            tracker,
        )
        buttons = [
            common.details_button(contacts.id, lang),
            {"title": common.words(lang)["bouton_menu"], "payload": "/menu"},
        ]
        dispatcher.utter_message(text=text, buttons=buttons)
        dispatcher.utter_message(json_message=common.payload(tracker, "contacts-aide", contacts, localized))
        return common.slot_changes(tracker, topic=contacts.id, misunderstood=False)
