"""Every action against a real knowledge base (SQLite, built from the real content)."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from actions.answer import ActionAnswerTopic, ActionTopicDetails
from actions.clarify import ActionClarify, ActionOfferContacts
from actions.erase import ActionEraseConversation
from actions.menu import ActionMenu
from knowledge.config import CONTROL_INTENTS
from knowledge.loader import load_database
from knowledge.store import KnowledgeBase
from project_paths import NLU_DATA_DIR


@pytest.fixture(autouse=True)
def real_knowledge_base(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    load_database(url)
    monkeypatch.setattr(common, "_kb", KnowledgeBase(url))


def tracker(intent="titre-sejour", confidence=0.93, text="question", slots=None):
    return Tracker(
        sender_id="test",
        slots=slots or {},
        latest_message={"text": text, "intent": {"name": intent, "confidence": confidence}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )


def run(action, trk):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, {}))
    texts = [m for m in dispatcher.messages if m.get("text")]
    payloads = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    return texts, payloads, events


def button_payloads(texts):
    return [b["payload"] for m in texts for b in m.get("buttons", [])]


def test_answer_gives_short_answer_source_buttons_and_payload():
    texts, [payload], events = run(ActionAnswerTopic(), tracker())
    [message] = texts
    assert "L425-1" in message["text"] and "Source : " in message["text"]
    assert "vérifié le 30/11/2026" in message["text"]  # the first source of titre-sejour
    buttons = button_payloads(texts)
    assert buttons[0] == '/en_savoir_plus{"topic":"titre-sejour"}'
    assert buttons[-1] == "/contacts-aide"
    assert 2 <= len(buttons) - 2 <= 3  # related topics between the two
    assert payload["topic"] == "titre-sejour"
    assert payload["intent"] == "titre-sejour" and payload["confidence"] == 0.93
    assert payload["sources"] and all(
        {"title", "reference", "url", "supports", "verified_on"} <= s.keys() for s in payload["sources"]
    )
    assert all(s["supports"] for s in payload["sources"])
    assert SlotSet("topic", "titre-sejour") in events and SlotSet("misunderstood", False) in events


def test_slots_already_right_are_not_set_again():
    _, _, events = run(ActionAnswerTopic(), tracker(slots={"topic": "titre-sejour", "misunderstood": False}))
    assert events == []
    _, _, events = run(ActionAnswerTopic(), tracker(slots={"topic": "asile", "misunderstood": False}))
    assert events == [SlotSet("topic", "titre-sejour")]
    _, _, events = run(ActionClarify(), tracker(intent="nlu_fallback", slots={"misunderstood": True}))
    assert events == []


def test_every_topic_intent_is_answered_with_its_own_topic():
    intents = [path.stem for path in NLU_DATA_DIR.glob("*.yml")]
    assert "titre-sejour" in intents
    for intent in intents:
        if intent in CONTROL_INTENTS or intent == "urgence":
            continue
        texts, [payload], _ = run(ActionAnswerTopic(), tracker(intent=intent))
        assert payload["topic"] == intent, intent
        assert texts[0]["text"].strip(), intent


def test_conversation_topics_have_no_source_line():
    texts, _, _ = run(ActionAnswerTopic(), tracker(intent="salutation"))
    assert "Source :" not in texts[0]["text"]


def test_details_use_the_topic_slot_and_list_all_sources():
    texts, [payload], _ = run(
        ActionTopicDetails(), tracker(intent="en_savoir_plus", slots={"topic": "titre-sejour"})
    )
    assert "Sources :" in texts[0]["text"] and "L425-3" in texts[0]["text"]
    assert payload["topic"] == "titre-sejour"


def test_details_without_topic_ask_which_topic():
    texts, [payload], events = run(ActionTopicDetails(), tracker(intent="en_savoir_plus"))
    assert payload["topic"] == "incompris"
    assert "/titre-sejour" in button_payloads(texts)


def test_details_of_unknown_topic_do_not_crash():
    texts, [payload], _ = run(
        ActionTopicDetails(), tracker(intent="en_savoir_plus", slots={"topic": "n-existe-pas"})
    )
    assert payload["topic"] == "incompris"


def test_clarify_offers_three_closest_topics_and_a_person():
    texts, [payload], events = run(
        ActionClarify(),
        tracker(
            intent="nlu_fallback",
            confidence=0.3,
            text="comment obtenir une carte de sejour quand on a ete exploite",
        ),
    )
    buttons = button_payloads(texts)
    assert len(buttons) == 4 and buttons[-1] == "/contacts-aide"
    assert "/titre-sejour" in buttons
    assert "pas sûr d'avoir compris" in texts[0]["text"]
    assert payload["topic"] == "incompris"
    assert SlotSet("misunderstood", True) in events


def test_second_misunderstanding_offers_contacts():
    texts, [payload], events = run(ActionOfferContacts(), tracker(intent="nlu_fallback"))
    assert payload["topic"] == "contacts-aide"
    assert "116 006" in texts[0]["text"]
    assert SlotSet("misunderstood", False) in events


def test_menu_lists_main_topics_emergency_first():
    texts, _, _ = run(ActionMenu(), tracker(intent="menu"))
    buttons = button_payloads(texts)
    assert buttons[0] == "/urgence" and "/titre-sejour" in buttons and len(buttons) >= 10


def test_erase_confirms_with_privacy_payload(tmp_path, monkeypatch):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    with sa.create_engine(url).begin() as c:
        c.execute(sa.text("create table events (id integer primary key, sender_id text)"))
    monkeypatch.setenv("TRACKER_DB_URL", url)
    texts, [payload], _ = run(ActionEraseConversation(), tracker(intent="effacer_conversation"))
    assert "effacée" in texts[0]["text"]
    assert payload["topic"] == "confidentialite"


def test_unavailable_knowledge_base_gives_emergency_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "_kb", KnowledgeBase(f"sqlite:///{tmp_path / 'absent.db'}"))
    texts, [payload], _ = run(ActionAnswerTopic(), tracker())
    assert "17" in texts[0]["text"] and "114" in texts[0]["text"]


def test_erase_says_so_when_the_conversation_store_is_down(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path / 'missing-dir' / 'tracker.db'}")
    texts, [payload], _ = run(ActionEraseConversation(), tracker(intent="effacer_conversation"))
    assert "pas pu effacer" in texts[0]["text"] and "effacée" not in texts[0]["text"]
    assert payload["topic"] == "confidentialite"


def danger_tracker(intent="titre-sejour", detected=True, case="general"):
    trk = tracker(intent=intent)
    trk.latest_message["danger"] = {
        "detected": detected,
        "score": 0.9 if detected else 0.1,
        "case": case if detected else None,
    }
    return trk


def test_payload_says_danger_when_the_detector_fired():
    _, [payload], _ = run(ActionAnswerTopic(), danger_tracker(detected=True))
    assert payload["topic"] == "titre-sejour" and payload["danger"] is True


def test_payload_says_no_danger_otherwise():
    _, [payload], _ = run(ActionAnswerTopic(), danger_tracker(detected=False))
    assert payload["danger"] is False
    _, [payload], _ = run(ActionAnswerTopic(), tracker())  # no detector output at all
    assert payload["danger"] is False


def test_contacts_answer_starts_with_the_emergency_line():
    [message], [payload], _ = run(ActionAnswerTopic(), tracker(intent="contacts-aide"))
    first_line = message["text"].splitlines()[0]
    assert "17" in first_line and "112" in first_line and "114" in first_line
    assert payload["topic"] == "contacts-aide" and payload["danger"] is False


def test_contacts_answer_after_a_danger_message_does_not_repeat_the_numbers():
    [message], _, _ = run(ActionAnswerTopic(), danger_tracker(intent="contacts-aide"))
    assert not message["text"].startswith(common.words()["ligne_urgence"])


def test_offered_contacts_start_with_the_emergency_line():
    from actions.clarify import ActionOfferContacts

    [message], [payload], _ = run(ActionOfferContacts(), tracker(intent="nlu_fallback"))
    assert message["text"].startswith(common.words()["ligne_urgence"])
    assert payload["topic"] == "contacts-aide"
