"""`make inbox`: the user messages the assistant did not handle well, for review.

    python -m retrain.inbox [--out var/inbox.yml] [--threshold 0.7] [--since DAYS]
                                [--db-url URL]

Reads the conversation store (the ``events`` table of TRACKER_DB_URL, Rasa's SQL
tracker store) and the staff's votes (the ``feedback`` table of the same database,
bot/feedback.py), and keeps the user messages that

- ended in ``incompris`` (Rasa's ``nlu_fallback``)              -> source ``fallback``
- were answered ``hors-sujet``                                  -> source ``hors-sujet``
- were understood with a confidence under the review threshold  -> source ``low_confidence``
- got a 👎 in the web widget                                    -> source ``feedback_down``

Each message is masked (retrain/masking.py) before anything else, then messages
are grouped when they are the same text (case and spacing aside). Messages that are
already training examples, held-out examples (they must never be trained on) or that
a maintainer marked ``ignore`` before are left out.

The review file is a YAML list; the maintainer writes the right intent in ``intent``
(or ``ignore``), then runs ``make accept-inbox``::

    - id: 3f9c0a1b2c4d          # do not edit (links the entry to its messages)
      text: "j'ai pas de mutuelle pour le dentiste"
      predicted_intent: sante   # the model's best guess (also for nlu_fallback)
      confidence: 0.25
      count: 3                  # flagged turns + 👎 votes
      sources: [fallback]
      intent: ''                # <- write the right intent, or "ignore"

Running it again refreshes counts and keeps the annotations already written. The file
lives in var/ (git-ignored) with mode 600. Message texts are never printed or logged:
the command prints counts only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set

import sqlalchemy as sa
import yaml

from bot.settings import tracker_db_url
from knowledge.config import FALLBACK_INTENT
from project_paths import HELDOUT_DIR, NLU_DATA_DIR, REPO_ROOT
from retrain.masking import mask_personal_data
from retrain.trainingdata import example_key, read_examples

DEFAULT_INBOX = REPO_ROOT / "var" / "inbox.yml"
DEFAULT_DATA_DIR = NLU_DATA_DIR
DEFAULT_HELDOUT_DIR = HELDOUT_DIR
# Understood, but with less confidence than this: worth a look. Above the
# FallbackClassifier's threshold (config.yml), under which Rasa already says
# "incompris".
DEFAULT_THRESHOLD = 0.7

SOURCES = ("fallback", "hors-sujet", "low_confidence", "feedback_down")
OUT_OF_SCOPE_INTENT = "hors-sujet"
IGNORE = "ignore"
FIELDS = ("id", "text", "predicted_intent", "confidence", "count", "sources", "intent", "rewrite", "approved")

HEADER = """\
# Messages to review (make inbox). Masked, but names, places and other details may remain.
# For each entry, write in `intent` the intent the message should have had (one of
# domain.yml's intents, e.g. sante), or `ignore`; leave it '' to decide later.
# To accept an entry, either write the question in your own words in `rewrite`
# (preferred), or check that nothing identifying remains in `text` (replace any detail
# by <NAME>, <PLACE>, ...) and set `approved: true`. Do not edit `id`. Then: make accept-inbox.
# Entries whose messages were erased or expired disappear at the next make inbox /
# make accept-inbox. This file is git-ignored: never commit it or copy it elsewhere.
"""


def ignored_path(inbox: Path) -> Path:
    """Where the ids of the entries marked ``ignore`` are kept (beside the inbox)."""
    return Path(inbox).with_name(Path(inbox).stem + "_ignored.txt")


def entry_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


@dataclass
class Flagged:
    """One flagged message (one turn, or one vote), already masked."""

    text: str
    predicted_intent: Optional[str]
    confidence: Optional[float]
    sources: Set[str]
    timestamp: float


@dataclass
class Entry:
    id: str
    text: str
    predicted_intent: Optional[str]
    confidence: Optional[float]
    count: int
    sources: Set[str] = field(default_factory=set)
    intent: str = ""
    latest: float = 0.0
    rewrite: str = ""
    approved: bool = False

    def as_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "predicted_intent": self.predicted_intent,
            "confidence": None if self.confidence is None else round(float(self.confidence), 3),
            "count": self.count,
            "sources": [s for s in SOURCES if s in self.sources],
            "intent": self.intent or "",
            "rewrite": self.rewrite or "",
            "approved": bool(self.approved),
        }


def flag_sources(
    intent: Optional[str], confidence: Optional[float], topic: Optional[str], threshold: float
) -> Set[str]:
    """Why a turn deserves a review (empty: it does not)."""
    sources: Set[str] = set()
    if intent == FALLBACK_INTENT or topic == "incompris":
        sources.add("fallback")
    if intent == OUT_OF_SCOPE_INTENT or topic == "hors-sujet":
        sources.add("hors-sujet")
    if "fallback" not in sources and confidence is not None and confidence < threshold:
        sources.add("low_confidence")
    return sources


def _best_guess(parse_data: Dict[str, Any]) -> tuple:
    """The predicted intent and confidence; for nlu_fallback, the classifier's best
    other intent (what it would have answered)."""
    intent = parse_data.get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    if name == FALLBACK_INTENT:
        for ranked in parse_data.get("intent_ranking") or []:
            if ranked.get("name") and ranked.get("name") != FALLBACK_INTENT:
                return ranked["name"], ranked.get("confidence")
    return name, confidence


def _loads(data: Any) -> Dict[str, Any]:
    if isinstance(data, dict):
        return data
    try:
        value = json.loads(data or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _is_typed(text: Optional[str]) -> bool:
    """Typed text (button payloads, which the channels keep as "/intent...", are not)."""
    return bool(text and text.strip() and not text.strip().startswith("/"))


def tracker_messages(
    db_url: str, threshold: float = DEFAULT_THRESHOLD, since: Optional[float] = None
) -> Iterator[Flagged]:
    """The flagged user turns of the conversation store.

    A user turn is an ``events`` row of type ``user`` (its ``data`` holds the text and
    ``parse_data``); the topic answered is the ``custom.topic`` of the bot rows that
    follow it in the same conversation, before the next user row.
    """
    engine = sa.create_engine(db_url, future=True)
    try:
        if not sa.inspect(engine).has_table("events"):
            return
        events = sa.Table("events", sa.MetaData(), autoload_with=engine)
        query = (
            sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.type_name.in_(("user", "bot")))
            .order_by(events.c.sender_id, events.c.timestamp, events.c.id)
        )
        if since is not None:
            query = query.where(events.c.timestamp >= since)
        with engine.connect() as connection:
            pending: Optional[Dict[str, Any]] = None
            sender = None
            for row in connection.execution_options(stream_results=True).execute(query):
                if row.sender_id != sender or row.type_name == "user":
                    flagged = _finish(pending, threshold)
                    if flagged:
                        yield flagged
                    pending, sender = None, row.sender_id
                data = _loads(row.data)
                if row.type_name == "user":
                    pending = {"data": data, "topic": None, "timestamp": row.timestamp or 0.0}
                elif pending is not None and pending["topic"] is None:
                    custom = (data.get("data") or {}).get("custom")
                    if isinstance(custom, dict) and isinstance(custom.get("topic"), str):
                        pending["topic"] = custom["topic"]
            flagged = _finish(pending, threshold)
            if flagged:
                yield flagged
    finally:
        engine.dispose()


def _finish(pending: Optional[Dict[str, Any]], threshold: float) -> Optional[Flagged]:
    if pending is None:
        return None
    data = pending["data"]
    text = data.get("text")
    if not _is_typed(text):
        return None
    parse_data = data.get("parse_data") or {}
    raw = parse_data.get("intent") or {}
    sources = flag_sources(raw.get("name"), raw.get("confidence"), pending["topic"], threshold)
    if not sources:
        return None
    intent, confidence = _best_guess(parse_data)
    return Flagged(mask_personal_data(text), intent, confidence, sources, float(pending["timestamp"]))


def feedback_messages(db_url: str, since: Optional[float] = None) -> Iterator[Flagged]:
    """The questions of the 👎 votes (bot/feedback.py's table), when there is one."""
    engine = sa.create_engine(db_url, future=True)
    try:
        has_table = sa.inspect(engine).has_table("feedback")
    finally:
        engine.dispose()
    if not has_table:
        return
    from bot import feedback  # imports the channels, so Rasa (seconds): only when there are votes

    after = dt.datetime.fromtimestamp(since, dt.timezone.utc) if since is not None else None
    for row in feedback.list_feedback(db_url, vote="down", since=after):
        if not _is_typed(row["question"]):
            continue
        moment = dt.datetime.fromisoformat(row["created_at"]).timestamp()
        yield Flagged(
            mask_personal_data(row["question"]), row["intent"], row["confidence"], {"feedback_down"}, moment
        )


def group(
    flagged: Iterable[Flagged], skip_keys: Set[str] = frozenset(), skip_ids: Set[str] = frozenset()
) -> List[Entry]:
    """One entry per distinct (masked) text; the latest turn gives the prediction."""
    entries: Dict[str, Entry] = {}
    for item in flagged:
        key = example_key(item.text)
        if not key or key in skip_keys or entry_id(key) in skip_ids:
            continue
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = Entry(
                entry_id(key), item.text, item.predicted_intent, item.confidence, 0, set(), "", item.timestamp
            )
        entry.count += 1
        entry.sources |= item.sources
        if item.timestamp >= entry.latest:
            entry.latest = item.timestamp
            entry.text = item.text
            if item.predicted_intent or entry.predicted_intent is None:
                entry.predicted_intent, entry.confidence = item.predicted_intent, item.confidence
    return sorted(entries.values(), key=_order)


def _order(entry: Entry) -> tuple:
    confidence = entry.confidence if entry.confidence is not None else 0.0
    return (-entry.count, confidence, entry.text.casefold())


def merge(fresh: List[Entry], existing: List[Dict[str, Any]]) -> List[Entry]:
    """The new inbox: fresh entries, with the annotations (intent, text fixes, rewrite,
    approval) already written in the existing file. Entries whose messages are gone
    (erased by their author, or past the retention period) are dropped, annotated or
    not: a victim's words must not outlive their conversation."""
    by_id = {str(e.get("id")): e for e in existing if isinstance(e, dict) and e.get("id")}
    for entry in fresh:
        old = by_id.get(entry.id)
        if old is not None:
            entry.intent = str(old.get("intent") or "").strip()
            if isinstance(old.get("text"), str) and old["text"].strip():
                entry.text = mask_personal_data(old["text"])
            entry.rewrite = str(old.get("rewrite") or "").strip()
            entry.approved = old.get("approved") is True
    return sorted(fresh, key=_order)


def stored_ids(db_url: str) -> Set[str]:
    """The entry ids of every typed message still in the conversation store (user turns
    and 👎 votes' questions), whatever their confidence."""
    ids: Set[str] = set()
    engine = sa.create_engine(db_url, future=True)
    try:
        if sa.inspect(engine).has_table("events"):
            events = sa.Table("events", sa.MetaData(), autoload_with=engine)
            query = sa.select(events.c.data).where(events.c.type_name == "user")
            with engine.connect() as connection:
                for (data,) in connection.execution_options(stream_results=True).execute(query):
                    text = _loads(data).get("text")
                    if _is_typed(text):
                        ids.add(entry_id(example_key(mask_personal_data(text))))
        has_feedback = sa.inspect(engine).has_table("feedback")
    finally:
        engine.dispose()
    if has_feedback:
        from bot import feedback  # as above: Rasa is loaded only when there are votes

        ids |= {
            entry_id(example_key(mask_personal_data(row["question"])))
            for row in feedback.list_feedback(db_url)
            if _is_typed(row["question"])
        }
    return ids


def prune_inbox(path: Path, db_url: str) -> int:
    """Drops the entries whose messages are no longer stored; returns how many."""
    path = Path(path)
    if not path.exists():
        return 0
    entries = read_inbox(path)
    alive = stored_ids(db_url)
    kept = [e for e in entries if isinstance(e, dict) and str(e.get("id")) in alive]
    if len(kept) != len(entries):
        write_inbox(path, kept)
    return len(entries) - len(kept)


class InboxFileError(ValueError):
    """The review file cannot be read (a YAML mistake while annotating)."""


def read_inbox(path: Path) -> List[Dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise InboxFileError(
            f"{path} is not valid YAML{where}: fix it (the quotes, the indentation) and run the command again"
        ) from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise InboxFileError(f"{path}: the inbox must be a YAML list of entries")
    return data


def write_inbox(path: Path, entries: Iterable[Any]) -> None:
    """Writes the review file atomically, readable by its owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blank = {"rewrite": "", "approved": False}
    rows = [
        e.as_dict()
        if isinstance(e, Entry)
        else {k: blank.get(k) if e.get(k) is None else e.get(k) for k in FIELDS}
        for e in entries
    ]
    body = (
        yaml.safe_dump(rows, allow_unicode=True, sort_keys=False, width=100000, default_flow_style=None)
        if rows
        else "[]\n"
    )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(HEADER + body)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_ignored(path: Path) -> Set[str]:
    path = Path(path)
    if not path.exists():
        return set()
    return {
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }


def export_inbox(
    db_url: str,
    inbox: Path = DEFAULT_INBOX,
    threshold: float = DEFAULT_THRESHOLD,
    since: Optional[float] = None,
    data_dir: Path = DEFAULT_DATA_DIR,
    heldout_dir: Path = DEFAULT_HELDOUT_DIR,
) -> Dict[str, Any]:
    """Builds (or refreshes) the review file; returns counts (never texts)."""
    skip = {example_key(e.text) for e in read_examples(data_dir)}
    skip |= {example_key(e.text) for e in read_examples(heldout_dir)}
    ignored = read_ignored(ignored_path(inbox))
    flagged = list(tracker_messages(db_url, threshold, since)) + list(feedback_messages(db_url, since))
    fresh = group(flagged, skip, ignored)
    existing = read_inbox(inbox)
    entries = merge(fresh, existing)
    write_inbox(inbox, entries)
    by_source = {s: sum(1 for e in entries if s in e.sources) for s in SOURCES}
    known = {str(o.get("id")) for o in existing if isinstance(o, dict)}
    return {
        "entries": len(entries),
        "annotated": sum(1 for e in entries if e.intent),
        "new": sum(1 for e in entries if e.id not in known),
        "flagged_turns": len(flagged),
        "by_source": by_source,
        "path": str(inbox),
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retrain.inbox", description="Export the messages to review into the inbox file."
    )
    parser.add_argument("--db-url", default=None, help="conversation database (default: TRACKER_DB_URL)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_INBOX, help="review file (default: var/inbox.yml)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"review understood messages under this confidence (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument("--since", type=float, metavar="DAYS", help="only the last DAYS days")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="training data folder")
    parser.add_argument("--heldout", type=Path, default=DEFAULT_HELDOUT_DIR, help="held-out folder")
    args = parser.parse_args(argv)
    since = None if args.since is None else dt.datetime.now(dt.timezone.utc).timestamp() - args.since * 86400
    try:
        summary = export_inbox(
            args.db_url or tracker_db_url(), args.out, args.threshold, since, args.data, args.heldout
        )
    except InboxFileError as error:
        print(error, file=sys.stderr)
        return 1
    sources = ", ".join(f"{k} {v}" for k, v in summary["by_source"].items())
    print(
        f"Inbox {summary['path']}: {summary['entries']} message(s) to review "
        f"({summary['new']} new, {summary['annotated']} already annotated; {sources})."
    )
    if summary["entries"]:
        print("Write the right intent (or 'ignore') in each entry's `intent`, then: make accept-inbox")
    return 0


if __name__ == "__main__":
    sys.exit(main())
