"""Danger first, and no chat can hold the others up (issue #15 item 5, security finding S5).

The real front, the fake Bot API and a slow fake Rasa. The times are measured from the
moment the fake Bot API handed out the update to the moment the front's sendMessage
reached it.
"""

import asyncio
import time

from fake_bot_api import parse_html
from fake_rasa_rest import ANSWER
from tg_harness import async_test, running_front

from telegram_front.danger import DangerCheck
from telegram_front.texts import load_texts

TEXTS = load_texts()
FLOODER = 424242100
OTHER = 424242200
DANGER = "au secours il me frappe"


def emergency(call):
    return call.shown == parse_html(TEXTS.emergency)


async def flood(run, chat_id, count):
    for n in range(count):
        await run.api.push_text(chat_id, f"message {n}")


async def time_to_first_reply(run, chat_id, text, where=None):
    update = await run.api.push_text(chat_id, text)
    reply = await run.api.wait_for("sendMessage", chat_id=chat_id, where=where, timeout=30)
    return reply, reply.at - run.api.update_arrivals[update["update_id"]]


@async_test
async def test_another_chats_urgence_is_answered_within_a_second_while_one_chat_floods_300(tmp_path):
    async with running_front(tmp_path, rasa_timeout=10.0) as run:
        run.rasa.delay = 0.5  # a slow Rasa: each flood message would hold its place 0.5 s
        await flood(run, FLOODER, 300)
        await run.api.wait_until(lambda: run.rasa.received, timeout=10)  # the flood is being served
        reply, seconds = await time_to_first_reply(run, OTHER, "/urgence")
        print(f"\n/urgence of another chat during a 300-message flood: {seconds * 1000:.0f} ms")
        assert emergency(reply)
        assert seconds < 1.0
        # A danger-looking text of a third chat: the numbers as fast.
        reply, seconds = await time_to_first_reply(run, OTHER + 1, DANGER)
        print(f"danger-looking text of another chat during the flood: {seconds * 1000:.0f} ms")
        assert emergency(reply) and seconds < 1.0
        # An ordinary question of another chat does not wait behind the flood either.
        reply, seconds = await time_to_first_reply(run, OTHER + 2, "une question")
        print(f"ordinary question of another chat during the flood: {seconds * 1000:.0f} ms")
        assert reply.shown == ANSWER and seconds < 0.5 + 1.0


@async_test
async def test_a_flooding_chat_keeps_its_order_is_capped_and_told_once(tmp_path):
    async with running_front(tmp_path, rasa_timeout=10.0) as run:
        run.rasa.delay = 0.3
        await flood(run, FLOODER, 30)
        cap = run.config.max_pending_per_chat
        await asyncio.sleep(0.3 * cap + 0.5)
        await run.api.quiet(0.6)
        # The first `cap` messages are answered in order (one running, the others waiting);
        # the rest are refused.
        assert run.rasa.messages() == [f"message {n}" for n in range(cap)]
        texts = run.api.texts(FLOODER)
        notice = parse_html(TEXTS.one_at_a_time)
        assert texts.count(notice) == 1
        assert [t for t in texts if t != notice] == [ANSWER] * cap
        assert "un message à la fois" in notice
        # Once the backlog is gone, the chat is served again.
        await run.api.push_text(FLOODER, "message suivant")
        await run.api.wait_for("sendMessage", chat_id=FLOODER, count=len(texts) + 1)
        assert run.rasa.messages()[-1] == "message suivant"


@async_test
async def test_a_danger_looking_message_gets_the_numbers_at_once_then_rasas_answer(tmp_path):
    async with running_front(tmp_path, rasa_timeout=5.0) as run:
        run.rasa.delay = 2.0
        await run.api.push_text(FLOODER, "une question lente")  # an earlier message waits for Rasa
        await asyncio.sleep(0.1)
        reply, seconds = await time_to_first_reply(run, FLOODER, DANGER)
        print(f"\ndanger-looking message, Rasa slow: numbers after {seconds * 1000:.0f} ms")
        assert emergency(reply) and seconds < 1.0
        # Then the answers, in order: the earlier question's, then the danger message's.
        await run.api.wait_for("sendMessage", chat_id=FLOODER, count=3, timeout=10)
        assert run.api.texts(FLOODER) == [parse_html(TEXTS.emergency), ANSWER, ANSWER]
        assert run.rasa.messages() == ["une question lente", DANGER]


@async_test
async def test_a_danger_looking_message_when_rasa_times_out_numbers_first_then_the_apology(tmp_path):
    async with running_front(tmp_path, rasa_timeout=1.0) as run:
        run.rasa.delay = 5.0
        started = time.perf_counter()
        reply, seconds = await time_to_first_reply(run, OTHER, DANGER)
        assert emergency(reply) and seconds < 0.5  # not after RASA_TIMEOUT_SECONDS
        apology = await run.api.wait_for("sendMessage", chat_id=OTHER, count=2, timeout=5)
        assert apology.at - started >= 1.0
        # The numbers are not sent twice: the apology alone follows them.
        assert run.api.texts(OTHER) == [parse_html(TEXTS.emergency), parse_html(TEXTS.apology)]


@async_test
async def test_a_danger_text_behind_a_slash_gets_the_numbers_first_too(tmp_path):
    # "/ ..." is not a command: its words go to Rasa, so they are judged like any text, and
    # the apology must not drop the numbers on the belief that they were sent.
    async with running_front(tmp_path, rasa_timeout=1.0) as run:
        run.rasa.delay = 5.0
        reply, seconds = await time_to_first_reply(run, OTHER, "/ " + DANGER)
        assert emergency(reply) and seconds < 0.5
        await run.api.wait_for("sendMessage", chat_id=OTHER, count=2, timeout=5)
        assert run.api.texts(OTHER) == [parse_html(TEXTS.emergency), parse_html(TEXTS.apology)]
        assert run.rasa.messages() == [DANGER]


def test_without_a_trained_detector_the_keyword_net_decides():
    looks_like = DangerCheck(None).looks_like
    assert looks_like(DANGER) and looks_like("AU SECOURS")
    assert looks_like("je suis en danger")
    assert not looks_like("comment porter plainte ?")
    assert not looks_like("est-ce dangereux de porter plainte ?")
    assert not looks_like("/urgence")  # commands are the front's business
