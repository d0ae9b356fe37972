"""A local fake of the Telegram Bot API, enough to drive the real front.

Methods: getMe, getUpdates (long polling), setMyCommands, sendMessage, sendPhoto,
sendChatAction, answerCallbackQuery, editMessageReplyMarkup, deleteMessage, setWebhook,
deleteWebhook, getWebhookInfo. It checks what Telegram checks and the front relies on:
the token in the URL, text length (4,096 characters after entity parsing), Telegram HTML
(only known tags, entities escaped), callback_data of at most 64 bytes, command names,
and that a deleted message existed. Failures (429 with retry_after, 5xx) can be injected
per method. In webhook mode, updates are POSTed to the URL given to setWebhook with the
secret-token header, one after the other, like Telegram does.

Usage (inside a running event loop):
    api = FakeBotAPI(token); await api.start(); api.base_url  # -> TELEGRAM_API_URL
    await api.push_text(chat_id, "bonjour")
    call = await api.wait_for("sendMessage", chat_id=chat_id)
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from aiohttp import ClientSession, ClientTimeout, web

BOT_USER = {
    "id": 700000001,
    "is_bot": True,
    "first_name": "Aide Traite",
    "username": "AideTraiteTestBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "reply_to_message_id"}
BOOL_FIELDS = {"drop_pending_updates", "show_alert", "disable_notification"}
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
TAG = re.compile(r"<(/?)([a-zA-Z-]+)([^>]*)>")
ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: Optional[int] = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Call:
    method: str
    params: Dict[str, Any]
    at: float  # time.perf_counter()
    status: int = 200
    result: Any = None

    @property
    def chat_id(self) -> Optional[int]:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        return self.params.get("text", "")

    @property
    def shown(self) -> str:
        """The text as the user sees it (HTML parsed)."""
        text = self.text
        return parse_html(text) if self.params.get("parse_mode") == "HTML" else text

    @property
    def keyboard(self) -> List[List[Dict[str, Any]]]:
        markup = self.params.get("reply_markup") or {}
        return markup.get("inline_keyboard", []) if isinstance(markup, dict) else []


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    from_bot: bool
    text: str = ""
    reply_markup: Optional[Dict[str, Any]] = None
    deleted: bool = False


@dataclass
class Failure:
    status: int
    retry_after: Optional[int] = None


def telegram_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """Validates Telegram HTML like the Bot API does; returns the visible text."""
    stack: List[str] = []
    pos = 0
    visible: List[str] = []
    for match in TAG.finditer(text):
        visible.append(text[pos : match.start()])
        pos = match.end()
        closing, name = match.group(1), match.group(2).lower()
        if name not in ALLOWED_TAGS:
            raise ApiError(400, f'Bad Request: can\'t parse entities: unsupported start tag "{name}"')
        if closing:
            if not stack or stack[-1] != name:
                raise ApiError(400, f'Bad Request: can\'t parse entities: unexpected end tag "{name}"')
            stack.pop()
        else:
            stack.append(name)
    visible.append(text[pos:])
    if stack:
        raise ApiError(400, "Bad Request: can't parse entities: unclosed start tag")
    plain = "".join(visible)
    if "<" in plain or ">" in plain:
        raise ApiError(400, "Bad Request: can't parse entities: unescaped '<' or '>'")
    for amp in re.finditer("&", plain):
        if not ENTITY.match(plain, amp.start()):
            raise ApiError(400, "Bad Request: can't parse entities: unescaped '&'")
    return html.unescape(plain)


class FakeBotAPI:
    def __init__(self, token: str = "123456:TEST-token_abc", host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host
        self.port: Optional[int] = None
        self.calls: List[Call] = []
        self.failures: Dict[str, List[Failure]] = {}
        self.commands: List[Dict[str, str]] = []
        # setMyCommands per language_code ("" = the default list).
        self.commands_by_language: Dict[str, List[Dict[str, str]]] = {}
        # The app language of each user (Telegram's User.language_code; None: not sent).
        self.user_languages: Dict[int, Optional[str]] = {}
        self.webhook_url: Optional[str] = None
        self.webhook_secret: Optional[str] = None
        self.webhook_statuses: List[int] = []
        self.update_arrivals: Dict[int, float] = {}
        self.messages: Dict[tuple, StoredMessage] = {}
        self._updates: List[Dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids: Dict[int, itertools.count] = {}
        self._callback_ids = itertools.count(1)
        self._changed: Optional[asyncio.Condition] = None
        self._runner: Optional[web.AppRunner] = None
        self._webhook_queue: Optional[asyncio.Queue] = None
        self._webhook_task: Optional[asyncio.Task] = None
        self._session: Optional[ClientSession] = None

    # ------------------------------------------------------------------ server
    @property
    def base_url(self) -> str:
        """The TELEGRAM_API_URL of this server (requests go to {base_url}{token}/{method})."""
        return f"http://{self.host}:{self.port}/bot"

    async def start(self) -> "FakeBotAPI":
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port or 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._webhook_task:
            self._webhook_task.cancel()
            try:
                await self._webhook_task
            except (asyncio.CancelledError, Exception):
                pass
        if self._session:
            await self._session.close()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> "FakeBotAPI":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test API
    def fail(self, method: str, status: int, times: int = 1, retry_after: Optional[int] = None) -> None:
        """The next `times` calls of `method` get this error instead of a result."""
        self.failures.setdefault(method, []).extend(Failure(status, retry_after) for _ in range(times))

    def user(self, chat_id: int) -> Dict[str, Any]:
        user = {
            "id": chat_id,
            "is_bot": False,
            "first_name": "Zorglub",
            "last_name": "Nomdefamille",
            "username": f"zorglub_{chat_id}",
        }
        language = self.user_languages.get(chat_id, "fr")
        if language is not None:
            user["language_code"] = language
        return user

    def private_chat(self, chat_id: int) -> Dict[str, Any]:
        user = self.user(chat_id)
        return {
            "id": chat_id,
            "type": "private",
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "username": user["username"],
        }

    def _new_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _user_message(
        self,
        chat_id: int,
        chat: Optional[Dict[str, Any]] = None,
        sender_id: Optional[int] = None,
        **content: Any,
    ) -> Dict[str, Any]:
        message_id = self._new_message_id(chat_id)
        self.messages[(chat_id, message_id)] = StoredMessage(
            chat_id, message_id, False, content.get("text", "")
        )
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat or self.private_chat(chat_id),
            "from": self.user(sender_id or chat_id),
            **content,
        }

    async def push_update(self, update: Dict[str, Any]) -> Dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        self.update_arrivals[update["update_id"]] = time.perf_counter()
        if self.webhook_url:
            await self._webhook_queue.put(update)
        else:
            self._updates.append(update)
            await self._notify()
        return update

    async def push_message(
        self,
        chat_id: int,
        *,
        chat: Optional[Dict[str, Any]] = None,
        sender_id: Optional[int] = None,
        **content: Any,
    ) -> Dict[str, Any]:
        """A user message; `content` holds the message fields (text, voice, photo…)."""
        message = self._user_message(chat_id, chat, sender_id, **content)
        return await self.push_update({"message": message})

    async def push_text(self, chat_id: int, text: str, **kw: Any) -> Dict[str, Any]:
        content: Dict[str, Any] = {"text": text}
        command = re.match(r"^/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        return await self.push_message(chat_id, **content, **kw)

    async def push_edited(self, chat_id: int, message_id: int, text: str) -> Dict[str, Any]:
        return await self.push_update(
            {
                "edited_message": {
                    "message_id": message_id,
                    "date": int(time.time()) - 5,
                    "edit_date": int(time.time()),
                    "chat": self.private_chat(chat_id),
                    "from": self.user(chat_id),
                    "text": text,
                }
            }
        )

    async def push_callback(self, chat_id: int, message_id: int, data: str) -> Dict[str, Any]:
        stored = self.messages[(chat_id, message_id)]
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.private_chat(chat_id),
            "from": BOT_USER,
            "text": stored.text,
        }
        if stored.reply_markup:
            message["reply_markup"] = stored.reply_markup
        return await self.push_update(
            {
                "callback_query": {
                    "id": str(next(self._callback_ids)),
                    "from": self.user(chat_id),
                    "message": message,
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                }
            }
        )

    async def push_my_chat_member(self, chat: Dict[str, Any], old: str, new: str, by: int) -> Dict[str, Any]:
        return await self.push_update(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": self.user(by),
                    "date": int(time.time()),
                    "old_chat_member": {"status": old, "user": BOT_USER},
                    "new_chat_member": {"status": new, "user": BOT_USER}
                    if new != "administrator"
                    else {
                        "status": new,
                        "user": BOT_USER,
                        "can_be_edited": False,
                        "is_anonymous": False,
                        "can_manage_chat": True,
                        "can_delete_messages": True,
                        "can_manage_video_chats": False,
                        "can_restrict_members": False,
                        "can_promote_members": False,
                        "can_change_info": False,
                        "can_invite_users": True,
                        "can_post_stories": False,
                        "can_edit_stories": False,
                        "can_delete_stories": False,
                    },
                }
            }
        )

    def sent(
        self, method: str = "sendMessage", chat_id: Optional[int] = None, ok_only: bool = True
    ) -> List[Call]:
        return [
            c
            for c in self.calls
            if c.method == method
            and (chat_id is None or c.chat_id == chat_id)
            and (not ok_only or c.status == 200)
        ]

    def texts(self, chat_id: Optional[int] = None) -> List[str]:
        """What the user sees of each sendMessage (HTML parsed)."""
        return [c.shown for c in self.sent("sendMessage", chat_id)]

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        async def waiting():
            async with self._changed:
                while True:
                    value = predicate()
                    if value:
                        return value
                    await self._changed.wait()

        return await asyncio.wait_for(waiting(), timeout)

    async def wait_for(
        self,
        method: str = "sendMessage",
        chat_id: Optional[int] = None,
        count: int = 1,
        timeout: float = 10.0,
        where: Optional[Callable[[Call], bool]] = None,
    ) -> Call:
        """Waits until `count` successful calls matched; returns the last of them."""

        def matched():
            calls = [c for c in self.sent(method, chat_id) if where is None or where(c)]
            return calls[count - 1] if len(calls) >= count else None

        return await self.wait_until(matched, timeout)

    async def quiet(self, seconds: float = 0.3) -> None:
        """Waits until no call came for `seconds` (the front has nothing more to say)."""
        while True:
            before = len(self.calls)
            await asyncio.sleep(seconds)
            if len(self.calls) == before:
                return

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ HTTP
    async def _params(self, request: web.Request) -> Dict[str, Any]:
        if request.content_type == "application/json":
            raw = await request.json()
        elif request.method == "GET":
            raw = dict(request.query)
        else:
            raw = dict(await request.post())
        params: Dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str):
                if key in INT_FIELDS:
                    value = int(float(value)) if key == "timeout" else int(value)
                elif key in BOOL_FIELDS:
                    value = value == "true"
                elif value[:1] in ("{", "["):
                    value = json.loads(value)
            params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        try:
            params = await self._params(request)
        except ConnectionResetError:  # the client went away (the front stopping)
            return web.Response(status=499)
        call = Call(method, params, time.perf_counter())
        try:
            failures = self.failures.get(method)
            if failures:
                failure = failures.pop(0)
                raise ApiError(
                    failure.status,
                    "Too Many Requests: retry later" if failure.status == 429 else "Internal Server Error",
                    failure.retry_after,
                )
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as error:
            call.status = error.code
            self.calls.append(call)
            await self._notify()
            body: Dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return web.json_response(body, status=error.code)
        call.result = result
        if method != "getUpdates":
            self.calls.append(call)
            await self._notify()
        return web.json_response({"ok": True, "result": result})

    # ------------------------------------------------------------------ methods
    async def _api_getMe(self, params):
        return BOT_USER

    async def _api_getUpdates(self, params):
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = params.get("offset")
        if offset is not None:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if not self._updates and timeout > 0:
            try:
                async with self._changed:
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._updates)), timeout)
            except asyncio.TimeoutError:
                pass
        return self._updates[:limit]

    async def _api_setMyCommands(self, params):
        commands = params.get("commands") or []
        for command in commands:
            if not COMMAND_NAME.match(command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        language = params.get("language_code") or ""
        if language and not re.match(r"^[a-z]{2}$", language):
            raise ApiError(400, "Bad Request: LANG_CODE_INVALID")
        self.commands_by_language[language] = commands
        if not language:
            self.commands = commands
        return True

    async def _api_deleteMyCommands(self, params):
        self.commands = []
        return True

    def _bot_message(self, chat_id: int, **content) -> Dict[str, Any]:
        message_id = self._new_message_id(chat_id)
        stored = StoredMessage(
            chat_id, message_id, True, content.get("text", ""), content.get("reply_markup")
        )
        self.messages[(chat_id, message_id)] = stored
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            **content,
        }

    def _check_markup(self, markup: Any) -> None:
        if not markup:
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY")

    async def _api_sendMessage(self, params):
        text = params.get("text", "")
        visible = parse_html(text) if params.get("parse_mode") == "HTML" else text
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if telegram_len(visible) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        self._check_markup(params.get("reply_markup"))
        content = {"text": visible}
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        return self._bot_message(params["chat_id"], **content)

    async def _api_sendPhoto(self, params):
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith("http"):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if "unreachable" in photo:
            raise ApiError(400, "Bad Request: failed to get HTTP URL content")
        sizes = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 320, "height": 240}]
        return self._bot_message(params["chat_id"], photo=sizes)

    async def _api_sendChatAction(self, params):
        if params.get("action") not in {
            "typing",
            "upload_photo",
            "record_video",
            "upload_video",
            "record_voice",
            "upload_voice",
            "upload_document",
            "choose_sticker",
            "find_location",
            "record_video_note",
            "upload_video_note",
        }:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _api_answerCallbackQuery(self, params):
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        if len(params.get("text", "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_editMessageReplyMarkup(self, params):
        stored = self.messages.get((params.get("chat_id"), params.get("message_id")))
        if stored is None or stored.deleted or not stored.from_bot:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup") or None
        if markup == stored.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        self._check_markup(markup)
        stored.reply_markup = markup
        result = {
            "message_id": stored.message_id,
            "date": int(time.time()),
            "from": BOT_USER,
            "chat": {"id": stored.chat_id, "type": "private"},
            "text": stored.text,
        }
        if markup:
            result["reply_markup"] = markup
        return result

    async def _api_deleteMessage(self, params):
        stored = self.messages.get((params.get("chat_id"), params.get("message_id")))
        if stored is None or stored.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        stored.deleted = True
        return True

    async def _api_setWebhook(self, params):
        url = params.get("url", "")
        if not url:
            return await self._api_deleteWebhook(params)
        self.webhook_url = url
        self.webhook_secret = params.get("secret_token")
        if self._webhook_queue is None:
            self._webhook_queue = asyncio.Queue()
            self._session = ClientSession(timeout=ClientTimeout(total=30))
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        for update in self._updates:  # pending updates go to the webhook now
            await self._webhook_queue.put(update)
        self._updates = []
        return True

    async def _api_deleteWebhook(self, params):
        self.webhook_url = None
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._updates = []
        return True

    async def _api_getWebhookInfo(self, params):
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _deliver_webhooks(self) -> None:
        while True:
            update = await self._webhook_queue.get()
            headers = {}
            if self.webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
            try:
                async with self._session.post(self.webhook_url, json=update, headers=headers) as reply:
                    self.webhook_statuses.append(reply.status)
            except Exception:
                self.webhook_statuses.append(-1)
            await self._notify()
