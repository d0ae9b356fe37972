"""The front's own texts (telegram_front/messages_<code>.yml, French the reference)."""

import re
from pathlib import Path

import pytest
import yaml
from fake_bot_api import COMMAND_NAME, parse_html

import user_texts
from telegram_front import texts as texts_module
from telegram_front.texts import COMMANDS, UNSUPPORTED_KINDS, TextBook, load_texts

# The emergency list (FACTS.md §7): 3114 since a suicidal message may reach the front first.
ALLOWED_NUMBERS = {"17", "112", "114", "115", "119", "3114"}
FRONT_DIR = Path(texts_module.__file__).parent
LANGUAGES = user_texts.languages(FRONT_DIR)


def all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from all_strings(item)


def test_the_five_languages_are_there():
    assert set(LANGUAGES) == {"fr", "en", "ro", "bg", "ar"}
    assert set(TextBook.load().languages) == set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_present(language):
    texts = load_texts(language)
    assert set(UNSUPPORTED_KINDS) <= set(texts.unsupported)
    assert set(COMMANDS) == set(texts.commands)
    # Each translation has its own text for every key (no silent French fallback).
    assert user_texts.missing_keys(FRONT_DIR, language) == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_translations_are_translated(language):
    french, translated = load_texts("fr"), load_texts(language)
    for key in ("welcome", "help", "emergency", "apology", "forget_done", "language_prompt"):
        assert getattr(translated, key) != getattr(french, key), (language, key)
    assert translated.commands["langue"] != french.commands["langue"]


def test_a_translation_that_lacks_a_key_falls_back_to_french(tmp_path):
    for code in ("fr", "en"):
        (tmp_path / f"messages_{code}.yml").write_text(
            (FRONT_DIR / f"messages_{code}.yml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    data = yaml.safe_load((tmp_path / "messages_en.yml").read_text(encoding="utf-8"))
    del data["edited"]
    (tmp_path / "messages_en.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    texts = load_texts("en", folder=tmp_path)
    assert texts.edited == load_texts("fr").edited
    assert texts.welcome == load_texts("en").welcome


@pytest.mark.parametrize("language", LANGUAGES)
def test_only_the_emergency_numbers_of_the_fact_sheet_appear(language):
    data = yaml.safe_load((FRONT_DIR / f"messages_{language}.yml").read_text(encoding="utf-8"))
    numbers = set()
    for text in all_strings(data):
        # any run of digits (spaces/dots allowed inside, as in "01 23 45 67 89")
        for match in re.finditer(r"\d[\d .]*\d|\d", text):
            numbers.add(re.sub(r"\D", "", match.group()))
    numbers -= {"24", "48", "2", "000"}  # "24 h/24", "48 heures", "2 000" are not phone numbers
    assert numbers <= ALLOWED_NUMBERS, numbers - ALLOWED_NUMBERS


@pytest.mark.parametrize("language", LANGUAGES)
def test_emergency_text_has_all_six_numbers(language):
    emergency = parse_html(load_texts(language).emergency)
    for number in ALLOWED_NUMBERS:
        assert re.search(rf"\b{number}\b", emergency), number
    apology = parse_html(load_texts(language).apology_with_emergency)
    assert "17" in apology and "114" in apology


@pytest.mark.parametrize("language", LANGUAGES)
def test_all_texts_are_valid_telegram_html_and_short_enough(language):
    texts = load_texts(language)
    for text in list(all_strings(texts.__dict__)) + [texts.too_long(2000)]:
        visible = parse_html(text)  # raises like the Bot API would
        assert 0 < len(visible) <= 4096
    for short in (texts.button_expired, texts.one_at_a_time):
        assert len(short) <= 200  # answerCallbackQuery limit


@pytest.mark.parametrize("language", LANGUAGES)
def test_commands_are_valid_for_set_my_commands(language):
    for name, description in load_texts(language).commands.items():
        assert COMMAND_NAME.match(name)
        assert 1 <= len(description) <= 256


@pytest.mark.parametrize("language", LANGUAGES)
def test_welcome_and_help_list_the_language_command(language):
    texts = load_texts(language)
    assert "/langue" in texts.welcome and "/langue" in texts.help


def test_too_long_note_says_how_much_was_read():
    assert "2\u202f000" in load_texts().too_long(2000)


def test_no_user_facing_french_text_lives_in_the_python_code():
    # A crude guard: the front's Python files hold no French sentences.
    for path in FRONT_DIR.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for word in ("Désolé", "Bonjour", "urgence :", "Je ne peux", "Choisissez"):
            assert word not in source, (path.name, word)


def test_no_phone_number_in_the_python_code():
    for path in FRONT_DIR.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(0[1-9](\s?\d\d){4}|3919|116\s?006)\b", source), path.name
