"""The messages the issues quote as failures of the first version (#15, #17, #18), asked
over REST of a real stack: each now gets the topic, language and danger rule promised."""

import pytest
from rest_client import ask, payloads, texts

# Issue #17, "Why": situations told as lived, once not understood.
SITUATIONS = [
    (
        "mon patron garde mon passeport et me paye pas depuis 4 mois",
        {"papiers-confisques", "salaires-travail"},
    ),
    ("je travaille dans un restaurant 7j/7 sans salaire c normal ?", {"salaires-travail"}),
    ("je veux arreter la prostitution", {"sortie-prostitution"}),
    ("j'ai peur qu'ils fassent du mal à ma famille au pays", {"dette-menaces"}),
]


@pytest.mark.parametrize("text,topics", SITUATIONS, ids=[t for t, _ in SITUATIONS])
def test_a_situation_of_issue_17_gets_its_topic(rasa_stack, text, topics):
    replies = ask(rasa_stack, f"e2e-issue17-{abs(hash(text))}", text)
    answers = [p for p in payloads(replies) if p.get("topic") not in (None, "urgence")]
    assert answers and answers[-1]["topic"] in topics, (text, payloads(replies))
    assert answers[-1]["language"] == "fr"


def test_the_english_debt_and_juju_message_of_issue_18_is_answered_in_english(rasa_stack):
    replies = ask(rasa_stack, "e2e-issue18", "my madam say i must pay 35000 euro or juju will kill my mother")
    answer = payloads(replies)[-1]
    assert answer["topic"] == "dette-menaces" and answer["language"] == "en", payloads(replies)
    if answer.get("danger"):  # danger first: the numbers open the turn
        assert "112" in (replies[0].get("text") or "")


# Issue #15, "Why": immediate danger written indirectly, once without the numbers.
DANGERS = [
    "un mec du réseau me suit depuis la gare, il est juste derrière moi",
    "je peux pas parler, est-ce que je peux envoyer un texto à la police ?",
    "quel numéro j'appelle là maintenant, ils sont en bas de chez moi",
]


@pytest.mark.parametrize("text", DANGERS)
def test_a_danger_of_issue_15_gets_the_numbers_first(rasa_stack, text):
    replies = ask(rasa_stack, f"e2e-issue15-{abs(hash(text))}", text)
    first = replies[0].get("text") or ""
    assert "17" in first and "112" in first and "114" in first, texts(replies)
    assert any(p.get("danger") for p in payloads(replies)), payloads(replies)
