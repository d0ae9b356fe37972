"""The founding question, end to end: REST -> French NLU -> action -> knowledge base."""

import json
import urllib.request

from rest_client import ask, payloads, texts


def test_residence_question_is_answered_from_the_knowledge_base(rasa_stack):
    replies = ask(
        rasa_stack, "e2e-titre", "est-ce que je peux avoir un titre de séjour si je porte plainte ?"
    )

    [payload] = payloads(replies)
    assert payload["topic"] == "titre-sejour"
    assert payload["intent"] == "titre-sejour"
    assert 0.5 < payload["confidence"] <= 1.0
    assert any("L425-1" in s["reference"] for s in payload["sources"])
    text = texts(replies)
    assert "L425-1" in text and "L316-1" in text
    assert "Source :" in text
    titles = [b["title"] for r in replies for b in r.get("buttons", [])]
    assert "En savoir plus" in titles and "Parler à quelqu'un" in titles


def test_details_button_gives_the_details_of_that_topic(rasa_stack):
    ask(rasa_stack, "e2e-details", "est-ce que je peux avoir un titre de séjour si je porte plainte ?")
    replies = ask(rasa_stack, "e2e-details", '/en_savoir_plus{"topic":"titre-sejour"}')
    [payload] = payloads(replies)
    assert payload["topic"] == "titre-sejour"
    assert "Sources :" in texts(replies)


def test_emergency_numbers_come_first_with_the_payload(rasa_stack):
    replies = ask(rasa_stack, "e2e-urgence", "au secours il me frappe")
    first = replies[0]["text"]
    assert first.index("17") < first.index("112") < first.index("114")
    assert replies[1]["custom"]["topic"] == "urgence"
    assert replies[1]["custom"]["intent"] == "urgence"
    assert replies[1]["custom"]["confidence"] > 0.5


def test_typed_payload_cannot_set_a_slot(rasa_stack):
    replies = ask(rasa_stack, "e2e-payload", '/titre-sejour{"misunderstood": true}')
    assert all(p["intent"] != "titre-sejour" or p["confidence"] < 1.0 for p in payloads(replies))
    latest = conversation(rasa_stack, "e2e-payload")["latest_message"]
    assert latest["entities"] == []  # read as text: no entity, so no slot, was set
    assert latest["text"].startswith("titre-sejour")


def conversation(stack, sender):
    from bot.launcher import api_token

    with urllib.request.urlopen(
        f"{stack.rasa_url}/conversations/{sender}/tracker?token={api_token()}", timeout=30
    ) as reply:
        return json.loads(reply.read())


def test_tracker_api_needs_the_token(rasa_stack):
    import urllib.error

    try:
        urllib.request.urlopen(f"{rasa_stack.rasa_url}/conversations/e2e-titre/tracker", timeout=30)
        raise AssertionError("the HTTP API answered without a token")
    except urllib.error.HTTPError as error:
        assert error.code == 401


def test_erase_deletes_the_conversation_rows(rasa_stack):
    import sqlalchemy as sa

    ask(rasa_stack, "e2e-erase", "bonjour")
    ask(rasa_stack, "e2e-erase", "comment porter plainte ?")
    engine = sa.create_engine(rasa_stack.tracker_db_url)
    count = sa.text("select count(*) from events where sender_id = 'e2e-erase'")
    with engine.connect() as c:
        assert c.execute(count).scalar() > 0
    replies = ask(rasa_stack, "e2e-erase", "efface ma conversation")
    assert "effacée" in texts(replies)
    assert payloads(replies)[0]["topic"] == "confidentialite"
    with engine.connect() as c:
        assert c.execute(count).scalar() == 0
    with engine.connect() as c:
        others = c.execute(sa.text("select count(*) from events where sender_id = 'e2e-titre'")).scalar()
    assert others > 0
