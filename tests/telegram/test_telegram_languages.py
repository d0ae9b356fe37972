"""The victims' languages in the Telegram front (issue #18): the app language as a hint to
Rasa, /langue, the front's own texts and command menus in the chat's language."""

import json

from fake_bot_api import parse_html
from fake_rasa_rest import ANSWER, ERASED
from tg_harness import async_test, running_front

from telegram_front.texts import TextBook, load_texts

BOOK = TextBook.load()
FR, EN, RO, AR = (load_texts(code) for code in ("fr", "en", "ro", "ar"))
NAMES = ["Français", "English", "Română", "Български", "العربية"]
CHAT = 515151001


def shown(html):
    return parse_html(html)


# --------------------------------------------------------------------------- the hint
@async_test
async def test_the_app_language_goes_to_rasa_as_a_hint_and_nothing_else(tmp_path):
    async with running_front(tmp_path) as run:
        chats = {CHAT: "en-GB", CHAT + 1: "ar", CHAT + 2: "pt-br", CHAT + 3: None}
        for chat, language in chats.items():
            run.api.user_languages[chat] = language
            await run.api.push_text(chat, "bonjour")
            await run.api.wait_for("sendMessage", chat_id=chat)
        bodies = {r.sender: r.body for r in run.rasa.received}
        assert bodies[run.sender(CHAT)] == {
            "sender": run.sender(CHAT),
            "message": "bonjour",
            "metadata": {"language_hint": "en"},
        }
        assert bodies[run.sender(CHAT + 1)]["metadata"] == {"language_hint": "ar"}
        # Portuguese is not one of ours, and no language at all: no metadata.
        assert set(bodies[run.sender(CHAT + 2)]) == {"sender", "message"}
        assert set(bodies[run.sender(CHAT + 3)]) == {"sender", "message"}
        raw = json.dumps([r.body for r in run.rasa.received])
        for chat in chats:  # never the Telegram id, nor the user's names
            assert str(chat) not in raw
        assert "Zorglub" not in raw and "zorglub" not in raw


@async_test
async def test_buttons_and_menu_carry_the_hint_too(tmp_path):
    async with running_front(tmp_path) as run:
        run.api.user_languages[CHAT] = "ro"
        await run.api.push_text(CHAT, "/menu")
        menu = await run.api.wait_for("sendMessage", chat_id=CHAT)
        await run.api.push_callback(CHAT, menu.result["message_id"], menu.keyboard[0][0]["callback_data"])
        await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        assert [r.body.get("metadata") for r in run.rasa.received] == [{"language_hint": "ro"}] * 2


# --------------------------------------------------------------------------- /langue
@async_test
async def test_langue_shows_one_button_per_language_and_a_tap_is_relayed_and_remembered(tmp_path):
    async with running_front(tmp_path) as run:  # the app is in French
        await run.api.push_text(CHAT, "/langue")
        offer = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert offer.shown == BOOK.french.language_prompt
        assert [row[0]["text"] for row in offer.keyboard] == NAMES
        assert run.rasa.messages() == []  # the offer needs no Rasa

        english = offer.keyboard[1][0]["callback_data"]
        await run.api.push_callback(CHAT, offer.result["message_id"], english)
        await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        assert run.rasa.messages() == ['/choisir_langue{"language":"en"}']
        assert run.rasa.received[0].body["metadata"] == {"language_hint": "fr"}  # the app's, still

        # The front's own texts now follow the choice.
        await run.api.push_text(CHAT, "/aide")
        help_ = await run.api.wait_for("sendMessage", chat_id=CHAT, count=3)
        assert help_.shown == shown(EN.help)

        # /oubli erases the choice with the rest: this exchange ends in English...
        await run.api.push_text(CHAT, "/oubli")
        done = await run.api.wait_for(
            "sendMessage", chat_id=CHAT, where=lambda c: c.shown == shown(EN.forget_done)
        )
        assert done
        # ...and the next one is in the app's language again.
        await run.api.push_text(CHAT, "/start")
        welcome = await run.api.wait_for(
            "sendMessage", chat_id=CHAT, where=lambda c: c.shown == shown(FR.welcome)
        )
        assert welcome


@async_test
async def test_the_language_buttons_rasa_sends_are_remembered_too(tmp_path):
    async with running_front(tmp_path) as run:
        run.rasa.responder = lambda sender, message: [
            {
                "recipient_id": sender,
                "text": "?",
                "buttons": [{"title": "Română", "payload": '/choisir_langue{"language":"ro"}'}],
            }
        ]
        await run.api.push_text(CHAT, "in romanian please")
        offer = await run.api.wait_for("sendMessage", chat_id=CHAT)
        await run.api.push_callback(CHAT, offer.result["message_id"], offer.keyboard[0][0]["callback_data"])
        await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        await run.api.push_text(CHAT, "/urgence")
        urgent = await run.api.wait_for("sendMessage", chat_id=CHAT, count=3)
        assert urgent.shown == shown(RO.emergency)


