"""The socket.io channel of the web widget, spoken to as rasa-webchat does.

The channel is the real one (bot/channels/webchat.py) in a Sanic app whose Rasa agent
is a fake (fake_webchat_rasa.py): these tests check what the channel itself does.
"""

import asyncio
import json
from typing import Any, Dict, List, Optional

import pytest
import websockets
import yaml

from bot.channels import guard
from bot.channels.webchat import SESSION_TOKEN, TOO_FAST, link_is_safe, safe_markdown
from project_paths import CREDENTIALS_FILE

MESSAGES = guard.messages()


class WidgetClient:
    """A socket.io client (protocol 5 over engine.io 4, websocket) that behaves like
    rasa-webchat 1.0.1. Written on `websockets` because python-socketio's own websocket
    client needs a newer aiohttp than Rasa 3.6 pins."""

    def __init__(self, url: str, origin: Optional[str] = None) -> None:
        self.ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.origin = origin if origin is not None else url
        self.received: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        self.session_id: Optional[str] = None
        self._confirmed: Optional[asyncio.Future] = None
        self._ws: Any = None
        self._reader: Optional[asyncio.Task] = None

    async def connect(self) -> None:
        self._ws = await websockets.connect(self.ws_url, origin=self.origin, open_timeout=10)
        opened = await asyncio.wait_for(self._ws.recv(), 10)
        assert opened.startswith("0{"), opened  # engine.io open packet
        await self._ws.send("40")  # socket.io connect, default namespace
        connected = await asyncio.wait_for(self._ws.recv(), 10)
        assert connected.startswith("40"), connected
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for packet in self._ws:
            if packet == "2":  # engine.io ping
                await self._ws.send("3")
            elif packet.startswith("42"):
                event, *args = json.loads(packet[2:])
                data = args[0] if args else None
                if event == "bot_uttered":
                    self.received.put_nowait(data)
                elif event == "session_confirm" and self._confirmed and not self._confirmed.done():
                    self._confirmed.set_result(data)

    async def emit(self, event: str, data: Any) -> None:
        await self._ws.send("42" + json.dumps([event, data]))

    async def request_session(self, session_id: Any = None) -> str:
        self._confirmed = asyncio.get_running_loop().create_future()
        await self.emit("session_request", {"session_id": session_id})
        self.session_id = await asyncio.wait_for(self._confirmed, 10)
        return self.session_id

    async def say(self, text: Any, **extra: Any) -> None:
        data = {"message": text, "customData": {"language": "fr"}, "session_id": self.session_id}
        data.update(extra)
        await self.emit("user_uttered", data)

    async def replies(self, count: int, timeout: float = 10) -> List[Dict[str, Any]]:
        return [await asyncio.wait_for(self.received.get(), timeout) for _ in range(count)]

    async def nothing_for(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.received.get(), seconds)
            return False
        except asyncio.TimeoutError:
            return True

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
        await self._ws.close()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def _client(url: str, session_id: Optional[str] = None) -> WidgetClient:
    client = WidgetClient(url)
    await client.connect()
    await client.request_session(session_id)
    return client


def test_replies_reach_the_widget_with_session_persistence(fake_webchat):
    async def scenario():
        client = await _client(fake_webchat.url)
        assert SESSION_TOKEN.match(client.session_id)
        await client.say("bonjour", metadata={"ip": "10.1.2.3", "name": "Awa"})
        text, payload = await client.replies(2)
        await client.close()
        return client.session_id, text, payload

    session_id, text, payload = run(scenario())
    assert text == {"text": "Reçu : bonjour"}
    assert payload["question"] == "bonjour"
    custom = payload["custom"]
    assert custom["topic"] == "titre-sejour" and custom["confidence"] == 0.9
    # The sender is the confirmed session; the client's metadata never reaches Rasa.
    assert custom["seen"]["sender"] == session_id.split(".")[0]
    assert custom["seen"]["metadata"] is None


