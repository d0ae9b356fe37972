"""Content -> database, in one transaction: all of the new content, or none of it.

Everything is parsed, validated and indexed before the database is touched; then the
tables are emptied and refilled in a single transaction, so loading twice gives the same
rows, a removed topic disappears, and a failure leaves the previous database intact.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

import project_paths
from knowledge import config
from knowledge.content import ContentError, Topic, load_content, validate_topics
from knowledge.db import (
    RelatedRow,
    SearchTermRow,
    SourceRow,
    StampRow,
    TopicRow,
    TranslationRow,
    create_schema,
    make_engine,
)
from knowledge.search import index_rows
from knowledge.translations import read_translations, translations_beside, with_translations


def _rows(topics: tuple[Topic, ...]) -> dict:
    return {
        TopicRow: [
            {
                "id": t.id,
                "title": t.title,
                "audience": t.audience,
                "version": t.version,
                "updated_on": t.updated_on,
                "answer": t.answer,
                "details": t.details,
                "keywords": list(t.keywords),
            }
            for t in topics
        ],
        SourceRow: [
            {
                "topic_id": t.id,
                "position": i,
                "title": s.title,
                "reference": s.reference,
                "url": s.url,
                "verified_on": s.verified_on,
                "supports": s.supports,
            }
            for t in topics
            for i, s in enumerate(t.sources)
        ],
        RelatedRow: [
            {"topic_id": t.id, "position": i, "related_id": other}
            for t in topics
            for i, other in enumerate(t.related)
        ],
        SearchTermRow: index_rows(topics),
        TranslationRow: [
            {
                "topic_id": t.id,
                "language": tr.language,
                "source_version": tr.source_version,
                "reviewed": tr.reviewed,
                "title": tr.title,
                "answer": tr.answer,
                "details": tr.details,
            }
            for t in topics
            for tr in t.translations
        ],
        StampRow: [{"id": 1, "content_hash": hashlib.sha256(repr(topics).encode()).hexdigest()}],
    }


def build_database(url: str, topics: Iterable[Topic]) -> int:
    """Replace the database content with these topics; returns how many were loaded."""
    topics = tuple(sorted(topics, key=lambda t: t.id))
    problems = validate_topics(topics)
    if problems:
        raise ContentError(problems)
    rows = _rows(topics)  # computed before any write
    engine = make_engine(url)
    try:
        create_schema(engine)
        with Session(engine, future=True) as session, session.begin():
            # Children first on delete, parents first on insert (foreign keys).
            for model in (StampRow, TranslationRow, SearchTermRow, RelatedRow, SourceRow, TopicRow):
                session.execute(delete(model))
            for model in (TopicRow, SourceRow, RelatedRow, SearchTermRow, TranslationRow, StampRow):
                if rows[model]:
                    session.execute(insert(model), rows[model])
    finally:
        engine.dispose()
    return len(topics)


def load_database(
    url: str | None = None,
    content_dir: Path = project_paths.CONTENT_DIR,
    translations_dir: Path | None = None,
) -> int:
    """Parse the content and translation files (ContentError names file and line) and
    build the database. A missing translation is not an error here (the French text is
    then given): `python -m knowledge check` lists them."""
    topics = load_content(content_dir)
    translations, problems = read_translations(translations_dir or translations_beside(content_dir))
    if problems:
        raise ContentError(problems)
    return build_database(url or config.db_url(), with_translations(topics, translations))
