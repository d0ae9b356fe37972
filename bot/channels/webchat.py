"""The staff web widget: Rasa's socket.io channel behind the input guard, and its page.

Credentials key `bot.channels.webchat.WebchatInput` (name "socketio", so
`user_message_evt`, `bot_message_evt` and `session_persistence` work as for Rasa's own
channel). Differences with Rasa's `SocketIOInput`:

- `sio.enter_room` is awaited (Rasa 3.6.21 forgets it, upstream issue #13027: with
  `session_persistence: true` the replies never reached the widget);
- the sender id is the session id that the server confirmed to this socket (32 hex
  digits, made here when the widget has none or sends a malformed one), never one the
  client slips into a message; the widget receives it as `<id>.<HMAC(server key, id)>`
  and must give the whole token back to resume it: an id alone (seen on a screen, in
  a support ticket) opens nothing. A new session request leaves the previous room;
- rate limits: messages per socket and per session, session requests per socket,
  votes per client (MESSAGES_PER_MINUTE, ...): past them, the turn is refused with a
  short message (the emergency numbers stay on the page);
- typed text goes through `guard.clean_user_text`; client metadata and `customData`
  are ignored (privacy); a turn that says nothing gets the guard's apology with the
  emergency numbers; nothing raises out of a socket handler;
- the answer payload (`json_message`) reaches the page as `{"custom": {...},
  "question": "<what Rasa read>"}` (Rasa's own output channel crashes on it), which the
  staff panel renders; bot text is checked for unsafe link targets;
- socket.io accepts the page's own origin only (Rasa allows every origin).

It also serves, on the Rasa server itself:
  GET  /webchat/                  the page (bot/webchat/index.html)
  GET  /webchat/static/<asset>    page.js, page.css, and rasa-webchat.js, the bundle of
                                  rasa-webchat 1.0.1 installed by npm in var/webchat/
  GET  /webchat/texts/<code>.json the page's own texts in one language
                                  (bot/webchat/messages_<code>.yml, French where a
                                  translation lacks a key), the languages and their names
  POST /webchat/feedback          a 👍 / 👎 vote on an answer (bot/feedback.py)
"""

import asyncio
import hashlib
import hmac
import html
import json
import logging
import os
import re
import secrets
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text
from urllib.parse import unquote, urlsplit

import rasa.core.channels.channel
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

import user_texts
from bot import feedback
from bot.channels import guard
from bot.channels.ratelimit import RateLimit
from project_paths import REPO_ROOT, VAR_DIR
from secrets_policy import check_secret

logger = logging.getLogger(__name__)

PAGE_DIR = REPO_ROOT / "bot" / "webchat"
WEBCHAT_VAR_DIR = VAR_DIR / "webchat"
BUNDLE = WEBCHAT_VAR_DIR / "node_modules" / "rasa-webchat" / "lib" / "index.js"
ASSETS = {
    "page.js": (PAGE_DIR / "page.js", "text/javascript; charset=utf-8"),
    "page.css": (PAGE_DIR / "page.css", "text/css; charset=utf-8"),
    "rasa-webchat.js": (BUNDLE, "text/javascript; charset=utf-8"),
}
# Names of the languages, each in itself (the same as the bot's language buttons).
LANGUAGE_NAMES_DIR = REPO_ROOT / "actions"
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
SESSION_TOKEN = re.compile(r"^(?P<id>[0-9a-f]{32})\.(?P<mac>[0-9a-f]{32})$")
SESSION_KEY_FILE = VAR_DIR / "webchat_session_key"
MAX_FEEDBACK_BYTES = 8 * 1024
# A person types a few messages a minute; a script sends hundreds.
MESSAGES_PER_MINUTE = 20
SESSIONS_PER_MINUTE = 6
VOTES_PER_MINUTE = 30
TOO_FAST = "Vous envoyez beaucoup de messages : attendez un moment avant d'écrire à nouveau."