# --------------------------------------------------------------------------- own texts
@async_test
async def test_an_english_app_user_reads_the_front_in_english(tmp_path):
    async with running_front(tmp_path) as run:
        run.api.user_languages[CHAT] = "en"
        await run.api.push_text(CHAT, "/start")
        welcome = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert welcome.shown == shown(EN.welcome) and "/langue" in welcome.text
        await run.api.push_text(CHAT, "/urgence")
        urgent = await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        assert urgent.shown == shown(EN.emergency)
        # Danger first (the front's own numbers, before Rasa) in English too.
        await run.api.push_text(CHAT, "je suis en danger")
        numbers = await run.api.wait_for("sendMessage", chat_id=CHAT, count=3)
        assert numbers.shown == shown(EN.emergency)
        await run.api.wait_for("sendMessage", chat_id=CHAT, count=4, where=None)
        # Rasa down: the apology with the numbers, in English.
        await run.rasa.stop()
        await run.api.push_text(CHAT, "question")
        apology = await run.api.wait_for("sendMessage", chat_id=CHAT, count=5)
        assert apology.shown == shown(EN.apology_with_emergency)
        await run.api.push_message(CHAT, voice={"file_id": "v", "file_unique_id": "v", "duration": 2})
        voice = await run.api.wait_for("sendMessage", chat_id=CHAT, count=6)
        assert voice.shown == shown(EN.unsupported_reply("voice"))


@async_test
async def test_an_arabic_app_user_reads_arabic_and_others_read_french(tmp_path):
    async with running_front(tmp_path) as run:
        run.api.user_languages[CHAT] = "ar"
        run.api.user_languages[CHAT + 1] = "pt-br"  # not one of ours
        run.api.user_languages[CHAT + 2] = None
        for chat in (CHAT, CHAT + 1, CHAT + 2):
            await run.api.push_text(chat, "/urgence")
        assert (await run.api.wait_for("sendMessage", chat_id=CHAT)).shown == shown(AR.emergency)
        assert (await run.api.wait_for("sendMessage", chat_id=CHAT + 1)).shown == shown(FR.emergency)
        assert (await run.api.wait_for("sendMessage", chat_id=CHAT + 2)).shown == shown(FR.emergency)


@async_test
async def test_the_too_long_note_writes_the_number_the_language_s_way(tmp_path):
    async with running_front(tmp_path) as run:
        run.api.user_languages[CHAT] = "en"
        run.api.user_languages[CHAT + 1] = "fr"
        for chat in (CHAT, CHAT + 1):
            await run.api.push_text(chat, "mot " * 600)
        note_en = await run.api.wait_for("sendMessage", chat_id=CHAT)
        note_fr = await run.api.wait_for("sendMessage", chat_id=CHAT + 1)
        assert "2,000" in note_en.shown and note_en.shown == shown(EN.too_long(2000))
        assert "2\u202f000" in note_fr.shown
        answer = await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        assert answer.shown == ANSWER


def test_number_formats_per_language():
    assert "2\u202f000" in FR.too_long(2000)
    assert "2,000" in EN.too_long(2000)
    assert "2.000" in RO.too_long(2000)
    assert "2\u202f000" not in EN.too_long(2000)


# --------------------------------------------------------------------------- menus
@async_test
async def test_set_my_commands_in_each_language_french_by_default(tmp_path):
    async with running_front(tmp_path) as run:
        menus = run.api.commands_by_language
        assert set(menus) == {"", "en", "ro", "bg", "ar"}
        for code, key in (("fr", ""), ("en", "en"), ("ro", "ro"), ("bg", "bg"), ("ar", "ar")):
            described = {c["command"]: c["description"] for c in menus[key]}
            assert described == load_texts(code).commands, code
            assert "langue" in described
        assert {c["command"]: c["description"] for c in menus["en"]}["langue"] == "Choose the language"
        assert {c["command"]: c["description"] for c in menus[""]}["langue"] == "Choisir la langue"


@async_test
async def test_forget_is_english_for_an_english_chat_even_when_rasa_erases(tmp_path):
    async with running_front(tmp_path) as run:
        run.api.user_languages[CHAT] = "en"
        await run.api.push_text(CHAT, "/oubli")
        done = await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        assert [c.shown for c in run.api.sent("sendMessage", CHAT)] == [ERASED, shown(EN.forget_done)]
        assert done.shown == shown(EN.forget_done)
        assert run.rasa.received[0].body["metadata"] == {"language_hint": "en"}
