"""The input guard shared by the public channels."""
import pytest

from bot.channels import guard


@pytest.mark.parametrize("payload", [
    "/titre-sejour",
    '/en_savoir_plus{"topic":"titre-sejour"}',
    "/contacts-aide",
    "/effacer_conversation",
])
def test_our_button_payloads_pass(payload):
    assert guard.clean_user_text(payload) == payload


@pytest.mark.parametrize("typed, expected", [
    ('/restart', "restart"),
    ('/session_start', "session_start"),
    ('/titre-sejour{"misunderstood": true}', 'titre-sejour{"misunderstood": true}'),
    ('/urgence@0.01', "urgence@0.01"),
    ('/en_savoir_plus{"topic":"<script>"}', 'en_savoir_plus{"topic":"<script>"}'),
    ('/nlu_fallback', "nlu_fallback"),
    ('//titre-sejour{"topic": 3}', 'titre-sejour{"topic": 3}'),
])
def test_typed_payload_syntax_is_read_as_text(typed, expected):
    cleaned = guard.clean_user_text(typed)
    assert cleaned == expected
    assert not cleaned.startswith("/")


def test_control_characters_and_bom_are_removed():
    assert guard.clean_user_text("\ufeffbon\x00jour\x1b ") == "bon jour"


def test_long_text_is_cut_and_flagged():
    cleaned = guard.clean_user_text("a" * 10_000)
    assert len(cleaned) == guard.MAX_MESSAGE_CHARS and cleaned.truncated
    assert not guard.clean_user_text("court").truncated


def test_whitespace_only_becomes_empty():
    assert guard.clean_user_text(" \n\t ") == ""


@pytest.mark.parametrize("sender, ok", [
    ("abc", True), ("", False), (None, False), (3, False), ("x" * 129, False), ("a\nb", False)])
def test_sender_validation(sender, ok):
    assert guard.sender_is_valid(sender) is ok


def test_silence_reply_gives_the_emergency_numbers_and_a_payload():
    [reply] = guard.replies_for_silence()
    for number in ("17", "112", "114"):
        assert number in reply["text"]
    assert reply["custom"]["topic"] == "urgence"
