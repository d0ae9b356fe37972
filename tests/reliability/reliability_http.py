"""What the reliability tests share: raw HTTP to a running stack, its tracker API, and
the checks of "a clear answer"."""

import importlib.util
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

from rest_client import ask, payloads, post_raw, texts  # noqa: F401 (shared with other tests)

from bot.channels import guard
from bot.launcher import api_token

NORMAL_QUESTION = "comment porter plainte ?"
NORMAL_TOPIC = "porter-plainte"
# A few of the commonest French words: an answer in French holds at least one.
FRENCH_WORDS = re.compile(r"\b(vous|je|le|la|les|de|des|pour|est|une|un|votre)\b", re.IGNORECASE)
# A message in another language (English-looking junk such as SQL) may be answered in it.
ENGLISH_WORDS = re.compile(r"\b(you|the|to|of|your|can|is|a)\b", re.IGNORECASE)


def tracker(stack, sender: str) -> Dict[str, Any]:
    """The stored conversation of one sender, through Rasa's (token-protected) API."""
    quoted = urllib.parse.quote(sender, safe="")
    url = f"{stack.rasa_url}/conversations/{quoted}/tracker?token={api_token()}"
    with urllib.request.urlopen(url, timeout=60) as reply:
        return json.loads(reply.read())


def user_events(conversation: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [e for e in conversation["events"] if e["event"] == "user"]


def assert_clear_answer(replies: Any) -> None:
    """200 with an answer (in French, or in English for English-looking input) and the
    answer payload of every reply turn."""
    assert isinstance(replies, list) and replies, replies
    assert payloads(replies), f"no answer payload in {replies}"
    assert all("topic" in p for p in payloads(replies)), replies
    answer = texts(replies)
    assert FRENCH_WORDS.search(answer) or ENGLISH_WORDS.search(answer), f"no answer in {replies}"


def assert_clear_refusal(status: int, body: Any) -> None:
    """4xx with a JSON reason."""
    assert 400 <= status < 500, (status, body)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body


def assert_still_answers(stack, sender: str) -> None:
    """The server still answers an ordinary question from the knowledge base."""
    replies = ask(stack, sender, NORMAL_QUESTION)
    assert [p["topic"] for p in payloads(replies)] == [NORMAL_TOPIC], replies


def channel_message(key: str) -> str:
    return guard.messages()[key]


def stack_log(stack) -> str:
    return stack.log_path.read_text(encoding="utf-8", errors="replace")


def is_alive(stack) -> bool:
    return all(p.poll() is None for p in stack.processes)


def launch(tmp: Path, **extra_env):
    """tests/conftest.py's launch() (a private stack logging to tmp/servers.log), for
    module-scoped stacks. Loaded by path: several conftest.py share the name."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("tests_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.launch(tmp, **extra_env)
