"""Loading content into the database: idempotent, atomic, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from kb_fixtures import TOPICS, topic_yaml
from sqlalchemy import select

from knowledge import loader
from knowledge.__main__ import main
from knowledge.content import ContentError, load_content
from knowledge.db import TABLES, make_engine
from knowledge.loader import build_database, load_database


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: two equal dumps mean the same database."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(tuple(row) for row in connection.execute(select(table)))
                for table in TABLES
            }
    finally:
        engine.dispose()


def test_load_fills_every_table(db_url, content_dir):
    assert load_database(db_url, content_dir) == len(TOPICS)
    rows = dump(db_url)
    assert [r[0] for r in rows["kb_topics"]] == sorted(TOPICS)
    assert len(rows["kb_sources"]) == len(TOPICS)
    assert ("porter-plainte", 1, "urgence") in rows["kb_related"]
    indexed = {r[1] for r in rows["kb_search_terms"]}
    assert indexed == set(TOPICS) - {"salutation"}  # conversation topics are not searched


def test_loading_twice_gives_the_same_database(db_url, content_dir):
    load_database(db_url, content_dir)
    first = dump(db_url)
    load_database(db_url, content_dir)
    assert dump(db_url) == first


def test_removed_topic_disappears(db_url, content_dir):
    load_database(db_url, content_dir)
    (content_dir / "sante.yml").unlink()
    load_database(db_url, content_dir)
    rows = dump(db_url)
    assert "sante" not in {r[0] for r in rows["kb_topics"]}
    assert all(r[0] != "sante" for r in rows["kb_sources"])
    assert all(r[1] != "sante" for r in rows["kb_search_terms"])


def test_changed_content_replaces_the_old(db_url, content_dir):
    load_database(db_url, content_dir)
    (content_dir / "sante.yml").write_text(topic_yaml("sante", title="Soins", version=2), encoding="utf-8")
    load_database(db_url, content_dir)
    row = next(r for r in dump(db_url)["kb_topics"] if r[0] == "sante")
    assert (row[1], row[3]) == ("Soins", 2)


def test_malformed_file_leaves_previous_database_intact(db_url, content_dir):
    load_database(db_url, content_dir)
    before = dump(db_url)
    (content_dir / "sante.yml").unlink()  # would remove a topic, but another file is broken
    path = content_dir / "urgence.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = "updated_on: [2026"  # line 5: unclosed sequence
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_database(db_url, content_dir)
    assert "urgence.yml:" in str(info.value)
    line = info.value.problems[0].line
    assert line is not None and 5 <= line <= 8
    assert dump(db_url) == before


def test_invalid_field_names_file_line_and_field(db_url, content_dir):
    load_database(db_url, content_dir)
    before = dump(db_url)
    (content_dir / "sante.yml").write_text(
        topic_yaml("sante").replace("version: 1", "version: -3"), encoding="utf-8"
    )
    with pytest.raises(ContentError, match=r"sante\.yml:4: version: must be a positive integer"):
        load_database(db_url, content_dir)
    assert dump(db_url) == before


def test_failure_inside_the_transaction_rolls_everything_back(db_url, content_dir, monkeypatch):
    load_database(db_url, content_dir)
    before = dump(db_url)
    (content_dir / "sante.yml").unlink()
    real_rows = loader._rows

    def rows_with_a_duplicate(topics):
        rows = real_rows(topics)
        rows[loader.SearchTermRow].append(dict(rows[loader.SearchTermRow][0]))  # same key twice
        return rows

    monkeypatch.setattr(loader, "_rows", rows_with_a_duplicate)
    with pytest.raises(Exception):
        load_database(db_url, content_dir)
    assert dump(db_url) == before  # the deletes were rolled back too


def test_unknown_related_topic_is_refused_before_writing(db_url, content_dir):
    topics = [t for t in load_content(content_dir) if t.id != "urgence"]  # porter-plainte needs it
    with pytest.raises(ContentError, match="unknown topic 'urgence'"):
        build_database(db_url, topics)


def test_cli_load_and_search(db_url, content_dir, capsys):
    assert main(["load", "--db", db_url, "--content", str(content_dir)]) == 0
    assert f"Loaded {len(TOPICS)} topics" in capsys.readouterr().out
    assert main(["search", "je veux porter plainte à la police", "--db", db_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert 1 <= len(lines) <= 3
    assert lines[0].split()[1] == "porter-plainte"
    float(lines[0].split()[0])  # a score comes first


def test_cli_load_reports_malformed_file(db_url, content_dir, capsys):
    (content_dir / "sante.yml").write_text("id: sante\n  title: x\n", encoding="utf-8")
    assert main(["load", "--db", db_url, "--content", str(content_dir)]) == 1
    assert "sante.yml:2:" in capsys.readouterr().err


def test_cli_search_without_database_says_so(tmp_path, capsys):
    path = tmp_path / "absent.db"
    assert main(["search", "plainte", "--db", f"sqlite:///{path}"]) == 1
    assert "python -m knowledge load" in capsys.readouterr().err
    assert not path.exists()


def test_a_database_built_before_supports_existed_is_upgraded(db_url, content_dir):
    """An existing knowledge base without the `supports` column gets it at the next load."""
    import asyncio

    from sqlalchemy import text

    from knowledge.store import KnowledgeBase

    load_database(db_url, content_dir)
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE kb_sources DROP COLUMN supports"))
    finally:
        engine.dispose()
    load_database(db_url, content_dir)
    base = KnowledgeBase(db_url)
    try:
        topic = asyncio.run(base.get("sante"))
    finally:
        base.close()
    assert topic.sources[0].supports == "Ce que dit la fiche sante"
