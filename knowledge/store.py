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
from knowledge.db import RelatedRow, SourceRow, StampRow, TopicRow, TranslationRow, make_engine
from knowledge.search import search_scores
from knowledge.translations import Translation

T = TypeVar("T")


class KnowledgeUnavailable(Exception):
    """The knowledge base cannot be read (no database, server down, tables missing)."""


def fetch_topics(session: Session, ids: Iterable[str] | None = None) -> dict[str, Topic]:
    """Topics by id with their sources, related ids and translations, in four queries."""
    topic_query = select(TopicRow)
    source_query = select(SourceRow).order_by(SourceRow.topic_id, SourceRow.position)
    related_query = select(RelatedRow).order_by(RelatedRow.topic_id, RelatedRow.position)
    translation_query = select(TranslationRow).order_by(TranslationRow.topic_id, TranslationRow.language)
    if ids is not None:
        ids = list(ids)
        if not ids:
            return {}
        topic_query = topic_query.where(TopicRow.id.in_(ids))
        source_query = source_query.where(SourceRow.topic_id.in_(ids))
        related_query = related_query.where(RelatedRow.topic_id.in_(ids))
        translation_query = translation_query.where(TranslationRow.topic_id.in_(ids))
    sources: dict[str, list[Source]] = {}
    for row in session.execute(source_query).scalars():
        sources.setdefault(row.topic_id, []).append(
            Source(row.title, row.reference, row.url, row.verified_on, row.supports or "")
        )
    related: dict[str, list[str]] = {}
    for row in session.execute(related_query).scalars():
        related.setdefault(row.topic_id, []).append(row.related_id)
    translations: dict[str, list[Translation]] = {}
    for row in session.execute(translation_query).scalars():
        translations.setdefault(row.topic_id, []).append(
            Translation(
                row.topic_id,
                row.language,
                row.source_version,
                row.reviewed,
                row.title,
                row.answer,
                row.details,
            )
        )
    return {
        row.id: Topic(
            row.id,
            row.title,
            row.audience,
            row.version,
            row.updated_on,
            row.answer,
            row.details,
            tuple(sources.get(row.id, ())),
            tuple(related.get(row.id, ())),
            tuple(row.keywords or ()),
            tuple(translations.get(row.id, ())),
        )
        for row in session.execute(topic_query.order_by(TopicRow.id)).scalars()
    }


def require_sqlite_file(db_url: str) -> None:
    """SQLite would silently create an empty file: say the database is missing instead."""
    url = make_url(db_url)
    if (
        url.get_backend_name() == "sqlite"
        and url.database
        and url.database != ":memory:"
        and not url.database.startswith("file:")
        and not Path(url.database).exists()
    ):
        raise KnowledgeUnavailable(
            f"knowledge base unavailable: {url.database} does not exist "
            "(build it with: python -m knowledge load)"
        )


class KnowledgeBase:
    """One engine per instance; create it once (at action server start) and reuse it.

    Every read checks the content stamp the loader writes with the content (one small
    query) and keeps the topics in memory while it is unchanged: a reloaded knowledge
    base is seen at the next question, and an unreachable one is reported at once."""

    def __init__(self, db_url: str | None = None):
        self.db_url = db_url or config.db_url()
        self._engine = make_engine(self.db_url)
        self._cache: tuple[str, dict[str, Topic]] | None = None  # (stamp, every topic)

    async def get(self, topic_id: str) -> Topic | None:
        return await self._run(lambda s: self._topics(s).get(topic_id))

    async def get_many(self, topic_ids: Iterable[str]) -> list[Topic]:
        """The topics with these ids, in this order; unknown ids are left out."""
        ids = list(topic_ids)
        return await self._run(lambda s: [t for t in map(self._topics(s).get, ids) if t])

    async def with_related(self, topic_id: str) -> tuple[Topic | None, list[Topic]]:
        """A topic and its related topics, in the order the content gives them: what an
        answer needs, in one read."""

        def work(session: Session) -> tuple[Topic | None, list[Topic]]:
            topics = self._topics(session)
            topic = topics.get(topic_id)
            return topic, ([topics[i] for i in topic.related if i in topics] if topic else [])

        return await self._run(work)

    async def search(self, text: str, limit: int = 3) -> list[Topic]:
        """Closest topics to a free-text question, best first (may be empty)."""

        def work(session: Session) -> list[Topic]:
            ids = [topic_id for topic_id, _ in search_scores(session, text, limit)]
            topics = self._topics(session)
            return [topics[i] for i in ids if i in topics]

        return await self._run(work)

    async def all_topics(self) -> list[Topic]:
        return await self._run(lambda s: list(self._topics(s).values()))

    def _topics(self, session: Session) -> dict[str, Topic]:
        """Every topic by id: from memory while the stamp is the one they were read with."""
        try:
            stamp = session.execute(select(StampRow.content_hash)).scalar()
        except SQLAlchemyError:  # a database loaded before stamps existed: no memory
            session.rollback()
            return fetch_topics(session)
        cached = self._cache
        if stamp is not None and cached is not None and cached[0] == stamp:
            return cached[1]
        topics = fetch_topics(session)
        if stamp is not None:
            self._cache = (stamp, topics)
        return topics

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
            raise KnowledgeUnavailable(
                f"knowledge base unavailable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
            ) from exc
