"""The real front, driven through the fake Bot API, against a fake Rasa REST channel."""

import asyncio
import json
import logging
import time

import aiohttp
from fake_bot_api import BOT_USER, parse_html
from fake_rasa_rest import ANSWER, DETAILS, ERASED, LONG_PAYLOAD
from tg_harness import SECRET, TOKEN, async_test, running_front

from telegram_front.texts import load_texts

TEXTS = load_texts()
CHAT = 424242001


def visible(html):
    return parse_html(html)


# --------------------------------------------------------------------------- start-up
@async_test
async def test_start_registers_french_commands_and_polls(tmp_path):
    async with running_front(tmp_path) as run:
        [call] = [c for c in run.api.sent("setMyCommands") if not c.params.get("language_code")]
        commands = {c["command"]: c["description"] for c in call.params["commands"]}
        assert commands == TEXTS.commands
        assert set(commands) == {"start", "aide", "menu", "urgence", "oubli", "langue"}
        assert run.api.sent("deleteWebhook")  # polling mode clears any webhook


# --------------------------------------------------------------------------- questions
@async_test
async def test_question_gets_answer_with_inline_keyboard_then_button_gives_details(tmp_path):
    async with running_front(tmp_path) as run:
        await run.api.push_text(CHAT, "comment avoir des papiers")
        answer = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert answer.shown == ANSWER
        assert answer.params["parse_mode"] == "HTML"
        titles = [row[0]["text"] for row in answer.keyboard]
        assert titles == ["En savoir plus", "Parler à quelqu'un"]
        keys = [row[0]["callback_data"] for row in answer.keyboard]
        assert all(len(k.encode()) <= 64 for k in keys)
        assert LONG_PAYLOAD not in json.dumps(answer.params)  # the key, not the payload
        assert "titre-sejour" not in answer.text and "confidence" not in answer.text  # no custom

        await run.api.push_callback(CHAT, answer.result["message_id"], keys[0])
        details = await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        assert details.shown == DETAILS  # Rasa's paragraphs joined in one message
        assert run.rasa.messages() == ["comment avoir des papiers", LONG_PAYLOAD]
        [answered] = run.api.sent("answerCallbackQuery")
        assert not answered.params.get("text")
        [edit] = run.api.sent("editMessageReplyMarkup")
        assert edit.params["message_id"] == answer.result["message_id"]
        assert run.api.messages[(CHAT, answer.result["message_id"])].reply_markup is None


@async_test
async def test_a_button_of_before_a_restart_says_it_expired(tmp_path):
    async with running_front(tmp_path) as run:
        await run.api.push_text(CHAT, "question")
        answer = await run.api.wait_for("sendMessage", chat_id=CHAT)
        await run.api.push_callback(CHAT, answer.result["message_id"], "unknownKey12")
        expired = await run.api.wait_for("answerCallbackQuery")
        assert expired.params["text"] == TEXTS.button_expired
        await run.api.quiet()
        assert run.rasa.messages() == ["question"]


@async_test
async def test_typed_payloads_lose_their_slash(tmp_path):
    async with running_front(tmp_path) as run:
        typed = [
            '/en_savoir_plus{"topic":"asile"}',
            "//menu",
            "/start@AutreBot",
            '/ / /en_savoir_plus{"topic":"<b>x</b>"}',
            "/\u200b/urgence@0.01",
        ]
        for count, text in enumerate(typed, 1):
            # One at a time: more than 3 waiting in a chat are dropped (the scheduler's cap).
            await run.api.push_text(CHAT, text)
            await run.api.wait_for("sendMessage", chat_id=CHAT, count=count)
        assert run.rasa.messages() == [
            'en_savoir_plus{"topic":"asile"}',
            "menu",
            "start@AutreBot",
            'en_savoir_plus{"topic":"<b>x</b>"}',
            "urgence@0.01",
        ]


