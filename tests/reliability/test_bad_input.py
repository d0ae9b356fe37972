"""Bad input against the running stack, on the REST channel and on the web widget's
socket.io channel: each gets a clear answer (200, French text, the answer payload) or a
4xx with a JSON reason; the server keeps answering; no other conversation changes.

Typed Rasa payloads (`/intent{"slot": "x"}`) are read as plain text, except the exact
payloads of our own buttons (bot/channels/guard.py: a typed `/titre-sejour` is the
"Titre de séjour" button; `/en_savoir_plus{"topic": "<topic-id>"}` is "En savoir plus").
"""

import asyncio
import json
import re

import pytest
from reliability_http import (
    NORMAL_QUESTION,
    NORMAL_TOPIC,
    ask,
    assert_clear_answer,
    assert_clear_refusal,
    assert_still_answers,
    channel_message,
    is_alive,
    payloads,
    post_raw,
    texts,
    tracker,
    user_events,
)
from reliability_socketio import WidgetSession

WITNESS = "rel-witness"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\ufeff]")
LONG_FRENCH = (
    "Bonjour, je travaille dans un restaurant sans être payée et le patron garde "
    "mon passeport, est-ce que je peux porter plainte et avoir des papiers ? "
)


@pytest.fixture(scope="module")
def witness(rasa_stack):
    """Another user's conversation, that no bad input may change."""
    ask(rasa_stack, WITNESS, "bonjour")
    ask(rasa_stack, WITNESS, NORMAL_QUESTION)
    before = tracker(rasa_stack, WITNESS)
    assert before["slots"]["topic"] == NORMAL_TOPIC
    return before


def check_nothing_else_changed(stack, witness, case_id):
    assert is_alive(stack), "a server process died"
    assert_still_answers(stack, f"rel-ok-{case_id}")
    assert tracker(stack, WITNESS) == witness, "another user's conversation changed"


def body(sender, message):
    return json.dumps({"sender": sender, "message": message}).encode()


# ---------------------------------------------------------------- refused: 4xx + reason
REFUSED = [
    ("invalid-utf8", b'{"sender": "rel-utf8", "message": "caf\xe9 \xff\xfe\xc3("}', 400),
    ("malformed-json", b'{"sender": "rel-json", "message": "bonjour"', 400),
    ("not-json", b"sender=rel&message=bonjour", 400),
    ("empty-body", b"", 400),
    ("json-array", b'["rel-array", "bonjour"]', 400),
    ("json-string", b'"bonjour"', 400),
    ("json-null", b"null", 400),
    ("missing-sender", json.dumps({"message": "bonjour"}).encode(), 400),
    ("missing-message", json.dumps({"sender": "rel-missing"}).encode(), 400),
    ("message-null", body("rel-null", None), 400),
    ("message-not-text", body("rel-list", ["bonjour"]), 400),
    ("message-object", body("rel-obj", {"text": "bonjour"}), 400),
    ("sender-number", json.dumps({"sender": 42, "message": "bonjour"}).encode(), 400),
    ("sender-empty", body("", "bonjour"), 400),
    ("sender-too-long", body("x" * 129, "bonjour"), 400),
    ("sender-control-chars", body("rel\nwitness", "bonjour"), 400),
    ("body-1mb", body("rel-1mb", "a" * (1 << 20)), 413),
    ("body-1mb-not-json", b"\x00" * (1 << 20), 413),
]


@pytest.mark.parametrize("case_id, raw, status", REFUSED, ids=[case[0] for case in REFUSED])
def test_malformed_requests_get_a_4xx_with_a_reason(rasa_stack, witness, case_id, raw, status):
    got, reply = post_raw(rasa_stack, raw)
    assert_clear_refusal(got, reply)
    assert got == status, (got, reply)
    check_nothing_else_changed(rasa_stack, witness, case_id)


# ------------------------------------------------- answered: 200 + French text + payload
TEXTS = [
    ("empty", ""),
    ("whitespace", " \n\t \u00a0\u3000  "),
    ("10k-chars", (LONG_FRENCH * 80)[:10_000]),
    ("emoji-only", "😀🙏💔🆘👩‍👧"),
    ("control-chars", "\x00\x07\x1b[31mcomment\x08 porter\u202e plainte\ufeff ?\x7f\x9b"),
    ("sql-drop", "'; DROP TABLE events; --"),
    ("sql-or", "1' OR '1'='1' --"),
    ("sql-union", '" UNION SELECT sender_id, data FROM events --'),
    ("html-script", "<script>alert(document.cookie)</script>"),
    ("html-img", "<img src=x onerror=\"fetch('//evil.example')\"><b>papiers</b>"),
    ("markdown-link", "[clique ici](javascript:alert(1)) ![x](http://evil.example/x.png)"),
    ("rtl-and-zero-width", "\u202eetnialp\u200b\u200b\u200d"),
    ("lone-surrogate-escape", "\ud83d papiers"),
]
EXPECTED_TEXT = {
    "empty": channel_message("message_vide"),
    "whitespace": channel_message("message_vide"),
    "10k-chars": channel_message("message_coupe"),
}


