"""What the front does with each update.

One handler receives every update and routes it itself, so that no kind of update can
fall through unanswered. Private chats only: in groups the bot refuses politely when it
is addressed and otherwise stays silent; nothing from a group reaches Rasa.

When each update runs is the scheduler's job (scheduler.py): `triage` tells it, without
awaiting, which chat an update belongs to and whether it is urgent; `answer_urgent`
gives the emergency numbers at once (/urgence, or a text that looks like danger, before
the chat's earlier messages); `refuse` answers an update dropped because the chat already
has too many waiting; `on_update` handles the others, one at a time per chat.

Languages: every message relayed to Rasa carries the user's app language as
`metadata.language_hint` when the assistant has it (nothing else about the user). The
front's own texts are in the chat's language: the one chosen with a language button
(/langue, or Rasa's), else the app language when we have it, else French; except the
numbers sent at once for a danger text, in the text's language when the model is sure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import traceback
from typing import Any, Dict, List, Optional

from telegram import (
    Bot,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatMemberStatus, ChatType, ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from telegram_front.config import Config
from telegram_front.danger import DangerCheck
from telegram_front.language import MessageLanguage
from telegram_front.pseudonym import Pseudonymizer
from telegram_front.rasa_client import RasaClient, RasaUnavailable
from telegram_front.render import Button, TelegramMessage, escape, render_elements, split_html_paragraphs
from telegram_front.scheduler import Triage
from telegram_front.state import ButtonStore, ChatLanguages, MessageLog
from telegram_front.texts import COMMANDS, TextBook, Texts, app_language

logger = logging.getLogger(__name__)

MENU_PAYLOAD = "/menu"
ERASE_PAYLOAD = "/effacer_conversation"
LANGUAGE_PAYLOAD = '/choisir_langue{"language":"%s"}'
CHOSEN_LANGUAGE = re.compile(r'^/choisir_langue\{"language":"(?P<code>[a-z]{2,3})"\}$')
# Leading spaces, slashes and invisible characters: typed text never passes as a Rasa
# payload ("/ /x", "/\u200b/x" too: security review S4).
NOT_WORDS = re.compile(r"^[\s/\u200b-\u200f\u2060\ufeff]+")
COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]{1,64})(?:@(?P<bot>[A-Za-z0-9_]{1,64}))?(?=\s|$)")
DELETE_CONCURRENCY = 5


def _words(text: str) -> str:
    """What the front relays to Rasa of a typed text, and judges for danger and language."""
    return NOT_WORDS.sub("", text.strip())


# (attribute of Message, kind) in the order they must be tested: an animation is also a
# document, a venue also a location.
MESSAGE_KINDS = (
    ("voice", "voice"),
    ("audio", "audio"),
    ("video_note", "video_note"),
    ("animation", "animation"),
    ("video", "video"),
    ("photo", "photo"),
    ("sticker", "sticker"),
    ("document", "document"),
    ("venue", "venue"),
    ("location", "location"),
    ("contact", "contact"),
    ("poll", "poll"),
    ("dice", "dice"),
)


def message_kind(message: Message) -> str:
    if message.text is not None:
        return "text"
    for attribute, kind in MESSAGE_KINDS:
        if getattr(message, attribute, None):
            return kind
    return "other"


def _bot_of(update: Update) -> Optional[Bot]:
    try:
        return update.get_bot()
    except RuntimeError:  # an update built without a bot (tests)
        return None


class Handlers:
    def __init__(self, config: Config, texts: TextBook, rasa: RasaClient, pseudonym: Pseudonymizer) -> None:
        self.config = config
        self.texts = texts
        self.rasa = rasa
        self.pseudonym = pseudonym
        self.buttons = ButtonStore()
        self.messages = MessageLog()
        self.languages = ChatLanguages()
        self.danger = DangerCheck.from_model(config.model_path)
        self.language = MessageLanguage.from_model(config.model_path)

    # ----------------------------------------------------------------- languages
    def _hint(self, update: object) -> Optional[str]:
        """The user's app language when the assistant has it, else None."""
        user = update.effective_user if isinstance(update, Update) else None
        return self.texts.supported(app_language(user.language_code if user else None))

    def _texts(self, chat_id: Optional[int], hint: Optional[str], written_in: Optional[str] = None) -> Texts:
        """The front's texts: in the language a message is surely written in (given only for
        the numbers sent at once), else the one chosen in the chat, else the app's, else French."""
        chosen = self.languages.get(chat_id) if chat_id is not None else None
        return self.texts.pick(written_in, chosen, hint)

    # ----------------------------------------------------------------- entry point
    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        started = time.monotonic()
        kind = "unknown"
        holder: Dict[str, str] = {}
        hint = self._hint(update)
        try:
            kind = await self._dispatch(update, context.bot, holder, hint)
        except Forbidden:
            logger.warning("update kind=%s: the user blocked the bot", holder.get("kind", kind))
            return
        except Exception as error:  # never let one update take the front down
            kind = holder.get("kind", kind)
            logger.error(
                "update kind=%s failed: %s\n%s",
                kind,
                type(error).__name__,
                "".join(traceback.format_tb(error.__traceback__)),
            )
            chat_id = holder.get("private_chat")
            if chat_id is not None:
                with contextlib.suppress(Exception):
                    texts = self._texts(int(chat_id), hint)
                    await self._send_html(context.bot, int(chat_id), texts.apology_with_emergency)
            return
        logger.info("update kind=%s handled in %.0f ms", kind, (time.monotonic() - started) * 1000)

    async def _dispatch(self, update: Update, bot: Bot, holder: Dict[str, str], hint: Optional[str]) -> str:
        if update.callback_query is not None:
            return await self._on_callback(update.callback_query, bot, holder, hint)
        if update.my_chat_member is not None:
            return await self._on_membership(update.my_chat_member, bot, hint)
        if update.edited_message is not None:
            message = update.edited_message
            if message.chat.type != ChatType.PRIVATE:
                return "group:edited:ignored"
            holder["private_chat"], holder["kind"] = str(message.chat_id), "edited"
            await self._send_html(bot, message.chat_id, self._texts(message.chat_id, hint).edited)
            return "edited"
        message = update.message
        if message is None:
            return "ignored"  # channel posts, reactions…: not requested, not answered
        if message.chat.type != ChatType.PRIVATE:
            return await self._on_group_message(message, bot, hint)
        chat_id = message.chat_id
        holder["private_chat"] = str(chat_id)
        self.messages.add(chat_id, message.message_id)
        texts = self._texts(chat_id, hint)
        kind = message_kind(message)
        if kind != "text":
            holder["kind"] = kind
            await self._send_html(bot, chat_id, texts.unsupported_reply(kind))
            return kind
        command = self._command(message.text, bot)
        holder["kind"] = f"command:{command}" if command else "text"
        if command == "urgence":  # normally answered by answer_urgent, never queued
            await self._send_html(bot, chat_id, texts.emergency)
        elif command == "start":
            await self._send_html(bot, chat_id, texts.welcome)
        elif command == "aide":
            await self._send_html(bot, chat_id, texts.help)
        elif command == "langue":
            await self._offer_languages(bot, chat_id, texts)
        elif command == "menu":
            await self._relay(bot, chat_id, MENU_PAYLOAD, hint)
        elif command == "oubli":
            await self._forget(bot, chat_id, hint)
        else:
            await self._on_text(bot, chat_id, message.text, hint)
        return f"command:{command}" if command else "text"

    # ----------------------------------------------------------------- scheduling
    def triage(self, update: object) -> Triage:
        """The update's chat and urgency, for the scheduler (cheap, never awaits)."""
        if not isinstance(update, Update):
            return Triage(None)
        if update.callback_query is not None:
            message = update.callback_query.message
            private = message is not None and message.chat.type == ChatType.PRIVATE
            return Triage(message.chat.id if private else None)
        message = update.edited_message or update.message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return Triage(None)  # groups, membership changes…: quick, no Rasa
        text = message.text if update.message is not None else None
        if text is None:
            return Triage(message.chat_id)
        command = self._command(text, _bot_of(update))
        if command == "urgence":
            return Triage(message.chat_id, urgent=True, queued=False)
        # A danger-looking text: the numbers now, then Rasa's answer in the chat's turn.
        # The words judged are those _on_text relays, so both agree on it.
        return Triage(message.chat_id, urgent=command is None and self._looks_like_danger(text))

    async def answer_urgent(self, update: Update, chat_id: int) -> None:
        started = time.monotonic()
        if update.message is not None:
            self.messages.add(chat_id, update.message.message_id)
        # The numbers in the language the person wrote in when that is sure (their phone's
        # language may not be the one they read best), else in the chat's.
        typed = update.message.text if update.message is not None else None
        written_in = None
        if typed and self._command(typed, update.get_bot()) is None:  # /urgence: the chat's
            written_in = self.language.of(_words(typed))
        texts = self._texts(chat_id, self._hint(update), written_in)
        await self._send_html(update.get_bot(), chat_id, texts.emergency)
        logger.info("update kind=urgent: numbers sent in %.0f ms", (time.monotonic() - started) * 1000)

    async def refuse(self, update: Update, chat_id: int, tell: bool) -> None:
        """The chat has too many messages waiting: this one is dropped, the person told once."""
        bot = update.get_bot()
        if update.message is not None:
            self.messages.add(chat_id, update.message.message_id)
        texts = self._texts(chat_id, self._hint(update))
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer(text=texts.one_at_a_time)
        elif tell:
            await self._send_html(bot, chat_id, texts.one_at_a_time)

    # ----------------------------------------------------------------- kinds
    def _command(self, text: str, bot: Optional[Bot]) -> Optional[str]:
        match = COMMAND.match(text.strip())
        if not match:
            return None
        addressed = match.group("bot")
        username = (bot.username if bot is not None else None) or ""
        if addressed and addressed.lower() != username.lower():
            return None
        name = match.group("name").lower()
        return name if name in COMMANDS else None

    def _looks_like_danger(self, text: str) -> bool:
        """Whether triage sent the numbers for this text (not one of our commands)."""
        return self.danger.looks_like(_words(text))

    async def _on_text(self, bot: Bot, chat_id: int, text: str, hint: Optional[str]) -> None:
        # A danger-looking text already had the numbers (answer_urgent).
        numbers_given = self._looks_like_danger(text)
        # Not one of our commands: never let typed text pass as a Rasa payload.
        text = _words(text)
        if not text:
            await self._send_html(bot, chat_id, self._texts(chat_id, hint).help)
            return
        limit = self.config.max_user_chars
        if len(text) > limit:
            text = text[:limit]
            await self._send_html(bot, chat_id, self._texts(chat_id, hint).too_long(limit))
        await self._relay(bot, chat_id, text, hint, numbers_given=numbers_given)

    async def _offer_languages(self, bot: Bot, chat_id: int, texts: Texts) -> None:
        """/langue: one button per language; a tap goes to Rasa like any button."""
        buttons: List[Button] = [
            (name, "payload", LANGUAGE_PAYLOAD % code) for name, code in self.texts.language_buttons()
        ]
        await self._send(bot, chat_id, escape(texts.language_prompt), buttons)

    async def _on_callback(
        self, query: CallbackQuery, bot: Bot, holder: Dict[str, str], hint: Optional[str]
    ) -> str:
        message = query.message
        if message is None or message.chat.type != ChatType.PRIVATE:
            with contextlib.suppress(TelegramError):
                await query.answer()
            return "callback:ignored"
        chat_id = message.chat.id
        holder["private_chat"], holder["kind"] = str(chat_id), "callback"
        payload = self.buttons.payload(chat_id, query.data or "")
        with contextlib.suppress(TelegramError):
            await query.answer(text=None if payload else self._texts(chat_id, hint).button_expired)
        if payload is None:
            return "callback:expired"
        # The keyboard has served: remove it so that old buttons are not pressed twice.
        with contextlib.suppress(TelegramError):
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message.message_id)
        chosen = CHOSEN_LANGUAGE.match(payload)
        if chosen and self.texts.supported(chosen.group("code")):
            # Our buttons (/langue) or Rasa's: the front's own texts follow the choice.
            self.languages.choose(chat_id, chosen.group("code"))
        await self._relay(bot, chat_id, payload, hint)
        return "callback"

    async def _on_group_message(self, message: Message, bot: Bot, hint: Optional[str]) -> str:
        if not self._addressed_to_bot(message, bot):
            return "group:ignored"
        refusal = self.texts.pick(hint).group_refusal
        with contextlib.suppress(TelegramError):
            await bot.send_message(message.chat_id, refusal, parse_mode=ParseMode.HTML)
        return "group:refused"

    def _addressed_to_bot(self, message: Message, bot: Bot) -> bool:
        text = message.text or message.caption or ""
        if text.startswith("/"):
            match = COMMAND.match(text)
            return bool(match) and (
                not match.group("bot") or match.group("bot").lower() == (bot.username or "").lower()
            )
        if bot.username and f"@{bot.username.lower()}" in text.lower():
            return True
        reply = message.reply_to_message
        return bool(reply and reply.from_user and reply.from_user.id == bot.id)

    async def _on_membership(self, change: ChatMemberUpdated, bot: Bot, hint: Optional[str]) -> str:
        status = change.new_chat_member.status
        if change.chat.type == ChatType.PRIVATE:
            if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):  # user blocked the bot
                self.buttons.forget(change.chat.id)
                self.messages.take_deletable(change.chat.id)
                self.languages.forget(change.chat.id)
            return "member:private"
        joined = status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR)
        was_out = change.old_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
        if joined and was_out and change.chat.type != ChatType.CHANNEL:
            with contextlib.suppress(TelegramError):
                await bot.send_message(
                    change.chat.id, self.texts.pick(hint).group_refusal, parse_mode=ParseMode.HTML
                )
            return "member:group:refused"
        return "member:group"

    # ----------------------------------------------------------------- Rasa
    async def _ask_rasa(self, bot: Bot, chat_id: int, text: str, hint: Optional[str]) -> List[Dict[str, Any]]:
        started = time.monotonic()
        async with self._typing(bot, chat_id):
            elements = await self.rasa.send(self.pseudonym(chat_id), text, language_hint=hint)
        logger.info(
            "rasa answered in %.0f ms (%d elements)", (time.monotonic() - started) * 1000, len(elements)
        )
        return elements

    async def _relay(
        self, bot: Bot, chat_id: int, text: str, hint: Optional[str], numbers_given: bool = False
    ) -> None:
        try:
            elements = await self._ask_rasa(bot, chat_id, text, hint)
        except RasaUnavailable as error:
            logger.warning("rasa unavailable (%s): apology sent", error)
            texts = self._texts(chat_id, hint)
            apology = texts.apology if numbers_given else texts.apology_with_emergency
            await self._send_html(bot, chat_id, apology)
            return
        texts = self._texts(chat_id, hint)
        await self._send_rendered(bot, chat_id, render_elements(elements, texts.buttons_prompt), texts)

    async def _forget(self, bot: Bot, chat_id: int, hint: Optional[str]) -> None:
        # This exchange ends in the language it was in, even though the choice is erased.
        texts = self._texts(chat_id, hint)
        try:
            elements: Optional[List[Dict[str, Any]]] = await self._ask_rasa(bot, chat_id, ERASE_PAYLOAD, hint)
        except RasaUnavailable as error:
            logger.warning("rasa unavailable (%s): conversation not erased", error)
            elements = None
        ids = self.messages.take_deletable(chat_id)
        self.buttons.forget(chat_id)
        self.languages.forget(chat_id)
        deleted = await self._delete_messages(bot, chat_id, ids)
        logger.info("forget: %d of %d recent messages deleted", deleted, len(ids))
        if elements is None:
            await self._send_html(bot, chat_id, texts.forget_failed)
        else:
            await self._send_rendered(bot, chat_id, render_elements(elements, texts.buttons_prompt), texts)
        await self._send_html(bot, chat_id, texts.forget_done)

    async def _delete_messages(self, bot: Bot, chat_id: int, ids: List[int]) -> int:
        gate = asyncio.Semaphore(DELETE_CONCURRENCY)

        async def delete(message_id: int) -> bool:
            async with gate:
                try:
                    return bool(await bot.delete_message(chat_id=chat_id, message_id=message_id))
                except TelegramError:
                    return False  # too old, already gone…: nothing more we can do

        results = await asyncio.gather(*(delete(i) for i in ids))
        return sum(results)

    @contextlib.asynccontextmanager
    async def _typing(self, bot: Bot, chat_id: int):
        async def keep_typing() -> None:
            while True:
                with contextlib.suppress(TelegramError):
                    await bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
                await asyncio.sleep(self.config.typing_interval)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ----------------------------------------------------------------- sending
    def _keyboard(self, chat_id: int, buttons: List[Button]) -> Optional[InlineKeyboardMarkup]:
        if not buttons:
            return None
        rows = []
        for title, kind, value in buttons:
            if kind == "url":
                rows.append([InlineKeyboardButton(title, url=value)])
            else:
                rows.append([InlineKeyboardButton(title, callback_data=self.buttons.key_for(chat_id, value))])
        return InlineKeyboardMarkup(rows)

    async def _send(
        self, bot: Bot, chat_id: int, html: str, buttons: Optional[List[Button]] = None
    ) -> Message:
        sent = await bot.send_message(
            chat_id=chat_id,
            text=html,
            parse_mode=ParseMode.HTML,
            reply_markup=self._keyboard(chat_id, buttons or []),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        self.messages.add(chat_id, sent.message_id)
        return sent

    async def _send_html(self, bot: Bot, chat_id: int, html: str) -> None:
        """Sends one of the front's own texts (trusted HTML)."""
        for part in split_html_paragraphs(html):
            await self._send(bot, chat_id, part)

    async def _send_rendered(
        self, bot: Bot, chat_id: int, messages: List[TelegramMessage], texts: Texts
    ) -> None:
        for item in messages:
            try:
                if item.photo is not None:
                    await self._send_photo(bot, chat_id, item.photo, texts)
                else:
                    await self._send(bot, chat_id, item.html or "", item.buttons)
            except Forbidden:
                logger.warning("send: the user blocked the bot")
                return
            except TelegramError as error:
                logger.warning("send failed: %s", type(error).__name__)

    async def _send_photo(self, bot: Bot, chat_id: int, url: str, texts: Texts) -> None:
        try:
            sent = await bot.send_photo(chat_id=chat_id, photo=url)
        except Forbidden:
            raise
        except TelegramError:
            await self._send(bot, chat_id, texts.image_fallback.format(url=escape(url)))
            return
        self.messages.add(chat_id, sent.message_id)
