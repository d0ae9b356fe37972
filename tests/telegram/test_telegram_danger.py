"""The front's own danger check (telegram_front/danger.py): the detector of the trained model
that Rasa serves, so that a danger message in any language gets the numbers at once; the
French keyword net only when no trained detector can be read. And the language of those
numbers (telegram_front/language.py): the message's, when the served language model is sure.

The detector here is a small one trained on a few messages and packed the way Rasa packs a
model, to test the plumbing; the real detector's quality is measured on the held-out sets
(tests/retrain/test_gates.py also checks that the front and Rasa flag the same messages).
"""

import logging
import tarfile
from pathlib import Path

from fake_bot_api import parse_html
from tg_harness import async_test, running_front

from nlu.danger_model import DANGER, SAFE, DangerExample, DangerModel
from nlu.language_model import LanguageModel
from telegram_front.danger import DangerCheck, read_detector
from telegram_front.language import MessageLanguage, read_language_model
from telegram_front.texts import load_texts

TEXTS = load_texts()
TEXTS_BY_LANGUAGE = {code: load_texts(code) for code in ("ro", "en")}
# Messages the French keyword net does not recognise.
DANGER_TEXTS = {
    "ro": "ma urmareste acum pe strada, e chiar in spatele meu",
    "bg": "идват за мен точно сега",
    "ar": "rah wa9ef 9odam lbab daba, kaydo9 bjehd",
    "en": "he is outside the door right now banging",
}
SAFE_TEXTS = [
    "cum obtin un permis de sedere",
    "как да подам жалба срещу шефа",
    "wach 3andi l7a9 f lwra9",
    "how do I get my unpaid wages back",
    "comment porter plainte contre mon patron",
    "merci beaucoup pour les infos",
]


# A few sentences per language, for a small language model (not the danger texts).
LANGUAGE_TEXTS = {
    "fr": [
        "je voudrais savoir comment faire une demande",
        "mon patron ne me paie pas depuis des mois",
        "est-ce que je peux avoir un logement",
        "ou est le foyer le plus proche de la gare",
    ],
    "ro": [
        "as vrea sa stiu cum sa fac o cerere",
        "seful nu ma plateste de luni de zile",
        "pot sa primesc o locuinta",
        "unde este caminul cel mai apropiat de gara",
    ],
    "en": [
        "i would like to know how to apply",
        "my boss has not paid me for months",
        "can i get a place to live",
        "where is the nearest shelter to the station",
    ],
}


def model_archive(
    folder: Path, component: str = "train_nlu.danger.DangerDetector5", language: bool = False
) -> Path:
    """A trained detector (and, if asked, a language model) saved where Rasa keeps them
    in a model archive."""
    examples = [DangerExample(t, DANGER, "general", lang) for lang, t in DANGER_TEXTS.items()]
    examples += [DangerExample(t, SAFE, None, "fr") for t in SAFE_TEXTS]
    saved = folder / "components" / component
    saved.mkdir(parents=True)
    DangerModel.fit(examples, {}, threshold=0.5).save(saved)
    if language:
        saved = folder / "components" / "train_nlu.language.LanguageDetector4"
        saved.mkdir(parents=True)
        labelled = [(text, code) for code, texts in LANGUAGE_TEXTS.items() for text in texts]
        LanguageModel.fit(labelled, threshold=0.5).save(saved)
    (folder / "metadata.json").write_text("{}")
    archive = folder / "assistant.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder / "metadata.json", arcname="metadata.json")
        tar.add(folder / "components", arcname="components")
    return archive


def test_the_front_reads_the_detector_of_the_trained_model(tmp_path):
    check = DangerCheck.from_model(model_archive(tmp_path))
    assert check.detector is not None
    keyword_net = DangerCheck(None).looks_like
    for lang, text in DANGER_TEXTS.items():
        assert check.looks_like(text), lang
        assert not keyword_net(text), lang  # what the front missed before
    for text in SAFE_TEXTS:
        assert not check.looks_like(text), text
    for text in ("/urgence", "", "   ", "/start"):
        assert not check.looks_like(text)


def test_without_a_readable_detector_the_keyword_net_stands_in(tmp_path, caplog):
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(b"not an archive")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(model_archive(tmp_path / "full").read_bytes()[:2000])
    other = model_archive(tmp_path / "other", component="train_nlu.classifier.TfidfLogRegClassifier3")
    for path in (tmp_path / "missing.tar.gz", corrupt, truncated, other):
        assert read_detector(path) is None, path.name
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="telegram_front.danger"):
            check = DangerCheck.from_model(path)
        assert check.detector is None
        assert check.looks_like("au secours il me frappe")
        assert not check.looks_like(DANGER_TEXTS["ro"])
        assert [r.levelno for r in caplog.records] == [logging.WARNING]
        assert str(path) in caplog.text and "No danger detector" in caplog.text


