"""The input guard shared by the public channels."""

import pytest

from bot.channels import guard


@pytest.mark.parametrize(
    "payload",
    [
        "/titre-sejour",
        '/en_savoir_plus{"topic":"titre-sejour"}',
        "/contacts-aide",
        "/effacer_conversation",
    ],
)
def test_our_button_payloads_pass(payload):
    assert guard.clean_user_text(payload) == payload


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("/restart", "restart"),
        ("/session_start", "session_start"),
        ('/titre-sejour{"misunderstood": true}', 'titre-sejour{"misunderstood": true}'),
        ("/urgence@0.01", "urgence@0.01"),
        ('/en_savoir_plus{"topic":"<script>"}', 'en_savoir_plus{"topic":"<script>"}'),
        ("/nlu_fallback", "nlu_fallback"),
        ('//titre-sejour{"topic": 3}', 'titre-sejour{"topic": 3}'),
        ("/ /restart", "restart"),
        ('/ /titre-sejour{"misunderstood":true}', 'titre-sejour{"misunderstood":true}'),
        ("/\u200b/urgence@0.01", "urgence@0.01"),
        (' / / /en_savoir_plus{"topic":"<b>x</b>"}', 'en_savoir_plus{"topic":"<b>x</b>"}'),
        ("/\t/\n/restart", "restart"),
    ],
)
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


@pytest.mark.parametrize(
    "sender, ok", [("abc", True), ("", False), (None, False), (3, False), ("x" * 129, False), ("a\nb", False)]
)
def test_sender_validation(sender, ok):
    assert guard.sender_is_valid(sender) is ok


def test_silence_reply_gives_the_emergency_numbers_and_a_payload():
    [reply] = guard.replies_for_silence()
    for number in ("17", "112", "114"):
        assert number in reply["text"]
    assert reply["custom"]["topic"] == "urgence"


def test_button_payloads_are_reserialised_and_capped():
    padded = '/en_savoir_plus{"topic":   "titre-sejour"' + " " * 900_000 + "}"
    cleaned = guard.clean_user_text(padded)
    assert not cleaned.startswith("/") and len(cleaned) <= guard.MAX_MESSAGE_CHARS
    spaced = guard.clean_user_text('/en_savoir_plus{ "topic" : "titre-sejour" }')
    assert spaced == '/en_savoir_plus{"topic":"titre-sejour"}'
    too_long = '/en_savoir_plus{"topic":"' + "a" * 250 + '"}'
    assert not guard.clean_user_text(too_long).startswith("/")


def test_rasa_never_logs_the_text_of_a_payload_it_cannot_parse(caplog, capsys):
    """Defence in depth: even if a "/..." text reached Rasa's parser, neither the
    warning nor the structlog event quotes it."""
    import warnings

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    domain = Domain.from_dict({"intents": ["greet"]})
    secret = "Quentilius"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        guard.silence_payload_parsing_warnings()
        for text in (
            f'/greet{{"x": "{secret}"}} rest',
            f"/greet@{secret}",
            f"/ {secret}",
            f'/greet{{"x": {secret}}}',
        ):
            YAMLStoryReader.unpack_regex_message(Message.build(text), domain)
    out = capsys.readouterr()
    logged = " ".join(str(w.message) for w in caught) + caplog.text + out.out + out.err
    assert secret not in logged
