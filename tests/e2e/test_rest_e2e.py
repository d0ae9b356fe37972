"""The founding question, end to end: REST -> French NLU -> action -> knowledge base."""
import json
import urllib.request


def ask(stack, sender, text):
    request = urllib.request.Request(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def payloads(replies):
    return [r["custom"] for r in replies if "custom" in r]


def texts(replies):
    return "\n".join(r.get("text", "") for r in replies)


def test_residence_question_is_answered_from_the_knowledge_base(rasa_stack):
    replies = ask(rasa_stack, "e2e-titre", "est-ce que je peux avoir un titre de séjour si je porte plainte ?")

    [payload] = payloads(replies)
    assert payload["topic"] == "titre-sejour"
    assert payload["intent"] == "titre_sejour"
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