def check_answer(case_id, replies, stored_texts):
    assert_clear_answer(replies)
    if case_id in EXPECTED_TEXT:
        assert EXPECTED_TEXT[case_id] in texts(replies)
    reply_text = texts(replies).lower()
    assert "<script" not in reply_text and "onerror" not in reply_text
    assert "javascript:" not in reply_text
    for text in stored_texts:  # what reached Rasa and was stored
        assert not CONTROL.search(text), repr(text)
        assert len(text) <= 2000


@pytest.mark.parametrize("case_id, message", TEXTS, ids=[case[0] for case in TEXTS])
def test_odd_messages_get_a_clear_answer_on_rest(rasa_stack, witness, case_id, message):
    sender = f"rel-rest-{case_id}"
    status, replies = post_raw(rasa_stack, body(sender, message))
    assert status == 200, (status, replies)
    stored = [e["text"] for e in user_events(tracker(rasa_stack, sender))]
    check_answer(case_id, replies, stored)
    check_nothing_else_changed(rasa_stack, witness, case_id)


# ----------------------------------------------------- typed Rasa payloads: plain text
TYPED = [
    ("restart", "/restart", "restart"),
    ("session-start", "/session_start", "session_start"),
    ("nlu-fallback", "/nlu_fallback", "nlu_fallback"),
    ("unknown-intent", "/intent_inconnu", "intent_inconnu"),
    ("restart-padded", "  /restart  ", "restart"),
    ("restart-zero-width", "\u200b/restart", "restart"),
    ("double-slash", "//restart", "restart"),
    ("button-plus-slot", '/en_savoir_plus{"topic": "asile", "misunderstood": true}', "en_savoir_plus"),
    ("button-bad-value", '/en_savoir_plus{"topic": "<script>alert(1)</script>"}', "en_savoir_plus"),
    ("button-list-value", '/menu{"topic": ["asile"]}', "menu"),
    ("confidence-syntax", '/titre-sejour@1.0{"misunderstood": true}', "titre-sejour"),
    ("requested-slot", '/contacts-aide{"requested_slot": "topic", "topic": "asile"}', "contacts-aide"),
    ("newline-entities", '/asile\n{"topic": "asile"}', "asile"),
]
INJECTED_ENTITIES = {"misunderstood", "requested_slot"}


def check_not_a_payload(conversation, typed_intent):
    """What Rasa stored shows the text was read as text, not as a payload."""
    events = conversation["events"]
    [user] = [e for e in events if e["event"] == "user"]
    assert not user["text"].startswith("/"), user["text"]
    intent = user["parse_data"]["intent"]
    assert not (intent.get("name") == typed_intent and intent.get("confidence") == 1.0), intent
    names = {e["entity"] for e in user["parse_data"].get("entities", [])}
    assert not names & INJECTED_ENTITIES, names
    assert not any(e["event"] in ("restart", "rewind", "reset_slots") for e in events), events
    assert sum(e["event"] == "session_started" for e in events) == 1
    assert conversation["slots"].get("requested_slot") is None
    assert conversation["slots"]["topic"] not in ("<script>alert(1)</script>", ["asile"])
    assert conversation["slots"]["misunderstood"] is not True or intent.get("name") == "nlu_fallback"


@pytest.mark.parametrize("case_id, typed, intent", TYPED, ids=[case[0] for case in TYPED])
def test_typed_payload_syntax_is_read_as_text_on_rest(rasa_stack, witness, case_id, typed, intent):
    sender = f"rel-typed-{case_id}"
    status, replies = post_raw(rasa_stack, body(sender, typed))
    assert status == 200, (status, replies)
    assert_clear_answer(replies)
    check_not_a_payload(tracker(rasa_stack, sender), intent)
    check_nothing_else_changed(rasa_stack, witness, case_id)


