"""Closest topics for a free-text French question (the dialogue's "did you mean" buttons).

The term index is computed in Python at load time and the query only sums integer
weights in SQL, so SQLite and PostgreSQL rank identically.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.content import Topic
from knowledge.db import SearchTermRow
from knowledge.text import terms

# Short, hand-written fields say more about a topic than the long details.
FIELD_WEIGHTS = {"title": 3.0, "keywords": 3.0, "answer": 1.5, "details": 1.0}
SCALE = 1000  # weights are stored as integers (thousandths)
NOT_SEARCHED = frozenset({"conversation"})  # greetings etc. are never "did you mean" buttons


def _fields(topic: Topic) -> dict[str, str]:
    return {
        "title": f"{topic.title} {topic.id.replace('-', ' ')}",
        "keywords": " ".join(topic.keywords),
        "answer": topic.answer,
        "details": topic.details,
    }


def index_rows(topics: Iterable[Topic]) -> list[dict]:
    """(term, topic_id, weight) rows: field-weighted, dampened term frequency times idf."""
    searchable = [t for t in topics if t.audience not in NOT_SEARCHED]
    raw: dict[str, dict[str, float]] = {}
    for topic in searchable:
        scores: dict[str, float] = defaultdict(float)
        for field, text in _fields(topic).items():
            for term, count in Counter(terms(text)).items():
                scores[term] += FIELD_WEIGHTS[field] * (1.0 + math.log(count))
        raw[topic.id] = scores
    document_frequency = Counter(term for scores in raw.values() for term in scores)
    total = len(raw)
    rows = []
    for topic_id in sorted(raw):
        for term, score in sorted(raw[topic_id].items()):
            idf = math.log(1.0 + total / document_frequency[term])
            rows.append({"term": term, "topic_id": topic_id, "weight": round(score * idf * SCALE)})
    return rows


def query_terms(text: str) -> list[str]:
    """Distinct terms of the question: repeating a word does not make it count more."""
    return sorted(set(terms(text)))


def search_scores(session: Session, text: str, limit: int = 3) -> list[tuple[str, float]]:
    """(topic_id, score) of the best topics, best first; ties broken by id."""
    wanted = query_terms(text)
    if not wanted or limit <= 0:
        return []
    score = func.sum(SearchTermRow.weight).label("score")
    statement = (
        select(SearchTermRow.topic_id, score)
        .where(SearchTermRow.term.in_(wanted))
        .group_by(SearchTermRow.topic_id)
        .order_by(score.desc(), SearchTermRow.topic_id)
        .limit(limit)
    )
    return [(topic_id, int(total) / SCALE) for topic_id, total in session.execute(statement)]
