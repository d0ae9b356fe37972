"""The async read API the actions use."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import date

import pytest
from kb_fixtures import TOPICS

from knowledge import store
from knowledge.content import Source, load_content
from knowledge.loader import load_database
from knowledge.store import KnowledgeBase, KnowledgeUnavailable


@pytest.fixture
def kb(db_url, content_dir):
    load_database(db_url, content_dir)
    base = KnowledgeBase(db_url)
    yield base
    base.close()


def test_get_returns_the_topic_as_in_the_content(kb, content_dir):
    expected = {t.id: t for t in load_content(content_dir)}
    for topic_id in TOPICS:
        assert asyncio.run(kb.get(topic_id)) == expected[topic_id]
    topic = asyncio.run(kb.get("titre-sejour"))
    assert topic.sources == (
        Source(
            "Source sur titre-sejour",
            "Code, art. 1",
            "https://example.org/titre-sejour",
            date(2026, 11, 20),
            "Ce que dit la fiche titre-sejour",
        ),
    )


def test_get_unknown_topic_is_none(kb):
    assert asyncio.run(kb.get("nulle-part")) is None


def test_related_keeps_content_order(kb):
    assert [t.id for t in asyncio.run(kb.with_related("porter-plainte"))[1]] == ["titre-sejour", "urgence"]
    assert asyncio.run(kb.with_related("sante"))[1] == []
    assert asyncio.run(kb.with_related("nulle-part")) == (None, [])


def test_a_reloaded_knowledge_base_is_seen_at_the_next_read(db_url, content_dir, kb):
    before = asyncio.run(kb.get("sante"))
    assert asyncio.run(kb.get("sante")) is before  # unchanged content: read from memory
    changed = content_dir / "sante.yml"
    changed.write_text(
        changed.read_text(encoding="utf-8").replace(
            before.answer.strip().splitlines()[0], "Réponse corrigée."
        ),
        encoding="utf-8",
    )
    load_database(db_url, content_dir)
    after = asyncio.run(kb.get("sante"))
    assert after.answer.startswith("Réponse corrigée.") and after != before


def test_a_database_without_stamp_is_read_every_time(db_url, content_dir, kb):
    from sqlalchemy import text

    from knowledge.db import make_engine

    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE kb_stamp"))  # as loaded by an older version
    engine.dispose()
    first = asyncio.run(kb.get("sante"))
    assert first is not None and asyncio.run(kb.get("sante")) is not first
    assert [t.id for t in asyncio.run(kb.with_related("porter-plainte"))[1]] == ["titre-sejour", "urgence"]


def test_get_many_keeps_the_order_asked_and_leaves_out_unknown_ids(kb):
    assert [t.id for t in asyncio.run(kb.get_many(["urgence", "nulle-part", "sante"]))] == [
        "urgence",
        "sante",
    ]
    assert asyncio.run(kb.get_many([])) == []


def test_with_related_is_the_topic_and_each_related_topic(kb):
    for topic_id in TOPICS:
        topic, related = asyncio.run(kb.with_related(topic_id))
        assert topic == asyncio.run(kb.get(topic_id))
        assert related == [asyncio.run(kb.get(i)) for i in topic.related]


def test_all_topics(kb):
    assert [t.id for t in asyncio.run(kb.all_topics())] == sorted(TOPICS)


def test_search_returns_topics_best_first(kb):
    found = asyncio.run(kb.search("je voudrais une carte de sejour"))
    assert found[0].id == "titre-sejour"
    assert len(asyncio.run(kb.search("papiers plainte police danger soins", limit=2))) == 2
    assert asyncio.run(kb.search("")) == []


def test_calls_run_concurrently_off_the_event_loop(kb, monkeypatch):
    async def warm_up():  # open two pooled connections first: only the work is timed
        await asyncio.gather(kb.get("sante"), kb.get("urgence"))

    asyncio.run(warm_up())
    real = store.KnowledgeBase._topics
    threads = set()

    def slow_read(self, session):
        threads.add(threading.get_ident())
        time.sleep(0.5)
        return real(self, session)

    monkeypatch.setattr(store.KnowledgeBase, "_topics", slow_read)

    async def scenario():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        started = time.monotonic()
        topics = await asyncio.gather(kb.get("sante"), kb.get("urgence"))
        elapsed = time.monotonic() - started
        task.cancel()
        return topics, ticks, elapsed

    topics, ticks, elapsed = asyncio.run(scenario())
    assert [t.id for t in topics] == ["sante", "urgence"]
    assert ticks >= 15  # the loop kept running while the database worked
    assert elapsed < 0.9  # the two calls overlapped (one after the other: over 1 s)
    assert threading.get_ident() not in threads


def test_missing_sqlite_file_is_unavailable_and_not_created(tmp_path):
    path = tmp_path / "absent.db"
    kb = KnowledgeBase(f"sqlite:///{path}")
    with pytest.raises(KnowledgeUnavailable):
        asyncio.run(kb.get("sante"))
    assert not path.exists()


def test_database_without_tables_is_unavailable(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(KnowledgeUnavailable):
        asyncio.run(KnowledgeBase(f"sqlite:///{path}").search("plainte"))


def test_unreachable_server_is_unavailable():
    kb = KnowledgeBase("postgresql://kb:kb@127.0.0.1:1/nothing?connect_timeout=2")
    with pytest.raises(KnowledgeUnavailable):
        asyncio.run(kb.all_topics())


def test_default_url_comes_from_environment(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("KNOWLEDGE_DB_URL", url)
    assert KnowledgeBase().db_url == url