@async_test
async def test_commands(tmp_path):
    async with running_front(tmp_path) as run:
        await run.api.push_text(CHAT, "/start")
        welcome = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert welcome.shown == visible(TEXTS.welcome)
        assert "/oubli" in welcome.text and "/urgence" in welcome.text
        await run.api.push_text(CHAT, "/aide")
        help_ = await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        assert help_.shown == visible(TEXTS.help)
        await run.api.push_text(CHAT, f"/menu@{BOT_USER['username']}")
        menu = await run.api.wait_for("sendMessage", chat_id=CHAT, count=3)
        assert [row[0]["text"] for row in menu.keyboard] == ["Titre de séjour", "Porter plainte"]
        assert run.rasa.messages() == ["/menu"]  # /start and /aide never reach Rasa


@async_test
async def test_urgence_answers_without_rasa(tmp_path):
    async with running_front(tmp_path) as run:
        await run.rasa.stop()
        await run.api.push_text(CHAT, "/urgence")
        reply = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert reply.shown == visible(TEXTS.emergency)
        for number in ("17", "112", "114", "115", "119", "3114"):
            assert number in reply.text


@async_test
async def test_urgence_does_not_wait_for_a_slow_answer_of_the_same_chat(tmp_path):
    async with running_front(tmp_path, rasa_timeout=5.0) as run:
        run.rasa.delay = 1.5
        await run.api.push_text(CHAT, "une question lente")
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        await run.api.push_text(CHAT, "/urgence")
        first = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert first.shown == visible(TEXTS.emergency)
        assert first.at - started < 1.0
        second = await run.api.wait_for("sendMessage", chat_id=CHAT, count=2, timeout=5)
        assert second.shown == ANSWER


# --------------------------------------------------------------------------- /oubli
@async_test
async def test_oubli_erases_in_rasa_and_deletes_recent_messages(tmp_path):
    async with running_front(tmp_path) as run:
        await run.api.push_text(CHAT, "première question")
        answer = await run.api.wait_for("sendMessage", chat_id=CHAT)
        await run.api.push_message(CHAT, voice={"file_id": "v", "file_unique_id": "v", "duration": 3})
        await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        await run.api.push_text(CHAT, "/urgence")
        await run.api.wait_for("sendMessage", chat_id=CHAT, count=3)
        await run.api.push_text(CHAT, "/oubli")
        done = await run.api.wait_for(
            "sendMessage", chat_id=CHAT, where=lambda c: c.shown == visible(TEXTS.forget_done)
        )
        await run.api.quiet()
        assert run.rasa.messages()[-1] == "/effacer_conversation"
        before = [
            (chat, mid)
            for (chat, mid), m in run.api.messages.items()
            if chat == CHAT and mid < done.result["message_id"]
        ]
        erased = [m for m in run.api.messages.values() if m.chat_id == CHAT and m.deleted]
        # every message before the confirmation, the user's and the bot's, is gone
        assert len(before) == 8  # 4 user messages + 4 bot replies (incl. Rasa's "erased")
        assert sorted((m.chat_id, m.message_id) for m in erased) == sorted(before[:-1])
        texts_after = [c.shown for c in run.api.sent("sendMessage", CHAT) if c.at >= done.at - 5]
        assert ERASED in texts_after
        # the old buttons are forgotten too
        key = answer.keyboard[0][0]["callback_data"]
        await run.api.push_callback(CHAT, answer.result["message_id"], key)
        expired = await run.api.wait_for("answerCallbackQuery")
        assert expired.params["text"] == TEXTS.button_expired


@async_test
async def test_oubli_with_rasa_down_says_so_and_still_deletes(tmp_path):
    async with running_front(tmp_path) as run:
        await run.api.push_text(CHAT, "/start")
        await run.api.wait_for("sendMessage", chat_id=CHAT)
        await run.rasa.stop()
        await run.api.push_text(CHAT, "/oubli")
        await run.api.wait_for(
            "sendMessage", chat_id=CHAT, where=lambda c: c.shown == visible(TEXTS.forget_done)
        )
        texts = run.api.texts(CHAT)
        assert visible(TEXTS.forget_failed) in texts
        assert sum(m.deleted for m in run.api.messages.values()) == 3  # /start, welcome, /oubli