def test_a_detector_failure_falls_back_on_the_keyword_net_and_logs_no_text(tmp_path, caplog, monkeypatch):
    check = DangerCheck.from_model(model_archive(tmp_path))

    def broken(texts):
        raise ValueError(texts[0])

    monkeypatch.setattr(check.detector, "verdicts", broken)
    with caplog.at_level(logging.ERROR, logger="telegram_front.danger"):
        assert check.looks_like("au secours il me frappe")
        assert not check.looks_like("une question sur le 115")
    assert "ValueError" in caplog.text and "secours" not in caplog.text and "115" not in caplog.text


@async_test
async def test_a_romanian_danger_message_gets_the_numbers_at_once_while_rasa_is_slow(tmp_path):
    archive = model_archive(tmp_path / "model")
    async with running_front(tmp_path, rasa_timeout=5.0, model_path=archive) as run:
        run.rasa.delay = 2.0
        chat = 424242300
        await run.api.push_text(chat, "o intrebare lenta")  # an earlier message waits for Rasa
        update = await run.api.push_text(chat, DANGER_TEXTS["ro"])
        reply = await run.api.wait_for("sendMessage", chat_id=chat, timeout=10)
        seconds = reply.at - run.api.update_arrivals[update["update_id"]]
        print(f"\nRomanian danger message, Rasa slow: numbers after {seconds * 1000:.0f} ms")
        assert reply.shown == parse_html(TEXTS.emergency) and seconds < 1.0
        # Rasa still answers both, in order.
        await run.api.wait_for("sendMessage", chat_id=chat, count=3, timeout=10)
        assert run.rasa.messages() == ["o intrebare lenta", DANGER_TEXTS["ro"]]


def test_the_front_reads_the_language_model_of_the_trained_model(tmp_path, caplog):
    language = MessageLanguage.from_model(model_archive(tmp_path, language=True))
    assert language.model is not None
    assert language.of(DANGER_TEXTS["ro"]) == "ro"
    assert language.of(DANGER_TEXTS["en"]) == "en"
    assert language.of("il est devant la porte du foyer et il crie mon nom") == "fr"
    for text in ("/urgence", "", "  ", "ok"):  # a command, nothing, or too little to be sure
        assert language.of(text) is None, text
    # No language model in the archive (a model trained before it): the chat's language.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="telegram_front.language"):
        without = MessageLanguage.from_model(model_archive(tmp_path / "old"))
    assert read_language_model(tmp_path / "old" / "assistant.tar.gz") is None
    assert without.model is None and without.of(DANGER_TEXTS["ro"]) is None
    assert "No language model" in caplog.text


def test_a_language_model_failure_leaves_the_chat_language_and_logs_no_text(tmp_path, caplog, monkeypatch):
    language = MessageLanguage.from_model(model_archive(tmp_path, language=True))

    def broken(texts):
        raise ValueError(texts[0])

    monkeypatch.setattr(language.model, "best", broken)
    with caplog.at_level(logging.ERROR, logger="telegram_front.language"):
        assert language.of(DANGER_TEXTS["ro"]) is None
    assert "ValueError" in caplog.text and "urmareste" not in caplog.text


@async_test
async def test_the_numbers_come_in_the_language_the_person_wrote_in(tmp_path):
    archive = model_archive(tmp_path / "model", language=True)
    async with running_front(tmp_path, rasa_timeout=5.0, model_path=archive) as run:
        run.rasa.delay = 1.0
        french_phone, no_language = 424242310, 424242311
        run.api.user_languages[french_phone] = "fr"
        await run.api.push_text(french_phone, DANGER_TEXTS["ro"])
        reply = await run.api.wait_for("sendMessage", chat_id=french_phone, timeout=10)
        assert reply.shown == parse_html(TEXTS_BY_LANGUAGE["ro"].emergency)
        assert TEXTS_BY_LANGUAGE["ro"].emergency != TEXTS.emergency
        # /urgence has no words to judge: the chat's language (here the phone's, French).
        await run.api.push_text(french_phone, "/urgence")
        french = parse_html(TEXTS.emergency)
        await run.api.wait_for("sendMessage", chat_id=french_phone, where=lambda c: c.shown == french)
        await run.api.push_text(no_language, DANGER_TEXTS["en"])
        reply = await run.api.wait_for("sendMessage", chat_id=no_language, timeout=10)
        assert reply.shown == parse_html(TEXTS_BY_LANGUAGE["en"].emergency)
