"""The read API the actions use: topics by id, related topics, search.

Async methods run the synchronous SQLAlchemy work in a thread so the action server's
event loop never waits on the database.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from knowledge import config
from knowledge.content import Source, Topic
from knowledge.db import RelatedRow, SourceRow, TopicRow, make_engine
from knowledge.search import search_scores

T = TypeVar("T")


class KnowledgeUnavailable(Exception):
    """The knowledge base cannot be read (no database, server down, tables missing)."""


def fetch_topics(session: Session, ids: Iterable[str] | None = None) -> dict[str, Topic]:
    """Topics by id with their sources and related ids, in three queries."""
    topic_query = select(TopicRow)
    source_query = select(SourceRow).order_by(SourceRow.topic_id, SourceRow.position)
    related_query = select(RelatedRow).order_by(RelatedRow.topic_id, RelatedRow.position)
    if ids is not None:
        ids = list(ids)
        if not ids:
            return {}
        topic_query = topic_query.where(TopicRow.id.in_(ids))
        source_query = source_query.where(SourceRow.topic_id.in_(ids))
        related_query = related_query.where(RelatedRow.topic_id.in_(ids))
    sources: dict[str, list[Source]] = {}
    for row in session.execute(source_query).scalars():
        sources.setdefault(row.topic_id, []).append(
            Source(row.title, row.reference, row.url, row.verified_on))
    related: dict[str, list[str]] = {}
    for row in session.execute(related_query).scalars():
        related.setdefault(row.topic_id, []).append(row.related_id)
    return {
        row.id: Topic(row.id, row.title, row.audience, row.version, row.updated_on, row.answer,
                      row.details, tuple(sources.get(row.id, ())),
                      tuple(related.get(row.id, ())), tuple(row.keywords or ()))
        for row in session.execute(topic_query.order_by(TopicRow.id)).scalars()
    }


def require_sqlite_file(db_url: str) -> None:
    """SQLite would silently create an empty file: say the database is missing instead."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:") and not Path(url.database).exists():
        raise KnowledgeUnavailable(f"knowledge base unavailable: {url.database} does not exist "
                                   "(build it with: python -m knowledge load)")


class KnowledgeBase:
    """One engine per instance; create it once (at action server start) and reuse it."""

    def __init__(self, db_url: str | None = None):
        self.db_url = db_url or config.db_url()
        self._engine = make_engine(self.db_url)

    async def get(self, topic_id: str) -> Topic | None:
        return await self._run(lambda s: fetch_topics(s, [topic_id]).get(topic_id))

    async def related(self, topic_id: str) -> list[Topic]:
        """The related topics, in the order the content gives them."""
        def work(session: Session) -> list[Topic]:
            ids = session.execute(
                select(RelatedRow.related_id).where(RelatedRow.topic_id == topic_id)
                .order_by(RelatedRow.position)).scalars().all()
            found = fetch_topics(session, ids)
            return [found[i] for i in ids if i in found]
        return await self._run(work)

    async def with_related(self, topic_id: str) -> tuple[Topic | None, list[Topic]]:
        """A topic and its related topics (as `related` orders them), in one database
        session: what an answer needs, for half the work of `get` then `related`."""
        def work(session: Session) -> tuple[Topic | None, list[Topic]]:
            topic = fetch_topics(session, [topic_id]).get(topic_id)
            if topic is None:
                return None, []
            found = fetch_topics(session, topic.related)
            return topic, [found[i] for i in topic.related if i in found]
        return await self._run(work)

    async def search(self, text: str, limit: int = 3) -> list[Topic]:
        """Closest topics to a free-text question, best first (may be empty)."""
        def work(session: Session) -> list[Topic]:
            ids = [topic_id for topic_id, _ in search_scores(session, text, limit)]
            found = fetch_topics(session, ids)
            return [found[i] for i in ids if i in found]
        return await self._run(work)

    async def all_topics(self) -> list[Topic]:
        return await self._run(lambda s: list(fetch_topics(s).values()))

    def close(self) -> None:
        self._engine.dispose()

    async def _run(self, work: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self._in_session, work)

    def _in_session(self, work: Callable[[Session], T]) -> T:
        require_sqlite_file(self.db_url)
        try:
            with Session(self._engine, future=True) as session:
                return work(session)
        except SQLAlchemyError as exc:
            raise KnowledgeUnavailable(f"knowledge base unavailable: {exc.__class__.__name__}: "
                                       f"{str(exc).splitlines()[0]}") from exc
