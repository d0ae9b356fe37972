"""The SQL schema of the knowledge base, shared by the loader, the search and the store.

Tables are prefixed with kb_ so the knowledge base can share a PostgreSQL database with
other parts (such as Rasa's tracker store) without clashing.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import registry

mapper_registry = registry()
Base = mapper_registry.generate_base()

ID = String(64)


class TopicRow(Base):
    __tablename__ = "kb_topics"

    id = Column(ID, primary_key=True)
    title = Column(Text, nullable=False)
    audience = Column(String(20), nullable=False)
    version = Column(Integer, nullable=False)
    updated_on = Column(Date, nullable=False)
    answer = Column(Text, nullable=False)
    details = Column(Text, nullable=False)
    keywords = Column(JSON, nullable=False)  # list of strings, in file order


class SourceRow(Base):
    __tablename__ = "kb_sources"

    # (topic, position) rather than a serial id: reloading gives identical rows.
    topic_id = Column(ID, ForeignKey("kb_topics.id", ondelete="CASCADE"), primary_key=True)
    position = Column(Integer, primary_key=True)
    title = Column(Text, nullable=False)
    reference = Column(Text, nullable=False)
    url = Column(Text, nullable=False)
    verified_on = Column(Date, nullable=True)
    supports = Column(Text, nullable=False, default="", server_default="")  # what the source supports


class RelatedRow(Base):
    __tablename__ = "kb_related"

    topic_id = Column(ID, ForeignKey("kb_topics.id", ondelete="CASCADE"), primary_key=True)
    position = Column(Integer, primary_key=True)
    related_id = Column(ID, ForeignKey("kb_topics.id", ondelete="CASCADE"), nullable=False)


class SearchTermRow(Base):
    __tablename__ = "kb_search_terms"

    # term first in the key: the search looks terms up.
    term = Column(String(64), primary_key=True)
    topic_id = Column(ID, ForeignKey("kb_topics.id", ondelete="CASCADE"), primary_key=True)
    weight = Column(Integer, nullable=False)  # integers: sums are exact on every database


class TranslationRow(Base):
    __tablename__ = "kb_translations"

    topic_id = Column(ID, ForeignKey("kb_topics.id", ondelete="CASCADE"), primary_key=True)
    language = Column(String(16), primary_key=True)
    source_version = Column(Integer, nullable=False)
    reviewed = Column(Boolean, nullable=False)
    title = Column(Text, nullable=False)
    answer = Column(Text, nullable=False)
    details = Column(Text, nullable=False)


class StampRow(Base):
    """One row: a fingerprint of the loaded content, written by the same transaction as
    the content. Readers may keep the topics in memory while it stays the same."""

    __tablename__ = "kb_stamp"

    id = Column(Integer, primary_key=True)  # always 1
    content_hash = Column(String(64), nullable=False)


TABLES = [
    TopicRow.__table__,
    SourceRow.__table__,
    RelatedRow.__table__,
    SearchTermRow.__table__,
    TranslationRow.__table__,
    StampRow.__table__,
]


def make_engine(url: str) -> Engine:
    """A 2.0-style engine; pre-ping so a restarted PostgreSQL does not break the next call."""
    return create_engine(url, future=True, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """The tables; a database built before `supports` existed gets the column (empty
    until the loader refills the table, which it does in the same load)."""
    Base.metadata.create_all(engine)
    columns = {column["name"] for column in inspect(engine).get_columns(SourceRow.__tablename__)}
    if "supports" not in columns:
        with engine.begin() as connection:
            connection.execute(
                text(f"ALTER TABLE {SourceRow.__tablename__} ADD COLUMN supports TEXT NOT NULL DEFAULT ''")
            )
