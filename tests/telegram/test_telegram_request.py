"""Bot API retries: 429 after retry_after, 5xx with backoff, then give up."""

import logging
import time

import pytest
from fake_bot_api import FakeBotAPI
from telegram import Bot
from telegram.error import NetworkError, RetryAfter
from tg_harness import TOKEN, async_test, free_port

from telegram_front.request import RetryingRequest


async def make_bot(base_url, **kw):
    request = RetryingRequest(
        max_retries=kw.pop("max_retries", 3), base_delay=0.01, max_delay=kw.pop("max_delay", 5.0)
    )
    bot = Bot(TOKEN, base_url=base_url, request=request, get_updates_request=RetryingRequest())
    await bot.initialize()
    return bot


@async_test
async def test_429_is_retried_after_telegrams_delay():
    async with FakeBotAPI(TOKEN) as api:
        bot = await make_bot(api.base_url)
        api.fail("sendMessage", 429, times=1, retry_after=1)
        started = time.monotonic()
        message = await bot.send_message(1, "bonjour")
        assert time.monotonic() - started >= 0.95  # waited retry_after
        assert message.text == "bonjour"
        assert [c.status for c in api.calls if c.method == "sendMessage"] == [429, 200]
        await bot.shutdown()


@async_test
async def test_5xx_is_retried_with_backoff():
    async with FakeBotAPI(TOKEN) as api:
        bot = await make_bot(api.base_url)
        api.fail("sendMessage", 502, times=2)
        api.fail("answerCallbackQuery", 500, times=1)
        await bot.send_message(1, "bonjour")
        await bot.answer_callback_query("7")
        assert [c.status for c in api.calls if c.method == "sendMessage"] == [502, 502, 200]
        assert [c.status for c in api.calls if c.method == "answerCallbackQuery"] == [500, 200]
        await bot.shutdown()


@async_test
async def test_gives_up_after_max_retries():
    async with FakeBotAPI(TOKEN) as api:
        bot = await make_bot(api.base_url, max_retries=2)
        api.fail("sendMessage", 503, times=10)
        with pytest.raises(NetworkError):
            await bot.send_message(1, "bonjour")
        assert len([c for c in api.calls if c.method == "sendMessage"]) == 3  # 1 + 2 retries
        await bot.shutdown()


@async_test
async def test_a_retry_after_longer_than_the_cap_is_not_waited():
    async with FakeBotAPI(TOKEN) as api:
        bot = await make_bot(api.base_url, max_delay=2.0)
        api.fail("sendMessage", 429, times=1, retry_after=60)
        started = time.monotonic()
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "bonjour")
        assert time.monotonic() - started < 2
        await bot.shutdown()


@async_test
async def test_client_errors_are_not_retried():
    async with FakeBotAPI(TOKEN) as api:
        bot = await make_bot(api.base_url)
        with pytest.raises(Exception):
            await bot.delete_message(1, 999)  # 400: not found
        assert len([c for c in api.calls if c.method == "deleteMessage"]) == 1
        await bot.shutdown()


@async_test
async def test_connection_refused_is_retried_then_raised(caplog):
    request = RetryingRequest(max_retries=2, base_delay=0.01)
    await request.initialize()
    url = f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe"
    with caplog.at_level(logging.WARNING, logger="telegram_front.request"):
        with pytest.raises(NetworkError):
            await request.do_request(url, "POST")
    await request.shutdown()
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2 and "getMe" in retries[0]
    assert TOKEN not in caplog.text  # the URL holds the token: only the method is logged