# --------------------------------------------------------------------------- other updates
NON_TEXT = {
    "voice": {"voice": {"file_id": "a", "file_unique_id": "a", "duration": 4}},
    "audio": {"audio": {"file_id": "a", "file_unique_id": "a", "duration": 4}},
    "video": {"video": {"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1, "duration": 1}},
    "video_note": {"video_note": {"file_id": "a", "file_unique_id": "a", "length": 1, "duration": 1}},
    "photo": {
        "photo": [{"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1}],
        "caption": "mon passeport",
    },
    "document": {"document": {"file_id": "a", "file_unique_id": "a", "file_name": "x.pdf"}},
    "sticker": {
        "sticker": {
            "file_id": "a",
            "file_unique_id": "a",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
    },
    "animation": {
        "animation": {"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1, "duration": 1},
        "document": {"file_id": "a", "file_unique_id": "a"},
    },
    "location": {"location": {"latitude": 48.85, "longitude": 2.35}},
    "venue": {
        "venue": {"location": {"latitude": 48.85, "longitude": 2.35}, "title": "t", "address": "a"},
        "location": {"latitude": 48.85, "longitude": 2.35},
    },
    "contact": {"contact": {"phone_number": "+33600000000", "first_name": "X"}},
    "poll": {
        "poll": {
            "id": "1",
            "question": "q",
            "options": [{"text": "a", "voter_count": 0, "persistent_id": "o1"}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "persistent_id": "p1",
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
    },
    "dice": {"dice": {"emoji": "🎲", "value": 3}},
    "other": {"pinned_message": {"message_id": 1, "date": 0, "chat": {"id": CHAT, "type": "private"}}},
}


@async_test
async def test_every_non_text_message_gets_its_french_reply_and_nothing_reaches_rasa(tmp_path):
    async with running_front(tmp_path) as run:
        for i, (kind, content) in enumerate(NON_TEXT.items()):
            chat = CHAT + i
            await run.api.push_message(chat, **content)
            reply = await run.api.wait_for("sendMessage", chat_id=chat)
            assert reply.shown == visible(TEXTS.unsupported[kind]), kind
        await run.api.quiet()
        assert run.rasa.received == []
        assert "+33600000000" not in json.dumps([c.params for c in run.api.calls])


@async_test
async def test_an_update_the_library_cannot_read_gets_a_reply_and_blocks_nothing(tmp_path):
    old_poll = {
        "id": "1",
        "question": "q",
        "options": [{"text": "a", "voter_count": 0}],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }  # no Bot API 9.6 fields
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    keep = Keep()
    logging.getLogger().addHandler(keep)
    try:
        async with running_front(tmp_path) as run:
            await run.api.push_message(CHAT, poll=old_poll)
            await run.api.push_text(CHAT, "ensuite une question")
            await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
            first, second = run.api.texts(CHAT)
            assert first == visible(TEXTS.unsupported["other"])
            assert second == ANSWER
    finally:
        logging.getLogger().removeHandler(keep)
    assert not [r for r in records if str(CHAT) in r or "Zorglub" in r]


@async_test
async def test_edited_message_gets_a_reply(tmp_path):
    async with running_front(tmp_path) as run:
        first = await run.api.push_text(CHAT, "bonjour")
        await run.api.wait_for("sendMessage", chat_id=CHAT)
        await run.api.push_edited(CHAT, first["message"]["message_id"], "bonjour !")
        reply = await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        assert reply.shown == visible(TEXTS.edited)
        assert run.rasa.messages() == ["bonjour"]


@async_test
async def test_groups_are_refused_and_never_reach_rasa(tmp_path):
    group = {"id": -100777, "type": "supergroup", "title": "Un groupe"}
    async with running_front(tmp_path) as run:
        # plain chatter in a group: silence
        await run.api.push_message(-100777, chat=group, sender_id=5, text="salut tout le monde")
        await run.api.quiet()
        assert run.api.sent("sendMessage") == []
        # the bot is addressed: a command, a mention, a reply to it, being added
        await run.api.push_message(
            -100777,
            chat=group,
            sender_id=5,
            text="/start",
            entities=[{"type": "bot_command", "offset": 0, "length": 6}],
        )
        await run.api.push_message(
            -100777, chat=group, sender_id=5, text=f"@{BOT_USER['username']} j'ai besoin d'aide"
        )
        await run.api.push_message(
            -100777,
            chat=group,
            sender_id=5,
            text="et alors ?",
            reply_to_message={"message_id": 1, "date": 0, "chat": group, "from": BOT_USER, "text": "x"},
        )
        await run.api.push_my_chat_member(
            {"id": -100888, "type": "group", "title": "G"}, "left", "member", by=5
        )
        await run.api.push_message(
            -100777, chat=group, sender_id=5, voice={"file_id": "a", "file_unique_id": "a", "duration": 1}
        )
        await run.api.wait_for("sendMessage", count=4)
        await run.api.quiet()
        refusals = run.api.sent("sendMessage")
        assert [c.chat_id for c in refusals] == [-100777, -100777, -100777, -100888]
        assert all(c.shown == visible(TEXTS.group_refusal) for c in refusals)
        assert run.rasa.received == []


@async_test
async def test_long_reply_is_split_at_paragraph_boundaries(tmp_path):
    paragraphs = [f"Paragraphe {i} <important> & utile. " + "détail " * 120 for i in range(12)]
    long_text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(long_text) > 4096 * 2

    async with running_front(tmp_path) as run:
        run.rasa.responder = lambda sender, message: [
            {"recipient_id": sender, "text": long_text, "buttons": [{"title": "Menu", "payload": "/menu"}]},
            {"recipient_id": sender, "custom": {"topic": "x"}},
        ]
        await run.api.push_text(CHAT, "tout savoir")
        await run.api.wait_for("sendMessage", chat_id=CHAT, where=lambda c: bool(c.keyboard))
        await run.api.quiet()
        parts = [c.shown for c in run.api.sent("sendMessage", CHAT)]
        assert len(parts) == 3
        assert all(len(p) <= 4096 for p in parts)
        assert [p.split("\n\n") for p in parts] and sum((p.split("\n\n") for p in parts), []) == [
            p.strip() for p in paragraphs
        ]
        assert [bool(c.keyboard) for c in run.api.sent("sendMessage", CHAT)] == [False, False, True]


@async_test
async def test_long_user_message_is_cut_before_the_nlu_with_a_note(tmp_path):
    async with running_front(tmp_path) as run:
        text = "mot " * 700  # 2,800 characters
        await run.api.push_text(CHAT, text)
        await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        note, answer = run.api.texts(CHAT)
        assert note == visible(TEXTS.too_long(2000)) and "2\u202f000" in note
        assert visible(answer) == ANSWER
        [sent] = run.rasa.messages()
        assert len(sent) == 2000 and sent == text.strip()[:2000]


@async_test
async def test_images_are_sent_and_unreachable_ones_become_links(tmp_path):
    async with running_front(tmp_path) as run:
        run.rasa.responder = lambda s, m: [
            {"recipient_id": s, "image": "https://example.org/carte.png"},
            {"recipient_id": s, "image": "https://unreachable.example/x.png?a=1&b=<2>"},
        ]
        await run.api.push_text(CHAT, "une image")
        await run.api.wait_for("sendPhoto", chat_id=CHAT)
        link = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert "https://unreachable.example/x.png?a=1&b=<2>" in link.shown


# --------------------------------------------------------------------------- robustness
@async_test
async def test_rasa_down_gets_an_apology_with_emergency_numbers(tmp_path):
    async with running_front(tmp_path) as run:
        await run.rasa.stop()
        await run.api.push_text(CHAT, "une question")
        reply = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert reply.shown == visible(TEXTS.apology_with_emergency)
        assert "17" in reply.text and "112" in reply.text and "114" in reply.text


@async_test
async def test_rasa_too_slow_gets_the_apology_in_time(tmp_path):
    async with running_front(tmp_path, rasa_timeout=0.5) as run:
        run.rasa.delay = 3
        started = time.perf_counter()
        await run.api.push_text(CHAT, "question")
        reply = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert reply.shown == visible(TEXTS.apology_with_emergency)
        assert reply.at - started < 1.5
        await asyncio.sleep(3)
        assert len(run.api.sent("sendMessage", CHAT)) == 1  # the late answer is never sent


@async_test
async def test_rasa_errors_get_the_apology(tmp_path):
    async with running_front(tmp_path) as run:
        run.rasa.status = 500
        await run.api.push_text(CHAT, "question")
        assert (await run.api.wait_for("sendMessage", chat_id=CHAT)).shown == visible(
            TEXTS.apology_with_emergency
        )
        run.rasa.status = 200
        run.rasa.responder = lambda s, m: {"not": "a list"}
        await run.api.push_text(CHAT, "question")
        assert (await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)).shown == visible(
            TEXTS.apology_with_emergency
        )


@async_test
async def test_typing_is_shown_while_waiting_for_rasa(tmp_path):
    async with running_front(tmp_path, rasa_timeout=5.0, typing_interval=0.2) as run:
        run.rasa.delay = 0.9
        await run.api.push_text(CHAT, "question")
        answer = await run.api.wait_for("sendMessage", chat_id=CHAT)
        actions = run.api.sent("sendChatAction", CHAT)
        assert len(actions) >= 3 and all(a.params["action"] == "typing" for a in actions)
        assert all(a.at < answer.at for a in actions)
        await run.api.quiet(0.5)
        assert len(run.api.sent("sendChatAction", CHAT)) == len(actions)  # stopped


@async_test
async def test_telegram_429_and_5xx_are_retried(tmp_path):
    async with running_front(tmp_path) as run:
        run.api.fail("sendMessage", 429, times=1, retry_after=1)
        run.api.fail("sendMessage", 502, times=2)
        await run.api.push_text(CHAT, "question")
        answer = await run.api.wait_for("sendMessage", chat_id=CHAT, timeout=15)
        assert answer.shown == ANSWER
        statuses = [c.status for c in run.api.calls if c.method == "sendMessage"]
        assert statuses == [429, 502, 502, 200]


@async_test
async def test_many_users_concurrently_each_in_order(tmp_path):
    users, per_user = 20, 5
    concurrency = {"now": 0, "max": 0}

    async def echo(sender, message):
        concurrency["now"] += 1
        concurrency["max"] = max(concurrency["max"], concurrency["now"])
        # later messages answer faster: without per-chat order they would overtake
        await asyncio.sleep(0.05 * (per_user - int(message.split()[-1])))
        concurrency["now"] -= 1
        return [{"recipient_id": sender, "text": f"réponse à {message}"}]

    # a backlog of per_user messages per chat is allowed here (the cap: test_telegram_priority.py)
    async with running_front(tmp_path, rasa_timeout=10.0, max_pending_per_chat=per_user) as run:
        run.rasa.responder = echo
        started = time.perf_counter()
        for n in range(per_user):
            for u in range(users):
                await run.api.push_text(CHAT + u, f"message {n}")
        await run.api.wait_for("sendMessage", count=users * per_user, timeout=30)
        elapsed = time.perf_counter() - started
        for u in range(users):
            assert run.api.texts(CHAT + u) == [f"réponse à message {n}" for n in range(per_user)]
            received = run.rasa.messages(run.sender(CHAT + u))
            assert received == [f"message {n}" for n in range(per_user)]
        assert concurrency["max"] >= users // 2  # chats really ran together
        # one chat after the other would take 15 s; together about 1 s on an idle machine
        sequential = users * sum(0.05 * (per_user - n) for n in range(per_user))
        assert elapsed < sequential / 2


@async_test
async def test_an_unexpected_failure_gets_the_apology_and_the_next_message_works(tmp_path):
    async with running_front(tmp_path) as run:
        handlers = run.front.handlers
        original = handlers._on_text
        calls = {"n": 0}

        async def flaky(bot, chat_id, text, *rest):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("bug")
            await original(bot, chat_id, text, *rest)

        handlers._on_text = flaky
        await run.api.push_text(CHAT, "premier")
        await run.api.push_text(CHAT, "second")
        await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        assert run.api.texts(CHAT) == [visible(TEXTS.apology_with_emergency), ANSWER]


@async_test
async def test_a_user_who_blocked_the_bot_crashes_nothing(tmp_path):
    async with running_front(tmp_path) as run:
        run.api.fail("sendMessage", 403)
        await run.api.push_text(CHAT, "premier")
        await run.api.wait_until(lambda: [c for c in run.api.calls if c.status == 403])
        await run.api.push_text(CHAT, "second")
        answer = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert answer.shown == ANSWER
        assert run.rasa.messages() == ["premier", "second"]


# --------------------------------------------------------------------------- privacy
@async_test
async def test_rasa_sees_only_the_pseudonymous_id(tmp_path):
    async with running_front(tmp_path) as run:
        await run.api.push_text(CHAT, "bonjour")
        await run.api.push_text(CHAT + 1, "bonjour")
        await run.api.wait_for("sendMessage", count=2)
        senders = {r.sender for r in run.rasa.received}
        assert senders == {run.sender(CHAT), run.sender(CHAT + 1)}
        import hashlib
        import hmac

        assert run.sender(CHAT) == hmac.new(SECRET.encode(), str(CHAT).encode(), hashlib.sha256).hexdigest()
        for sender in senders:
            assert str(CHAT) not in sender and "zorglub" not in sender and "Zorglub" not in sender


@async_test
async def test_generated_secret_is_stored_and_ids_survive_a_restart(tmp_path):
    secret_file = tmp_path / "secret"
    seen = []
    for _ in range(2):
        async with running_front(tmp_path, sender_id_secret=None, sender_id_secret_file=secret_file) as run:
            await run.api.push_text(CHAT, "bonjour")
            await run.api.wait_for("sendMessage", chat_id=CHAT)
            seen.append(run.rasa.received[0].sender)
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert seen[0] == seen[1] and len(seen[0]) == 64 and str(CHAT) not in seen[0]


@async_test
async def test_logs_hold_no_text_ids_names_or_token(tmp_path):
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        async with running_front(tmp_path) as run:
            await run.api.push_text(CHAT, "un secret tres personnel")
            answer = await run.api.wait_for("sendMessage", chat_id=CHAT)
            await run.api.push_callback(
                CHAT, answer.result["message_id"], answer.keyboard[0][0]["callback_data"]
            )
            await run.api.push_message(CHAT, voice={"file_id": "a", "file_unique_id": "a", "duration": 1})
            await run.api.push_text(CHAT, "/oubli")
            await run.api.wait_for(
                "sendMessage", chat_id=CHAT, where=lambda c: c.shown == visible(TEXTS.forget_done)
            )
            run.api.fail("sendMessage", 500, times=10)  # errors must not leak either
            await run.api.push_text(CHAT, "encore un secret")
            await asyncio.sleep(1)
            await run.rasa.stop()
            await run.api.push_text(CHAT, "dernier secret")
            await run.api.quiet(0.5)
            sender = run.sender(CHAT)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = "\n".join(records)
    assert "update kind=text" in text and "update kind=voice" in text  # the logs do say something
    for forbidden in (
        str(CHAT),
        "secret",
        "personnel",
        "Zorglub",
        "zorglub",
        "Nomdefamille",
        TOKEN,
        TOKEN.split(":")[1],
        sender,
        LONG_PAYLOAD,
    ):
        assert forbidden not in text, forbidden


# --------------------------------------------------------------------------- webhook
@async_test
async def test_webhook_mode_checks_the_secret_token(tmp_path):
    async with running_front(tmp_path, webhook=True, webhook_secret="the-right_secret") as run:
        [hook] = run.api.sent("setWebhook")
        assert hook.params["url"] == run.config.webhook_url
        assert hook.params["secret_token"] == "the-right_secret"
        assert "callback_query" in hook.params["allowed_updates"]
        # Telegram delivers with the header: answered
        await run.api.push_text(CHAT, "bonjour")
        answer = await run.api.wait_for("sendMessage", chat_id=CHAT)
        assert answer.shown == ANSWER
        assert run.api.webhook_statuses == [200]
        # anyone else is refused and nothing is processed
        update = {
            "update_id": 1,
            "message": {
                "message_id": 99,
                "date": 0,
                "text": "intrus",
                "chat": {"id": CHAT + 9, "type": "private"},
                "from": {"id": CHAT + 9, "is_bot": False, "first_name": "X"},
            },
        }
        async with aiohttp.ClientSession() as session:
            for headers in (
                {},
                {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                {"X-Telegram-Bot-Api-Secret-Token": "the-right_secret" + "x"},
            ):
                async with session.post(run.config.webhook_url, json=update, headers=headers) as reply:
                    assert reply.status == 403
            async with session.post(
                run.config.webhook_url,
                data="not json",
                headers={"X-Telegram-Bot-Api-Secret-Token": "the-right_secret"},
            ) as reply:
                assert reply.status == 400
        await run.api.quiet(0.5)
        assert run.rasa.messages() == ["bonjour"]
        assert run.api.sent("sendMessage", CHAT + 9) == []
        assert not run.api.sent("getUpdates")


@async_test
async def test_webhook_refuses_compressed_bodies_before_reading_them(tmp_path):
    """Review S12: a gzip "bomb" is refused, even with the right secret, never inflated."""
    import gzip

    async with running_front(tmp_path, webhook=True, webhook_secret="the-right_secret") as run:
        update = {
            "update_id": 7,
            "message": {
                "message_id": 1,
                "date": 0,
                "text": "compressé",
                "chat": {"id": CHAT, "type": "private"},
                "from": {"id": CHAT, "is_bot": False, "first_name": "X"},
            },
        }
        bomb = gzip.compress(json.dumps(update).encode() + b" " * 20_000_000)
        headers = {"X-Telegram-Bot-Api-Secret-Token": "the-right_secret", "Content-Type": "application/json"}
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            for encoding in ("gzip", "deflate", "br", "GZIP"):
                async with session.post(
                    run.config.webhook_url, data=bomb, headers={**headers, "Content-Encoding": encoding}
                ) as reply:
                    assert reply.status == 415, encoding
        await run.api.quiet(0.5)
        assert run.rasa.messages() == []


@async_test
async def test_webhook_mode_runs_commands_and_buttons(tmp_path):
    async with running_front(tmp_path, webhook=True) as run:
        await run.api.push_text(CHAT, "question")
        answer = await run.api.wait_for("sendMessage", chat_id=CHAT)
        await run.api.push_callback(CHAT, answer.result["message_id"], answer.keyboard[0][0]["callback_data"])
        await run.api.wait_for("sendMessage", chat_id=CHAT, count=2)
        await run.api.push_text(CHAT, "/urgence")
        urgent = await run.api.wait_for("sendMessage", chat_id=CHAT, count=3)
        assert urgent.shown == visible(TEXTS.emergency)
        assert run.rasa.messages() == ["question", LONG_PAYLOAD]
