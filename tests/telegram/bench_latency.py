"""Latency of the Telegram front (not a test): N questions through the fake Bot API.

Measures, for each question, the time from the update's arrival at the fake Bot API
server to the front's sendMessage of the answer (first message of the answer, and last
one once the chat is quiet). The front runs as its own process (`python -m
telegram_front`, long polling), as in production; Rasa is the one at --rasa-url (the real
stack, e.g. started by `make run`) or, without it, a fake Rasa in this process (to
measure the front alone).

    .venv/bin/python tests/telegram/bench_latency.py --rasa-url http://localhost:5005
    .venv/bin/python tests/telegram/bench_latency.py -n 100 --users 10

Users send their next question as soon as the last one is answered (closed loop).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for path in (REPO_ROOT, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from fake_bot_api import FakeBotAPI  # noqa: E402
from fake_rasa_rest import FakeRasa  # noqa: E402

from telegram_front.texts import load_texts  # noqa: E402

TOKEN = "424242:BENCH-token_" + secrets.token_hex(8)
QUESTIONS = [
    "est-ce que je peux avoir un titre de séjour si je porte plainte ?",
    "comment porter plainte contre mon patron",
    "je n'ai nulle part où dormir ce soir",
    "est ce que je peux voir un medecin sans papiers",
    "c'est quoi la traite des etres humains",
    "j'ai besoin d'un avocat mais je n'ai pas d'argent",
    "bonjour",
    "merci beaucoup",
    "je suis mineur et on me force a travailler",
    "je veux demander l'asile",
]


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(name, values):
    ms = [v * 1000 for v in values]
    return (
        f"{name:<16} n={len(ms):<4} median={statistics.median(ms):8.1f} ms   "
        f"p95={percentile(ms, 95):8.1f} ms   max={max(ms):8.1f} ms"
    )


async def wait_quiet(api: FakeBotAPI, chat: int, quiet: float) -> None:
    while True:
        count = len(api.sent("sendMessage", chat))
        await asyncio.sleep(quiet)
        if len(api.sent("sendMessage", chat)) == count:
            return


async def user(api, chat, questions, results, timeout, quiet):
    for question in questions:
        before = len(api.sent("sendMessage", chat))
        update = await api.push_text(chat, question)
        arrival = api.update_arrivals[update["update_id"]]
        first = await api.wait_for("sendMessage", chat_id=chat, count=before + 1, timeout=timeout)
        await wait_quiet(api, chat, quiet)
        last = api.sent("sendMessage", chat)[-1]
        results.append((first.at - arrival, last.at - arrival, first.shown))


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=100, help="questions measured (default 100)")
    parser.add_argument("--users", type=int, default=1, help="concurrent users (default 1)")
    parser.add_argument("--warmup", type=int, default=3, help="questions sent first, not measured")
    parser.add_argument("--rasa-url", help="Rasa to use (default: a fake Rasa in this process)")
    parser.add_argument("--rasa-timeout", type=float, default=30.0)
    parser.add_argument(
        "--quiet", type=float, default=0.3, help="seconds without a message that end an answer"
    )
    args = parser.parse_args()

    texts = load_texts()
    api = await FakeBotAPI(TOKEN).start()
    fake_rasa = None
    rasa_url = args.rasa_url
    if not rasa_url:
        fake_rasa = await FakeRasa().start()
        rasa_url = fake_rasa.url
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SENDER_ID_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api.base_url,
        RASA_URL=rasa_url,
        RASA_TIMEOUT_SECONDS=str(args.rasa_timeout),
        SENDER_ID_SECRET=secrets.token_hex(32),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    front = subprocess.Popen(
        [sys.executable, "-m", "telegram_front"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        await api.wait_for("setMyCommands", timeout=60)
        timeout = args.rasa_timeout + 30
        await user(
            api, 1, [QUESTIONS[i % len(QUESTIONS)] for i in range(args.warmup)], [], timeout, args.quiet
        )
        per_user = [[] for _ in range(args.users)]
        for i in range(args.n):
            per_user[i % args.users].append(QUESTIONS[i % len(QUESTIONS)])
        results = []
        started = time.perf_counter()
        await asyncio.gather(
            *(user(api, 1000 + u, qs, results, timeout, args.quiet) for u, qs in enumerate(per_user))
        )
        elapsed = time.perf_counter() - started
    finally:
        front.send_signal(signal.SIGTERM)
        try:
            front.wait(30)
        except subprocess.TimeoutExpired:
            front.kill()
        if fake_rasa:
            await fake_rasa.stop()
        await api.stop()

    apologies = sum(1 for _, _, text in results if texts.apology.split("\n")[0] in text)
    print(
        f"Rasa: {args.rasa_url or 'fake (in-process)'}; {args.n} questions, {args.users} user(s), "
        f"{elapsed:.1f} s ({args.n / elapsed:.1f} questions/s)"
    )
    print("Latency from the update's arrival at the Bot API to the answer's sendMessage:")
    print(summary("first message", [r[0] for r in results]))
    print(summary("whole answer", [r[1] for r in results]))
    if apologies:
        print(f"WARNING: {apologies} answer(s) were the apology (Rasa down or slower than the timeout)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