def test_a_new_socket_with_the_same_session_continues_the_conversation(fake_webchat):
    async def scenario():
        first = await _client(fake_webchat.url)
        await first.say("premier")
        await first.replies(2)
        await first.close()  # the page is reloaded
        second = await _client(fake_webchat.url, session_id=first.session_id)
        await second.say("second")
        text, payload = await second.replies(2)
        await second.close()
        return first.session_id, second.session_id, text, payload

    first_id, second_id, text, payload = run(scenario())
    assert second_id == first_id
    assert text["text"] == "Reçu : second"
    assert payload["custom"]["seen"]["sender"] == first_id.split(".")[0]


@pytest.mark.parametrize("requested", [None, "", "abc", "../../etc/passwd", "A" * 32, 42, "f" * 33])
def test_a_missing_or_malformed_session_id_gets_a_new_one(fake_webchat, requested):
    async def scenario():
        client = await _client(fake_webchat.url, session_id=requested)
        await client.close()
        return client.session_id

    session_id = run(scenario())
    assert SESSION_TOKEN.match(session_id) and session_id != requested


def test_the_sender_is_the_confirmed_session_not_the_one_in_the_message(fake_webchat):
    async def scenario():
        client = await _client(fake_webchat.url)
        await client.say("qui suis-je", session_id="0" * 32)
        _, payload = await client.replies(2)
        await client.close()
        return client.session_id, payload

    session_id, payload = run(scenario())
    assert payload["custom"]["seen"]["sender"] == session_id.split(".")[0]


def test_a_message_before_any_session_request_is_ignored(fake_webchat):
    async def scenario():
        client = WidgetClient(fake_webchat.url)
        await client.connect()
        await client.say("bonjour")
        quiet = await client.nothing_for(1.5)
        await client.close()
        return quiet

    assert run(scenario())


def test_typed_payloads_are_read_as_text_but_button_payloads_are_kept(fake_webchat):
    async def scenario():
        client = await _client(fake_webchat.url)
        await client.say('/titre-sejour{"misunderstood": true}')
        _, typed = await client.replies(2)
        await client.say('/en_savoir_plus{"topic":"titre-sejour"}')
        _, button = await client.replies(2)
        await client.close()
        return typed, button

    typed, button = run(scenario())
    assert typed["custom"]["seen"]["text"] == 'titre-sejour{"misunderstood": true}'
    assert button["custom"]["seen"]["text"] == '/en_savoir_plus{"topic":"titre-sejour"}'


@pytest.mark.parametrize("text", ["boom", "silence"])
def test_a_failed_or_silent_turn_gets_the_apology_with_emergency_numbers(fake_webchat, text):
    async def scenario():
        client = await _client(fake_webchat.url)
        await client.say(text)
        replies = await client.replies(2)
        # The connection survived: the next turn works.
        await client.say("encore")
        after = await client.replies(2)
        await client.close()
        return replies, after

    (apology, payload), after = run(scenario())
    assert apology == {"text": MESSAGES["service_indisponible"]}
    assert "17" in apology["text"] and "112" in apology["text"] and "114" in apology["text"]
    assert payload["custom"]["topic"] == "urgence"
    assert after[0] == {"text": "Reçu : encore"}


def test_an_empty_message_is_answered_without_rasa(fake_webchat):
    async def scenario():
        client = await _client(fake_webchat.url)
        await client.say("  \u200b  ")
        replies = await client.replies(2)
        await client.close()
        return replies

    text, payload = run(scenario())
    assert text == {"text": MESSAGES["message_vide"]}
    assert payload["custom"]["topic"] == "incompris"


def test_a_long_message_is_cut_and_the_user_told(fake_webchat):
    async def scenario():
        client = await _client(fake_webchat.url)
        await client.say("a" * (guard.MAX_MESSAGE_CHARS + 500))
        replies = await client.replies(3)
        await client.close()
        return replies

    text, payload, notice = run(scenario())
    assert len(payload["custom"]["seen"]["text"]) == guard.MAX_MESSAGE_CHARS
    assert notice == {"text": MESSAGES["message_coupe"]}


@pytest.mark.parametrize("data", [None, "bonjour", ["bonjour"], {"message": 12}, {"message": None}, {}])
def test_malformed_events_are_ignored_without_crashing(fake_webchat, data):
    async def scenario():
        client = await _client(fake_webchat.url)
        await client.emit("user_uttered", data)
        quiet = await client.nothing_for(0.7)
        await client.say("toujours là")
        text, _ = await client.replies(2)
        await client.close()
        return quiet, text

    quiet, text = run(scenario())
    assert quiet and text["text"] == "Reçu : toujours là"


