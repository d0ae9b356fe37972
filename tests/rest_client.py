"""Talking to a running stack's REST channel, as a user would: what the end-to-end,
retraining and reliability tests share. (tests/ is on the import path through its
conftest.py.)"""

import json
import urllib.error
import urllib.request
from typing import Any, Dict, List, Tuple


def post_raw(
    stack,
    body: bytes,
    content_type: str = "application/json",
    path: str = "/webhooks/rest/webhook",
    timeout: float = 60,
) -> Tuple[int, Any]:
    """POSTs raw bytes; returns (status, decoded JSON body or the raw text)."""
    request = urllib.request.Request(
        f"{stack.rasa_url}{path}", data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def ask(stack, sender: str, text: str) -> List[Dict[str, Any]]:
    # A generous timeout: the first message after a model change may wait for loading.
    status, replies = post_raw(stack, json.dumps({"sender": sender, "message": text}).encode(), timeout=120)
    assert status == 200, (status, replies)
    return replies


def payloads(replies: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [r["custom"] for r in replies if isinstance(r.get("custom"), dict)]


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)
