"""Answers a topic from the knowledge base: short answer first, details on request."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from knowledge.config import topic_of_intent
from knowledge.content import Topic
from knowledge.store import KnowledgeUnavailable


class ActionAnswerTopic(Action):
    """The short answer of the topic the user asked about, with its source."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        topic_id = topic_of_intent(common.latest_intent(tracker).get("name"))
        kb = common.knowledge_base()
        try:
            topic, related = await kb.with_related(topic_id) if topic_id else (None, [])
            if topic is None:
                topic, related = await kb.with_related("incompris")
        except KnowledgeUnavailable:
            common.send_unavailable(dispatcher, tracker)
            return []

        send_answer(dispatcher, tracker, topic, related)
        return common.slot_changes(tracker, topic=topic.id, misunderstood=False)


def send_answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    topic: Topic,
    related: List[Topic],
    lang: Optional[Text] = None,
) -> None:
    """The short answer in the conversation's language, its source line, and buttons."""
    lang = lang or common.language(tracker)
    localized = common.localized(topic, lang)
    text = localized.answer.strip()
    if topic.id == "contacts-aide":
        text = common.contacts_text(text, tracker)
    if topic.audience != "conversation":
        text += "\n\n" + common.source_line(topic, lang)
    buttons = []
    if topic.details.strip():
        buttons.append(common.details_button(topic.id, lang))
    buttons += common.topic_buttons(related[: common.MAX_RELATED_BUTTONS], lang)
    if topic.id != "contacts-aide":
        buttons.append(common.talk_button(lang))
    note = common.unreviewed_note(localized)
    if note:
        text += "\n\n" + note
        buttons.append(common.french_button(lang))
    dispatcher.utter_message(text=text, buttons=buttons)
    dispatcher.utter_message(json_message=common.payload(tracker, topic.id, topic, localized))


class ActionTopicDetails(Action):
    """The details of the topic just answered (or named by the button)."""

    def name(self) -> Text:
        return "action_topic_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        topic_id = tracker.get_slot("topic")
        kb = common.knowledge_base()
        try:
            topic, related = await kb.with_related(topic_id) if topic_id else (None, [])
            if topic is None:
                return await self._ask_which_topic(dispatcher, tracker)
        except KnowledgeUnavailable:
            common.send_unavailable(dispatcher, tracker)
            return []

        lang = common.language(tracker)
        localized = common.localized(topic, lang)
        text = (
            (localized.details.strip() or localized.answer.strip())
            + "\n\n"
            + common.sources_block(topic, lang)
        )
        buttons = common.topic_buttons(related[: common.MAX_RELATED_BUTTONS], lang)
        if topic.id != "contacts-aide":
            buttons.append(common.talk_button(lang))
        note = common.unreviewed_note(localized)
        if note:
            text += "\n\n" + note
            buttons.append(common.french_button(lang))
        dispatcher.utter_message(text=text, buttons=buttons)
        dispatcher.utter_message(json_message=common.payload(tracker, topic.id, topic, localized))
        return common.slot_changes(tracker, topic=topic.id, misunderstood=False)

    @staticmethod
    async def _ask_which_topic(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
        lang = common.language(tracker)
        topics = await common.knowledge_base().get_many(common.words(lang)["menu_sujets"])
        dispatcher.utter_message(
            text=common.words(lang)["details_sans_sujet"],
            buttons=common.topic_buttons(topics, lang),
        )
        dispatcher.utter_message(json_message=common.payload(tracker, "incompris", None))
        return [SlotSet("topic", None)]