def test_typed_button_payloads_behave_like_the_buttons(rasa_stack, witness):
    """Documented exception: the exact payload of one of our buttons, typed, is the
    button (intent at confidence 1.0; `topic` may be set to a valid topic id)."""
    replies = ask(rasa_stack, "rel-typed-button", "/titre-sejour")
    [payload] = payloads(replies)
    assert (payload["topic"], payload["intent"], payload["confidence"]) == (
        "titre-sejour",
        "titre-sejour",
        1.0,
    )
    replies = ask(rasa_stack, "rel-typed-button", '/en_savoir_plus{"topic": "asile"}')
    assert payloads(replies)[0]["topic"] == "asile"
    assert "Sources :" in texts(replies)
    assert tracker(rasa_stack, "rel-typed-button")["slots"]["topic"] == "asile"
    check_nothing_else_changed(rasa_stack, witness, "typed-button")


# ------------------------------------------------------------ the web widget (socket.io)
SOCKET_TEXTS = [case for case in TEXTS if case[0] != "lone-surrogate-escape"] + [
    ("100k-chars", (LONG_FRENCH * 800)[:100_000]),
]
EXPECTED_TEXT["100k-chars"] = channel_message("message_coupe")


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 120))


@pytest.mark.parametrize("case_id, message", SOCKET_TEXTS, ids=[case[0] for case in SOCKET_TEXTS])
def test_odd_messages_get_a_clear_answer_on_the_widget(rasa_stack, witness, case_id, message):
    async def talk():
        async with WidgetSession(rasa_stack.rasa_url) as widget:
            return widget.sender_id, await widget.say(message)

    session_id, replies = run(talk())
    stored = [e["text"] for e in user_events(tracker(rasa_stack, session_id))]
    check_answer(case_id, replies, stored)
    check_nothing_else_changed(rasa_stack, witness, f"widget-{case_id}")


@pytest.mark.parametrize("case_id, typed, intent", TYPED, ids=[case[0] for case in TYPED])
def test_typed_payload_syntax_is_read_as_text_on_the_widget(rasa_stack, witness, case_id, typed, intent):
    async def talk():
        async with WidgetSession(rasa_stack.rasa_url) as widget:
            return widget.sender_id, await widget.say(typed)

    session_id, replies = run(talk())
    assert_clear_answer(replies)
    check_not_a_payload(tracker(rasa_stack, session_id), intent)
    check_nothing_else_changed(rasa_stack, witness, f"widget-typed-{case_id}")


MALFORMED_EVENTS = [
    ("string", "bonjour"),
    ("null", None),
    ("list", ["bonjour"]),
    ("number", 42),
    ("no-message", {"session_id": "x"}),
    ("message-null", {"message": None}),
    ("message-number", {"message": 12}),
    ("message-object", {"message": {"text": "bonjour"}}),
    (
        "other-sender",
        {"message": "bonjour", "session_id": WITNESS, "sender": WITNESS, "customData": {"sender": WITNESS}},
    ),
]


def test_malformed_widget_events_are_ignored_and_the_socket_keeps_working(rasa_stack, witness):
    async def talk():
        async with WidgetSession(rasa_stack.rasa_url) as widget:
            answers = {}
            for case_id, data in MALFORMED_EVENTS:
                await widget.emit_raw(data)
                answers[case_id] = await widget.collect(timeout=1.0)
            normal = await widget.say(NORMAL_QUESTION)
            return widget.sender_id, answers, normal

    session_id, answers, normal = run(talk())
    # Nothing for malformed events; the message that names another sender is answered
    # in this widget's own conversation.
    assert {k: v for k, v in answers.items() if k != "other-sender"} == {
        k: [] for k, _ in MALFORMED_EVENTS if k != "other-sender"
    }
    assert_clear_answer(answers["other-sender"])
    assert [p["topic"] for p in payloads(normal)] == [NORMAL_TOPIC]
    assert len(user_events(tracker(rasa_stack, session_id))) == 2
    check_nothing_else_changed(rasa_stack, witness, "widget-malformed")


def test_a_widget_message_over_1mb_is_refused_by_the_transport(rasa_stack, witness):
    """engine.io refuses a packet over its 1 MB limit and drops that socket; the
    server and the other sockets carry on."""

    async def talk():
        async with WidgetSession(rasa_stack.rasa_url) as bystander:
            async with WidgetSession(rasa_stack.rasa_url) as widget:
                await widget.emit_raw({"message": "a" * (1 << 20), "session_id": widget.session_id})
                huge = await widget.collect(timeout=5)
                dropped = not widget.sio.connected
            return huge, dropped, await bystander.say(NORMAL_QUESTION)

    huge, dropped, normal = run(talk())
    assert huge == [] and dropped, (huge, dropped)
    assert [p["topic"] for p in payloads(normal)] == [NORMAL_TOPIC]
    check_nothing_else_changed(rasa_stack, witness, "widget-1mb")