def session_key() -> bytes:
    """The key of the session tokens: WEBCHAT_SESSION_SECRET (shared by every replica),
    else a key generated once in var/ (mode 600)."""
    configured = os.environ.get("WEBCHAT_SESSION_SECRET")
    if configured:
        return check_secret("WEBCHAT_SESSION_SECRET", configured).encode()
    try:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(SESSION_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    return SESSION_KEY_FILE.read_text().strip().encode()


def session_token(key: bytes, session_id: Text) -> Text:
    """What the widget keeps: the id and its proof of ownership."""
    mac = hmac.new(key, session_id.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{session_id}.{mac}"


def session_of_token(key: bytes, token: Any) -> Optional[Text]:
    """The session id a token proves, or None (a bare id, a forged or malformed token)."""
    match = SESSION_TOKEN.match(token) if isinstance(token, str) else None
    if not match or not hmac.compare_digest(session_token(key, match.group("id")), token):
        return None
    return match.group("id")


# The page runs only its own scripts: no inline script, no event-handler attribute, no
# javascript: URL, nothing fetched from elsewhere (rasa-webchat's style sheets are
# injected inline by its bundle, hence 'unsafe-inline' for styles only).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

# Link targets that markdown in a bot message may use (rasa-webchat renders bot text
# with react-markdown and turns off its URL filter).
SAFE_LINK_SCHEMES = ("http", "https", "mailto", "tel")
INLINE_LINK = re.compile(r"(\]\(\s*)(<[^>\n]*>|[^\s)]*)")
REFERENCE_LINK = re.compile(r"^( {0,3}\[[^\]\n]+\]:\s*)(<[^>\n]*>|\S+)", re.MULTILINE)
AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*)>")
SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def link_is_safe(target: Text) -> bool:
    """True for relative links and http(s), mailto and tel ones."""
    decoded = html.unescape(unquote(target.strip("<>")))
    decoded = re.sub(r"\\(?=[!-/:-@\[-`{-~])", "", decoded)  # markdown escapes
    decoded = re.sub(r"[\s\x00-\x1f\x7f]", "", decoded).lower()
    scheme = SCHEME.match(decoded)
    return scheme is None or scheme.group(1) in SAFE_LINK_SCHEMES


def safe_markdown(text: Text) -> Text:
    """Replaces unsafe link targets (javascript:, data:, ...) in a bot message by '#'."""

    def inline(match: "re.Match[Text]") -> Text:
        return match.group(0) if link_is_safe(match.group(2)) else match.group(1) + "#"

    def autolink(match: "re.Match[Text]") -> Text:
        return match.group(0) if link_is_safe(match.group(1)) else match.group(1)

    text = INLINE_LINK.sub(inline, text)
    text = REFERENCE_LINK.sub(inline, text)
    return AUTOLINK.sub(autolink, text)


class WebchatOutput(SocketIOOutput):
    """Sends a turn's messages to the session's room, in the shapes the page reads."""

    def __init__(self, sio: AsyncServer, bot_message_evt: Text, question: Optional[Text] = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.question = question

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        if isinstance(response, dict) and isinstance(response.get("text"), str):
            response = dict(response, text=safe_markdown(response["text"]))
        await super()._send_message(socket_id, response)

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """The answer payload, with the question it answers, for the staff panel."""
        await self.sio.emit(
            self.bot_message_evt,
            {"custom": json_message, "question": self.question},
            room=recipient_id,
        )


class WebchatBlueprint(SocketBlueprint):
    """Attaches socket.io to the app, and registers the page's routes at /webchat/."""

    def __init__(self, sio: AsyncServer, socketio_path: Text, page: Blueprint) -> None:
        super().__init__(sio, socketio_path, "webchat_socketio", __name__)
        self.ctx.page = page

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        super().register(app, options)
        app.blueprint(self.ctx.page)


class WebchatInput(SocketIOInput):
    """Rasa's socket.io channel, fixed and guarded, plus the staff page."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def get_output_channel(self) -> Optional[rasa.core.channels.channel.OutputChannel]:
        if self.sio is None:
            return super().get_output_channel()
        return WebchatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # cors_allowed_origins=None: engine.io accepts the server's own origin only.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=None)
        self.sio = sio
        key = session_key()
        self.per_socket = RateLimit(MESSAGES_PER_MINUTE, 60)
        self.per_session = RateLimit(MESSAGES_PER_MINUTE, 60)
        sessions_per_socket = RateLimit(SESSIONS_PER_MINUTE, 60)
        socketio_webhook = WebchatBlueprint(sio, self.socketio_path, page_blueprint())
        namespace = self.namespace

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if not self.jwt_key:
                return True
            try:
                token = auth.get("token") if isinstance(auth, dict) else None
                return bool(
                    token
                    and rasa.core.channels.channel.decode_bearer_token(
                        token, self.jwt_key, self.jwt_algorithm
                    )
                )
            except Exception:
                return False

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            try:
                if not sessions_per_socket.allow(sid):
                    return
                requested = data.get("session_id") if isinstance(data, dict) else None
                session_id = session_of_token(key, requested) or uuid.uuid4().hex
                previous = ((await sio.get_session(sid, namespace=namespace)) or {}).get("session_id")
                if previous and previous != session_id and previous != sid:
                    await sio.leave_room(sid, previous, namespace=namespace)
                if self.session_persistence:
                    await sio.enter_room(sid, session_id, namespace=namespace)
                    confirmed = session_token(key, session_id)
                else:
                    session_id = confirmed = sid
                await sio.save_session(sid, {"session_id": session_id}, namespace=namespace)
                await sio.emit("session_confirm", confirmed, room=sid, namespace=namespace)
            except Exception as error:
                logger.error("Webchat session request failed: %s", type(error).__name__)

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: Text) -> None:
            self.per_socket.forget(sid)
            sessions_per_socket.forget(sid)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            try:
                await self.handle(on_new_message, sid, data)
            except Exception as error:  # never let a socket handler crash
                logger.error("Webchat turn failed: %s", type(error).__name__)

        return socketio_webhook

    async def handle(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sid: Text,
        data: Any,
    ) -> None:
        """One user message: clean it, run the turn, make sure the turn says something."""
        assert self.sio is not None
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return
        session = await self.sio.get_session(sid, namespace=self.namespace)
        sender_id = (session or {}).get("session_id")
        if not sender_id:
            logger.warning("Webchat message before any session request: ignored.")
            return

        if not (self.per_socket.allow(sid) and self.per_session.allow(sender_id)):
            await self.sio.emit(self.bot_message_evt, {"text": TOO_FAST}, room=sid, namespace=self.namespace)
            return
        text = guard.clean_user_text(data["message"])
        output = WebchatOutput(self.sio, self.bot_message_evt, question=str(text))
        if not text:
            await guard.send_system_reply(output, sender_id, "message_vide", "incompris")
            return
        watcher = guard.TurnWatchingOutputChannel(output)
        try:
            # Client metadata (rasa-webchat's customData) is never passed on.
            await on_new_message(UserMessage(text, watcher, sender_id, input_channel=self.name()))
        except Exception as error:  # the store, Rasa or an action failed: say so
            logger.error("Turn failed: %s", type(error).__name__)
        if text.truncated:
            await output.send_response(sender_id, {"text": guard.messages()["message_coupe"]})
        if not watcher.texts_sent:
            for reply in guard.replies_for_silence():
                await output.send_response(sender_id, reply)


def page_languages() -> list:
    """The widget's languages (a messages file each), in the order of the bot's language
    buttons, with their names and writing directions."""
    names = user_texts.load(LANGUAGE_NAMES_DIR).get("noms_des_langues") or {}
    available = user_texts.languages(PAGE_DIR)
    ordered = [code for code in names if code in available]
    ordered += [code for code in available if code not in ordered]
    return [
        {
            "code": code,
            "name": str(names.get(code) or code),
            "direction": "rtl" if user_texts.load(PAGE_DIR, code).get("direction") == "rtl" else "ltr",
        }
        for code in ordered
    ]


def page_texts(code: Text) -> Optional[Dict[Text, Any]]:
    """What GET /webchat/texts/<code>.json returns, or None for a code we do not have."""
    languages = page_languages()
    if code not in {language["code"] for language in languages}:
        return None
    return {"language": code, "texts": user_texts.load(PAGE_DIR, code), "languages": languages}


def _with_headers(resp: HTTPResponse) -> HTTPResponse:
    resp.headers.update(SECURITY_HEADERS)
    return resp


def _error(status: int, reason: Text) -> HTTPResponse:
    return _with_headers(response.json({"error": reason}, status=status))


def _same_origin(request: Request) -> bool:
    """Browsers say where a request comes from: only the page's own origin may post."""
    origin = request.headers.get("origin")
    if origin is not None:
        return urlsplit(origin).netloc == request.headers.get("host", "")
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def _client(request: Request) -> Text:
    """Who votes: the address nginx saw (X-Real-IP, set by our nginx), else the peer."""
    return request.headers.get("x-real-ip") or request.ip or "?"


def page_blueprint() -> Blueprint:
    page = Blueprint("webchat_page", url_prefix="/webchat", strict_slashes=True)
    votes_per_client = RateLimit(VOTES_PER_MINUTE, 60)
    votes_in_all = RateLimit(VOTES_PER_MINUTE * 10, 60)

    @page.route("", methods=["GET"])
    async def to_page(_: Request) -> HTTPResponse:
        return response.redirect("/webchat/")

    @page.route("/", methods=["GET"])
    async def index(_: Request) -> HTTPResponse:
        return _with_headers(
            await response.file(PAGE_DIR / "index.html", mime_type="text/html; charset=utf-8")
        )

    @page.route("/static/<name:str>", methods=["GET"])
    async def asset(_: Request, name: Text) -> HTTPResponse:
        if name not in ASSETS:
            return _error(404, "Fichier inconnu.")
        path, mime_type = ASSETS[name]
        if not path.is_file():
            logger.error("Webchat asset missing: %s (run the set-up: npm ci)", path)
            return _error(503, "Le widget n'est pas installé : lancez « make run ».")
        return _with_headers(await response.file(path, mime_type=mime_type))

    @page.route("/texts/<name:str>", methods=["GET"])
    async def texts(_: Request, name: Text) -> HTTPResponse:
        code = name[: -len(".json")] if name.endswith(".json") else None
        found = page_texts(code) if code and re.fullmatch(r"[a-z]{2,3}", code) else None
        if found is None:
            return _error(404, "Langue inconnue.")
        return _with_headers(response.json(found))

    @page.route("/feedback", methods=["POST"])
    async def post_feedback(request: Request) -> HTTPResponse:
        if not _same_origin(request):
            return _error(403, "Origine refusée.")
        if not (votes_per_client.allow(_client(request)) and votes_in_all.allow("all")):
            return _error(429, "Trop d'avis en peu de temps : réessayez dans une minute.")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error(415, "Le corps doit être du JSON (application/json).")
        body = request.body or b""
        if len(body) > MAX_FEEDBACK_BYTES:
            return _error(413, "Avis trop long.")
        try:
            data = json.loads(body)
        except ValueError:
            return _error(400, "Le corps de la requête doit être du JSON valide.")
        try:
            vote = feedback.parse_feedback(data)
        except feedback.InvalidFeedback as error:
            return _error(400, str(error))
        try:
            loop = asyncio.get_running_loop()
            feedback_id = await loop.run_in_executor(None, feedback.add_feedback, vote)
        except Exception as error:
            logger.error("Feedback not stored: %s", type(error).__name__)
            return _error(503, "L'avis n'a pas pu être enregistré. Réessayez plus tard.")
        return _with_headers(response.json({"id": feedback_id}, status=201))

    return page
