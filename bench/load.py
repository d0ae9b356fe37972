"""The load: sequential requests and closed-loop concurrent users, with aiohttp.

A closed-loop user sends its next message as soon as the previous one is answered (no
think time), the usual worst case for "N concurrent users". Every request is checked:
an HTTP error, a timeout, a reply without the answer payload, or the channel's apology
(a turn that failed inside the stack) counts as an error.
"""

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlsplit

import aiohttp
import numpy as np

REQUEST_TIMEOUT_SECONDS = 30


def loopback_only(url: str) -> str:
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"the benchmark only sends requests to 127.0.0.1, not {url}")
    return url


@dataclass
class Target:
    """One kind of request: where it goes, what it sends, how its answer is checked."""

    name: str
    url: str
    body: Callable[[str, str], Dict[str, Any]]  # (sender, message) -> JSON body
    check: Callable[[Any], Optional[str]]  # JSON answer -> error kind, or None


def rest_target(rasa_url: str, apology: str) -> Target:
    def check(answer: Any) -> Optional[str]:
        if not isinstance(answer, list) or not answer:
            return "empty answer"
        if any(apology in (m.get("text") or "") for m in answer):
            return "apology (a turn failed in the stack)"
        if not any(isinstance(m.get("custom"), dict) and "topic" in m["custom"] for m in answer):
            return "no answer payload"
        return None

    return Target(
        "rest",
        loopback_only(f"{rasa_url}/webhooks/rest/webhook"),
        lambda sender, text: {"sender": sender, "message": text},
        check,
    )


def parse_target(rasa_url: str, token: str) -> Target:
    def check(answer: Any) -> Optional[str]:
        ok = isinstance(answer, dict) and isinstance(answer.get("intent"), dict)
        return None if ok else "no intent"

    return Target(
        "parse",
        loopback_only(f"{rasa_url}/model/parse?token={token}"),
        lambda sender, text: {"text": text},
        check,
    )


def actions_target(actions_url: str, domain: Dict[str, Any], intents: List[str]) -> Target:
    """The action server alone: action_answer_topic for a topic intent, as Rasa calls it."""
    counter = iter(range(10**9))

    def body(sender: str, text: str) -> Dict[str, Any]:
        intent = intents[next(counter) % len(intents)]
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
            "intent_ranking": [{"name": intent, "confidence": 0.9}],
        }
        return {
            "next_action": "action_answer_topic",
            "sender_id": sender,
            "version": "3.6.21",
            "domain": domain,
            "tracker": {
                "sender_id": sender,
                "slots": {"topic": None, "misunderstood": False},
                "latest_message": latest,
                "latest_event_time": time.time(),
                "followup_action": None,
                "paused": False,
                "events": [{"event": "user", "text": text, "parse_data": latest}],
                "latest_input_channel": "rest",
                "active_loop": {},
                "latest_action": {"action_name": "action_listen"},
                "latest_action_name": "action_listen",
            },
        }

    def check(answer: Any) -> Optional[str]:
        ok = isinstance(answer, dict) and answer.get("responses")
        return None if ok else "no responses"

    return Target("actions", loopback_only(f"{actions_url}/webhook"), body, check)


@dataclass
class Outcome:
    latencies: List[float] = field(default_factory=list)  # seconds, successful requests
    errors: Counter = field(default_factory=Counter)
    elapsed: float = 0.0

    def summary(self) -> Dict[str, Any]:
        ok = len(self.latencies)
        total = ok + sum(self.errors.values())
        ms = np.array(self.latencies) * 1000 if ok else np.array([np.nan])
        return {
            "requests": total,
            "ok": ok,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "seconds": round(self.elapsed, 1),
            "throughput_per_s": round(ok / self.elapsed, 1) if self.elapsed else None,
            "p50_ms": _round(np.percentile(ms, 50)),
            "p95_ms": _round(np.percentile(ms, 95)),
            "p99_ms": _round(np.percentile(ms, 99)),
            "mean_ms": _round(ms.mean()),
            "max_ms": _round(ms.max()),
        }


def _round(value: float) -> Optional[float]:
    return None if np.isnan(value) else round(float(value), 1)


async def send(
    session: aiohttp.ClientSession, target: Target, sender: str, text: str, outcome: Outcome
) -> None:
    started = time.perf_counter()
    try:
        async with session.post(target.url, json=target.body(sender, text)) as reply:
            raw = await reply.read()
            if reply.status != 200:
                outcome.errors[f"HTTP {reply.status}"] += 1
                return
            error = target.check(json.loads(raw))
    except asyncio.TimeoutError:
        outcome.errors["timeout"] += 1
        return
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        outcome.errors[type(exc).__name__] += 1
        return
    if error:
        outcome.errors[error] += 1
    else:
        outcome.latencies.append(time.perf_counter() - started)


def conversation(messages: List[str], session_length: int, tag: str, user: int):
    """Endless (sender, message) pairs of one simulated user: a new conversation (new
    sender id) every `session_length` messages, each user starting elsewhere in the list."""
    start = (user * 7) % len(messages)
    n = 0
    while True:
        sender = f"bench-{tag}-u{user}-c{n // session_length}"
        yield sender, messages[(start + n) % len(messages)]
        n += 1


def _session(users: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=users + 2),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
    )


async def sequential(
    target: Target, messages: List[str], session_length: int, count: int, max_seconds: float, tag: str
) -> Outcome:
    outcome = Outcome()
    talk = conversation(messages, session_length, tag, 0)
    async with _session(1) as session:
        started = time.monotonic()
        for _ in range(count):
            if time.monotonic() - started > max_seconds:
                break
            sender, text = next(talk)
            await send(session, target, sender, text, outcome)
        outcome.elapsed = time.monotonic() - started
    return outcome


async def closed_loop(
    target: Target,
    users: int,
    seconds: float,
    messages: List[str],
    session_length: int,
    tag: str,
    sample: Optional[Callable[[], None]] = None,
) -> Outcome:
    outcome = Outcome()
    async with _session(users) as session:
        deadline = time.monotonic() + seconds

        async def user(number: int) -> None:
            talk = conversation(messages, session_length, tag, number)
            while time.monotonic() < deadline:
                sender, text = next(talk)
                await send(session, target, sender, text, outcome)

        async def sampler() -> None:
            while sample and time.monotonic() < deadline:
                sample()
                await asyncio.sleep(1)

        started = time.monotonic()
        await asyncio.gather(sampler(), *(user(n) for n in range(users)))
        outcome.elapsed = time.monotonic() - started
    return outcome
