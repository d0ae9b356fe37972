"""Staff feedback on the assistant's answers (👍 / 👎 from the web widget).

One row per vote: the topic, intent and confidence of the answer, the question it
answered, the vote, an optional comment and the time. Nothing that identifies a person
is stored: no sender id, no IP address, no user agent. The table lives in the
conversation database (TRACKER_DB_URL) so that the retention job covers it too.

Maintainers read it when they retrain: `python -m bot.feedback [--down] [--since DAYS]`
prints the rows as JSON lines.
"""

import argparse
import datetime as dt
import json
import math
import re
import sys
import threading
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Mapping, Optional, Text

import sqlalchemy as sa
from sqlalchemy.orm import Session, declarative_base

from bot.channels import guard
from bot.disk_erasure import zero_deleted_rows
from bot.settings import tracker_db_url

VOTES = ("up", "down")
MAX_QUESTION_CHARS = guard.MAX_MESSAGE_CHARS
MAX_COMMENT_CHARS = 1000
TOPIC = guard.BUTTON_ENTITY_VALUES["topic"]
INTENT = re.compile(r"^[A-Za-z_-]{1,64}$")
FIELDS = {"topic", "intent", "confidence", "question", "vote", "comment"}

Base = declarative_base()


class Feedback(Base):
    __tablename__ = "feedback"

    id = sa.Column(sa.Integer, primary_key=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)
    topic = sa.Column(sa.String(64), nullable=False, index=True)
    intent = sa.Column(sa.String(64), nullable=True)
    confidence = sa.Column(sa.Float, nullable=True)
    question = sa.Column(sa.Text, nullable=False)
    vote = sa.Column(sa.String(4), nullable=False)
    comment = sa.Column(sa.Text, nullable=True)


@dataclass(frozen=True)
class FeedbackIn:
    """A validated vote, ready to store."""

    topic: Text
    intent: Optional[Text]
    confidence: Optional[float]
    question: Text
    vote: Text
    comment: Optional[Text] = None


class InvalidFeedback(ValueError):
    """The vote is malformed; the message says why, in French."""


def parse_feedback(data: Any) -> FeedbackIn:
    """Validates what the widget sent; raises InvalidFeedback with the reason."""
    if not isinstance(data, Mapping):
        raise InvalidFeedback("Le corps doit être un objet JSON.")
    unknown = set(data) - FIELDS
    if unknown:
        raise InvalidFeedback("Champs inconnus : " + ", ".join(sorted(map(str, unknown))) + ".")

    topic = data.get("topic")
    if not isinstance(topic, str) or not TOPIC.match(topic):
        raise InvalidFeedback("Champ « topic » manquant ou invalide.")

    intent = data.get("intent")
    if intent is not None and (not isinstance(intent, str) or not INTENT.match(intent)):
        raise InvalidFeedback("Champ « intent » invalide.")

    confidence = data.get("confidence")
    if confidence is not None:
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
            raise InvalidFeedback("Champ « confidence » invalide.")
        confidence = float(confidence)
        if not math.isfinite(confidence) or not 0.0 <= confidence <= 1.0:
            raise InvalidFeedback("Champ « confidence » hors de [0, 1].")

    question = data.get("question")
    if not isinstance(question, str) or len(question) > MAX_QUESTION_CHARS:
        raise InvalidFeedback("Champ « question » manquant, invalide ou trop long.")
    question = guard.clean_user_text(question)
    if not question:
        raise InvalidFeedback("Champ « question » vide.")

    vote = data.get("vote")
    if vote not in VOTES:
        raise InvalidFeedback("Champ « vote » : « up » ou « down ».")

    comment = data.get("comment")
    if comment is not None:
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS:
            raise InvalidFeedback(
                f"Champ « comment » invalide ou trop long (au plus {MAX_COMMENT_CHARS} caractères)."
            )
        comment = guard.CONTROL_CHARS.sub(" ", comment).strip() or None

    return FeedbackIn(str(topic), intent, confidence, str(question), vote, comment)


_engines: Dict[Text, sa.engine.Engine] = {}
_engines_lock = threading.Lock()


def engine(db_url: Optional[Text] = None) -> sa.engine.Engine:
    """One engine per database URL, with the feedback table created if missing."""
    url = db_url or tracker_db_url()
    with _engines_lock:
        if url not in _engines:
            created = sa.create_engine(url, future=True)
            zero_deleted_rows(created)  # a deleted vote's question does not stay on disk
            Base.metadata.create_all(created, tables=[Feedback.__table__])
            _engines[url] = created
        return _engines[url]


def add_feedback(
    feedback: FeedbackIn,
    db_url: Optional[Text] = None,
    now: Optional[dt.datetime] = None,
) -> int:
    """Stores one vote; returns its id."""
    row = Feedback(
        created_at=now or dt.datetime.now(dt.timezone.utc),
        **asdict(feedback),
    )
    with Session(engine(db_url), future=True) as session, session.begin():
        session.add(row)
        session.flush()
        return int(row.id)


def list_feedback(
    db_url: Optional[Text] = None,
    vote: Optional[Text] = None,
    since: Optional[dt.datetime] = None,
    limit: Optional[int] = None,
) -> List[Dict[Text, Any]]:
    """The stored votes, newest first, as plain dicts."""
    query = sa.select(Feedback).order_by(Feedback.created_at.desc(), Feedback.id.desc())
    if vote is not None:
        query = query.where(Feedback.vote == vote)
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    if limit is not None:
        query = query.limit(limit)
    with Session(engine(db_url), future=True) as session:
        return [
            {
                "id": row.id,
                "created_at": _utc(row.created_at).isoformat(),
                "topic": row.topic,
                "intent": row.intent,
                "confidence": row.confidence,
                "question": row.question,
                "vote": row.vote,
                "comment": row.comment,
            }
            for row in session.scalars(query)
        ]


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def delete_older_than(cutoff: dt.datetime, db_url: Optional[Text] = None) -> int:
    """Deletes the votes stored before `cutoff` (for the retention job); returns how many."""
    with Session(engine(db_url), future=True) as session, session.begin():
        result = session.execute(sa.delete(Feedback).where(Feedback.created_at < cutoff))
        return int(result.rowcount or 0)


def main(argv: Optional[List[Text]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.feedback",
        description="Affiche les avis des équipes (JSON, une ligne par avis, du plus récent au plus ancien).",
    )
    parser.add_argument("--db-url", help="URL SQLAlchemy (défaut : TRACKER_DB_URL)")
    parser.add_argument("--down", action="store_true", help="seulement les avis 👎")
    parser.add_argument("--since", type=int, metavar="JOURS", help="seulement les N derniers jours")
    args = parser.parse_args(argv)
    since = None
    if args.since is not None:
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=args.since)
    for row in list_feedback(args.db_url, vote="down" if args.down else None, since=since):
        print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
