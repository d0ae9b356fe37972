"""A Sanic app with the real webchat channel and a fake Rasa agent behind it.

Run as `python tests/webchat/fake_webchat_rasa.py PORT` (the project root on
PYTHONPATH). The agent answers by the message text, so that the tests can drive each
path of the channel:
  "boom"        the turn raises
  "silence"     the turn says nothing
  "lien"        the answer holds a javascript: link
  "lent"        the answer comes after 0.3 s
  /choisir_langue{"language":"<code>"}
                the conversation's language becomes <code> (answers say "Reçu" in it)
  anything else an answer "Reçu : <text>" and a payload that tells what the agent got
                (sender id, metadata, text); the payload's language fields: the
                conversation's language, "detected" from the text's script (Arabic
                letters: ar, else fr), reviewed only in French
"""

import asyncio
import json
import re
import sys

from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels.webchat import WebchatInput

CREDENTIALS = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "session_persistence": True,
}


RECEIVED = {"fr": "Reçu", "en": "Received", "ro": "Primit", "bg": "Получено", "ar": "تم الاستلام"}
CHOOSE = re.compile(r"^/choisir_langue(\{.*\})$")


class FakeAgent:
    def __init__(self) -> None:
        self.languages = {}  # sender -> the conversation's language

    async def handle_message(self, message: UserMessage) -> None:
        out, sender = message.output_channel, message.sender_id
        chosen = CHOOSE.match(message.text or "")
        if chosen:
            self.languages[sender] = json.loads(chosen.group(1))["language"]
        language = self.languages.get(sender, "fr")
        detected = "ar" if re.search(r"[\u0600-\u06ff]", message.text or "") else "fr"
        if message.text == "boom":
            raise RuntimeError("the turn failed")
        if message.text == "silence":
            return
        if message.text == "lien":
            await out.send_response(
                sender, {"text": "Voir [ici](javascript:alert(1)) ou [là](https://example.org)."}
            )
            return
        if message.text == "lent":
            await asyncio.sleep(0.3)
        await out.send_response(sender, {"text": f"{RECEIVED.get(language, 'Reçu')} : {message.text}"})
        await out.send_response(
            sender,
            {
                "custom": {
                    "topic": "titre-sejour",
                    "intent": "titre-sejour",
                    "confidence": 0.9,
                    "language": language,
                    "detected_language": None if chosen else detected,
                    "translation_reviewed": language == "fr",
                    "sources": [
                        {
                            "title": "CESEDA",
                            "reference": "art. L425-1",
                            "url": "https://www.legifrance.gouv.fr/",
                        }
                    ],
                    "seen": {"sender": sender, "metadata": message.metadata, "text": message.text},
                }
            },
        )


def main(port: int) -> None:
    app = Sanic("fake_webchat_rasa")
    app.ctx.agent = FakeAgent()
    register([WebchatInput.from_credentials(CREDENTIALS)], app, route="/webhooks/")
    app.run(host="127.0.0.1", port=port, access_log=False, workers=1)


if __name__ == "__main__":
    main(int(sys.argv[1]))
