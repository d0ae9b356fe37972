"""The front's own French texts (telegram_front/messages_fr.yml)."""
import re
from pathlib import Path

import yaml

from telegram_front import texts as texts_module
from telegram_front.texts import COMMANDS, UNSUPPORTED_KINDS, load_texts

from fake_bot_api import COMMAND_NAME, parse_html

ALLOWED_NUMBERS = {"17", "112", "114", "115", "119"}
FRONT_DIR = Path(texts_module.__file__).parent


def all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from all_strings(item)


def test_every_text_is_present():
    texts = load_texts()
    assert set(UNSUPPORTED_KINDS) <= set(texts.unsupported)
    assert set(COMMANDS) == set(texts.commands)


def test_only_the_emergency_numbers_of_the_fact_sheet_appear():
    data = yaml.safe_load(texts_module.MESSAGES_FILE.read_text(encoding="utf-8"))
    numbers = set()
    for text in all_strings(data):
        # any run of digits (spaces/dots allowed inside, as in "01 23 45 67 89")
        for match in re.finditer(r"\d[\d .]*\d|\d", text):
            numbers.add(re.sub(r"\D", "", match.group()))
    numbers -= {"24", "48", "2", "000"}  # "24 h/24", "48 heures", "2 000" are not phone numbers
    assert numbers <= ALLOWED_NUMBERS, numbers - ALLOWED_NUMBERS


def test_emergency_text_has_all_five_numbers():
    emergency = parse_html(load_texts().emergency)
    for number in ALLOWED_NUMBERS:
        assert re.search(rf"\b{number}\b", emergency), number
    apology = parse_html(load_texts().apology_with_emergency)
    assert "17" in apology and "114" in apology


def test_all_texts_are_valid_telegram_html_and_short_enough():
    texts = load_texts()
    for text in list(all_strings(texts.__dict__)) + [texts.too_long(2000)]:
        visible = parse_html(text)  # raises like the Bot API would
        assert 0 < len(visible) <= 4096
    assert len(texts.button_expired) <= 200  # answerCallbackQuery limit


def test_commands_are_valid_for_set_my_commands():
    for name, description in load_texts().commands.items():
        assert COMMAND_NAME.match(name)
        assert 1 <= len(description) <= 256


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
