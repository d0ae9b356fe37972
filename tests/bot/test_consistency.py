"""Texts that must exist outside the knowledge base (because they are sent when the
action server or Rasa is down) stay in line with it."""

import re

import yaml

from knowledge.content import load_content
from project_paths import DOMAIN_FILE, REPO_ROOT

EMERGENCY_NUMBERS = ("17", "112", "114")


def topics():
    return {t.id: t for t in load_content()}


def domain():
    return yaml.safe_load((DOMAIN_FILE).read_text(encoding="utf-8"))


def test_emergency_response_is_the_knowledge_base_answer():
    urgence = topics()["urgence"]
    [response] = domain()["responses"]["utter_urgence"]
    assert response["text"] == urgence.answer.strip()
    assert response["custom"]["sources"] == [
        {"title": s.title, "reference": s.reference, "url": s.url} for s in urgence.sources
    ]


def test_emergency_answer_starts_with_17_112_114():
    answer = topics()["urgence"].answer
    first_numbers = re.findall(r"\b1\d\d?\b", answer)[:3]
    assert first_numbers == list(EMERGENCY_NUMBERS)


def test_channel_and_dialogue_fallbacks_give_the_emergency_numbers():
    channel = yaml.safe_load((REPO_ROOT / "bot" / "channels" / "messages_fr.yml").read_text(encoding="utf-8"))
    dialogue = yaml.safe_load((REPO_ROOT / "actions" / "messages_fr.yml").read_text(encoding="utf-8"))
    [default] = domain()["responses"]["utter_default"]
    for text in (channel["service_indisponible"], dialogue["base_indisponible"], default["text"]):
        for number in EMERGENCY_NUMBERS:
            assert re.search(rf"\b{number}\b", text), (number, text)


def test_menu_topics_exist():
    dialogue = yaml.safe_load((REPO_ROOT / "actions" / "messages_fr.yml").read_text(encoding="utf-8"))
    assert set(dialogue["menu_sujets"]) <= set(topics())