def test_unsafe_links_in_bot_text_are_neutralised(fake_webchat):
    async def scenario():
        client = await _client(fake_webchat.url)
        await client.say("lien")
        [reply] = await client.replies(1)
        await client.close()
        return reply

    reply = run(scenario())
    assert "javascript" not in reply["text"]
    assert "[ici](#)" in reply["text"] and "[là](https://example.org)" in reply["text"]


def test_socketio_refuses_other_origins(fake_webchat):
    async def scenario():
        client = WidgetClient(fake_webchat.url, origin="http://evil.example")
        with pytest.raises(websockets.exceptions.InvalidStatusCode):
            await client.connect()
        same = WidgetClient(fake_webchat.url)
        await same.connect()
        await same.close()

    run(scenario())


@pytest.mark.parametrize(
    "target, safe",
    [
        ("https://www.legifrance.gouv.fr/", True),
        ("http://example.org", True),
        ("mailto:contact@example.org", True),
        ("tel:+33112", True),
        ("/webchat/", True),
        ("#ancre", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        (" java\tscript:alert(1)", False),
        ("javascript&#58;alert(1)", False),
        ("javascript%3Aalert(1)", False),
        ("javascript\\:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("vbscript:msgbox", False),
    ],
)
def test_link_targets(target, safe):
    assert link_is_safe(target) is safe


def test_safe_markdown_keeps_ordinary_text_and_safe_links():
    text = "**Attention** : appelez le 17.\n\n[Service-public](https://www.service-public.fr) <https://a.fr>"
    assert safe_markdown(text) == text
    assert safe_markdown("[x](javascript:alert(1))") == "[x](#))"
    assert safe_markdown("<javascript:alert(1)>") == "javascript:alert(1)"
    assert safe_markdown("[a]: javascript:alert(1)\n[b][a]") == "[a]: #\n[b][a]"


def test_credentials_use_this_channel_with_session_persistence():
    with open(CREDENTIALS_FILE, encoding="utf-8") as f:
        credentials = yaml.safe_load(f)
    webchat = credentials["bot.channels.webchat.WebchatInput"]
    assert webchat == {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
    }


def test_a_bare_or_forged_session_id_opens_nothing(fake_webchat):
    """Review S11: whoever saw a session id (screen, ticket) cannot join its room."""

    async def scenario():
        owner = await _client(fake_webchat.url)
        bare = owner.session_id.split(".")[0]
        forged = bare + "." + "0" * 32
        thieves = [await _client(fake_webchat.url, session_id=stolen) for stolen in (bare, forged)]
        await owner.say("ma question")
        await owner.replies(2)
        got = []
        for thief in thieves:
            got.append(thief.session_id)
            await thief.say("moi")
            _, payload = await thief.replies(2)
            got.append(payload["custom"]["seen"]["sender"])
            await thief.close()
        await owner.close()
        return bare, got

    bare, got = run(scenario())
    assert all(not value.startswith(bare) for value in got), got


def test_a_new_session_request_leaves_the_previous_room(fake_webchat):
    async def scenario():
        watcher = await _client(fake_webchat.url)
        owner = await _client(fake_webchat.url, session_id=watcher.session_id)
        await watcher.request_session(None)  # the same socket moves to a new session
        await owner.say("seulement pour moi")
        await owner.replies(2)
        quiet = await watcher.nothing_for(1.0)
        await watcher.close()
        await owner.close()
        return quiet

    assert run(scenario()) is True


def test_a_flood_of_messages_is_refused_past_the_rate_limit(fake_webchat):
    async def scenario():
        client = await _client(fake_webchat.url)
        for n in range(25):
            await client.say(f"message {n}")
        await asyncio.sleep(2)
        texts = []
        while not client.received.empty():
            reply = client.received.get_nowait()
            texts.append(reply.get("text") if isinstance(reply, dict) else None)
        await client.close()
        return texts

    texts = run(scenario())
    assert TOO_FAST in texts
    assert sum(1 for t in texts if t and t.startswith("Reçu")) <= 20
