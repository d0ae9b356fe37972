"""Rasa's REST channel (`/webhooks/rest/webhook`) behind the input guard.

Same request and response format as Rasa's own: POST {"sender", "message"} returns
the list of bot messages. Differences: bad requests get a 4xx with a reason instead of
a stack trace, typed payloads are neutralised, a failed turn gets an apology with the
emergency numbers, and the message text is never logged.
"""

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import guard

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def _error(status: int, reason: Text) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class GuardedRestInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("guarded_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY_BYTES:
                return _error(413, "Message trop long.")
            try:
                body = request.json
            except Exception:
                return _error(400, "Le corps de la requête doit être du JSON valide.")
            if not isinstance(body, dict):
                return _error(400, "Le corps de la requête doit être un objet JSON.")
            sender, text = body.get("sender"), body.get("message")
            if not guard.sender_is_valid(sender):
                return _error(400, "Champ « sender » manquant ou invalide.")
            if not isinstance(text, str):
                return _error(400, "Champ « message » manquant ou invalide.")
            metadata = guard.clean_metadata(body.get("metadata"))
            replies = await self.handle(on_new_message, sender, text, metadata)
            return response.json(replies)

        return webhook

    async def handle(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: Text,
        raw_text: Text,
        metadata: Optional[Dict[Text, Text]] = None,
    ) -> list:
        text = guard.clean_user_text(raw_text)
        if not text:
            return [dict(guard.system_reply("message_vide"), recipient_id=sender)]
        collector = CollectingOutputChannel()
        watcher = guard.TurnWatchingOutputChannel(collector)
        try:
            await on_new_message(
                UserMessage(text, watcher, sender, input_channel=self.name(), metadata=metadata)
            )
        except Exception as error:  # the store or Rasa failed: say so, never crash
            logger.error("Turn failed: %s", type(error).__name__)
        replies = collector.messages
        if text.truncated:
            replies.append({"recipient_id": sender, "text": guard.messages()["message_coupe"]})
        if not watcher.texts_sent:
            replies += [dict(r, recipient_id=sender) for r in guard.replies_for_silence()]
        return replies
