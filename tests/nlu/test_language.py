"""The language detector (nlu/language.py): its decision rule and its persistence."""

import pytest

from nlu.language_model import LanguageModel, language_examples, unambiguous

EXAMPLES = [
    *[
        (t, "fr")
        for t in [
            "bonjour je veux des papiers",
            "mon patron garde mon passeport",
            "je travaille sans salaire depuis des mois",
            "comment porter plainte",
            "je suis victime de traite",
            "ou dormir ce soir",
        ]
    ],
    *[
        (t, "en")
        for t in [
            "hello i want papers",
            "my boss keeps my passport",
            "i work with no salary for months",
            "how do i report to police",
            "i am a victim of trafficking",
            "where can i sleep tonight",
        ]
    ],
]


@pytest.fixture(scope="module")
def model():
    return LanguageModel.fit(EXAMPLES, threshold=0.7, short_threshold=0.95, long_threshold=0.5)


def test_a_clear_message_decides(model):
    decision = model.decide("my boss keeps my passport and i work with no salary", None)
    assert decision["code"] == "en" and decision["source"] == "text"


def test_short_messages_need_more_confidence(model):
    model.short_threshold = 1.01  # nothing short can be sure
    try:
        assert model.decide("passport", None)["source"] == "unsure"
        hinted = model.decide("passport", "fr")
        assert hinted["code"] == "fr" and hinted["source"] == "hint"
    finally:
        model.short_threshold = 0.95


def test_long_messages_need_less_confidence(model):
    text = "i want to know where i can sleep tonight please"
    code, confidence = model.best([text])[0]
    model.threshold, model.long_threshold = 1.01, confidence
    try:
        assert len(text.split()) >= model.long_words
        assert model.decide(text, None) == {
            "code": code,
            "confidence": round(confidence, 4),
            "source": "text",
        }
        assert model.decide("where can i", None)["source"] == "unsure"  # 3 words: the middle rule
    finally:
        model.threshold, model.long_threshold = 0.7, 0.5


def test_an_unknown_hint_is_ignored(model):
    model.threshold = 1.01
    try:
        assert model.decide("comment porter plainte", "pt")["source"] == "unsure"
    finally:
        model.threshold = 0.7


def test_save_and_load_keep_the_rule(model, tmp_path):
    model.save(tmp_path)
    loaded = LanguageModel.load(tmp_path)
    assert loaded.languages == model.languages
    assert (loaded.threshold, loaded.short_threshold, loaded.long_threshold) == (0.7, 0.95, 0.5)
    text = "je travaille sans salaire depuis des mois"
    assert loaded.decide(text, None) == model.decide(text, None)


def test_a_text_found_in_several_languages_teaches_none_but_french():
    examples = [
        ("merci beaucoup", "ro"),
        ("Merci beaucoup !", "fr"),
        ("bye", "en"),
        ("Bye", "bg"),
        ("мерси", "bg"),
        ("mulțumesc", "ro"),
        ("multumesc", "ro"),
    ]
    assert unambiguous(examples) == [("Merci beaucoup !", "fr"), ("мерси", "bg"), ("mulțumesc", "ro")]


def test_the_training_examples_give_each_text_one_language(tmp_path):
    (tmp_path / "ro").mkdir()
    block = 'version: "3.1"\nnlu:\n- intent: remerciement\n  examples: |\n'
    (tmp_path / "remerciement.yml").write_text(block + "    - merci beaucoup\n    - merci\n")
    (tmp_path / "ro" / "remerciement.yml").write_text(block + "    - merci beaucoup\n    - mersi mult\n")
    assert sorted(language_examples(tmp_path)) == [
        ("merci", "fr"),
        ("merci beaucoup", "fr"),
        ("mersi mult", "ro"),
    ]
