"""Rasa elements -> Telegram messages: grouping, escaping, keyboards, splitting."""

from fake_bot_api import parse_html

from telegram_front.render import (
    MAX_MESSAGE_CHARS,
    escape,
    render_elements,
    split_text,
    tg_len,
)

PROMPT = "Choisissez :"


def paragraphs(n, size=900, stem="Paragraphe"):
    return [f"{stem} {i} " + ("x" * (size - len(stem) - 8)) + "." for i in range(n)]


def test_escape_turns_html_into_plain_text():
    raw = "<b>pas du gras</b> & 3 < 4 > 2 \"guillemets\" 'apostrophe'"
    escaped = escape(raw)
    assert "<" not in escaped and ">" not in escaped
    assert parse_html(escaped) == raw  # Telegram shows exactly what Rasa wrote


def test_consecutive_texts_become_one_message_and_custom_is_never_shown():
    elements = [
        {"recipient_id": "s", "text": "Premier paragraphe."},
        {"recipient_id": "s", "text": "Deuxième paragraphe."},
        {"recipient_id": "s", "custom": {"topic": "titre-sejour", "sources": []}},
    ]
    [message] = render_elements(elements, PROMPT)
    assert message.html == "Premier paragraphe.\n\nDeuxième paragraphe."
    assert message.buttons == []
    assert "titre-sejour" not in message.html


def test_buttons_close_their_group_and_stay_in_order():
    elements = [
        {"text": "Réponse."},
        {
            "text": "Source : X.",
            "buttons": [
                {"title": "En savoir plus", "payload": '/en_savoir_plus{"topic":"asile"}'},
                {"title": "Site", "url": "https://www.service-public.fr/"},
            ],
        },
        {"text": "Autre chose ?"},
    ]
    first, second = render_elements(elements, PROMPT)
    assert first.html == "Réponse.\n\nSource : X."
    assert first.buttons == [
        ("En savoir plus", "payload", '/en_savoir_plus{"topic":"asile"}'),
        ("Site", "url", "https://www.service-public.fr/"),
    ]
    assert second.html == "Autre chose ?" and second.buttons == []


def test_buttons_without_text_get_a_prompt():
    [message] = render_elements([{"buttons": [{"title": "Menu", "payload": "/menu"}]}], PROMPT)
    assert message.html == escape(PROMPT)
    assert message.buttons == [("Menu", "payload", "/menu")]


def test_images_are_sent_as_photos_between_texts():
    elements = [{"text": "Avant."}, {"image": "https://example.org/a.png"}, {"text": "Après."}]
    before, image, after = render_elements(elements, PROMPT)
    assert before.html == "Avant." and image.photo == "https://example.org/a.png" and after.html == "Après."


def test_empty_and_unknown_elements_are_skipped():
    assert render_elements([{"custom": {}}, {"text": "  "}, "junk", {"foo": 1}], PROMPT) == []


def test_short_text_is_not_split():
    assert split_text("Bonjour.\n\nÇa va ?") == ["Bonjour.\n\nÇa va ?"]


def test_long_text_is_split_at_paragraph_boundaries():
    paras = paragraphs(12)  # about 10,800 characters
    parts = split_text("\n\n".join(paras))
    assert len(parts) >= 3
    assert all(tg_len(p) <= MAX_MESSAGE_CHARS for p in parts)
    # every part is made of whole paragraphs, and nothing is lost or reordered
    rebuilt = []
    for part in parts:
        rebuilt.extend(part.split("\n\n"))
    assert rebuilt == paras


def test_parts_are_filled_greedily():
    paras = paragraphs(9)  # 9 x 900: four paragraphs (3,606 chars) fit, five do not
    parts = split_text("\n\n".join(paras))
    assert [len(p.split("\n\n")) for p in parts] == [4, 4, 1]


def test_a_paragraph_longer_than_the_limit_is_cut_at_lines_then_sentences():
    sentences = [f"Phrase numéro {i} qui dit quelque chose d'utile." for i in range(200)]
    paragraph = " ".join(sentences)  # one paragraph, one line, about 10,000 characters
    parts = split_text(f"Intro.\n\n{paragraph}")
    assert all(tg_len(p) <= MAX_MESSAGE_CHARS for p in parts)
    assert parts[0].startswith("Intro.")
    for part in parts[1:]:
        assert part.startswith("Phrase numéro") and part.endswith("utile.")
    assert " ".join(" ".join(parts).split()) == " ".join(f"Intro. {paragraph}".split())


def test_a_word_longer_than_the_limit_is_cut_hard():
    parts = split_text("a" * 9000)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def test_emoji_count_double_like_telegram_counts_them():
    text = "😀" * 3000  # 3,000 characters but 6,000 UTF-16 units
    parts = split_text(text)
    assert len(parts) == 2
    assert all(tg_len(p) <= MAX_MESSAGE_CHARS for p in parts)
    assert "".join(parts) == text


def test_split_counts_visible_characters_not_escaped_ones():
    text = "&" * 4000  # escaped it is 20,000 characters, but Telegram counts 4,000
    [message] = render_elements([{"text": text}], PROMPT)
    assert parse_html(message.html) == text


def test_keyboard_goes_on_the_last_part_of_a_long_answer():
    text = "\n\n".join(paragraphs(10))
    messages = render_elements([{"text": text, "buttons": [{"title": "Menu", "payload": "/menu"}]}], PROMPT)
    assert len(messages) >= 2
    assert [bool(m.buttons) for m in messages] == [False] * (len(messages) - 1) + [True]
    for message in messages:
        assert tg_len(parse_html(message.html)) <= MAX_MESSAGE_CHARS
