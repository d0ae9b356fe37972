"""Parsing of content files: the schema, and errors that name file, line and field."""

from __future__ import annotations

from datetime import date

import pytest
from kb_fixtures import topic_yaml

from knowledge.content import ContentError, Source, Topic, load_content, parse_topic_file


def test_parses_every_key_into_frozen_dataclasses(content_dir):
    topic = parse_topic_file(content_dir / "titre-sejour.yml")
    assert isinstance(topic, Topic)
    assert topic.id == "titre-sejour"
    assert topic.title == "Titre de séjour pour les victimes"
    assert topic.audience == "victime"
    assert topic.version == 1
    assert topic.updated_on == date(2026, 11, 26)
    assert topic.answer.startswith("Si vous portez plainte")
    assert topic.details.startswith("La carte est renouvelée")
    assert topic.sources == (
        Source(
            "Source sur titre-sejour",
            "Code, art. 1",
            "https://example.org/titre-sejour",
            date(2026, 11, 20),
            "Ce que dit la fiche titre-sejour",
        ),
    )
    assert topic.related == ("porter-plainte",)
    assert topic.keywords == ("papiers", "carte de séjour", "régularisation")
    with pytest.raises(AttributeError):
        topic.title = "autre"  # frozen


def test_load_content_returns_all_topics_sorted(content_dir):
    ids = [t.id for t in load_content(content_dir)]
    assert ids == sorted(ids) == ["porter-plainte", "salutation", "sante", "titre-sejour", "urgence"]


def test_optional_keys_and_verified_on_may_be_absent(content_dir):
    path = content_dir / "sante.yml"
    text = topic_yaml("sante").replace("    verified_on: 2026-11-20\n", "")
    text = "\n".join(l for l in text.splitlines() if not l.startswith(("details", "related", "keywords")))
    path.write_text(text + "\n", encoding="utf-8")
    topic = parse_topic_file(path)
    assert topic.sources[0].verified_on is None
    assert (topic.details, topic.related, topic.keywords) == ("", (), ())


def _error(path) -> str:
    with pytest.raises(ContentError) as info:
        parse_topic_file(path)
    return str(info.value)


def test_yaml_syntax_error_names_file_and_line(content_dir):
    path = content_dir / "sante.yml"
    lines = topic_yaml("sante").splitlines()
    lines[3] = "version: [1"  # line 4: unclosed flow sequence
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = _error(path)
    assert "sante.yml:" in message and "invalid YAML" in message
    line = int(message.split("sante.yml:")[1].split(":")[0])
    assert 4 <= line <= 6  # PyYAML reports where it noticed the problem


def test_bad_indentation_names_the_line(content_dir):
    path = content_dir / "sante.yml"
    lines = topic_yaml("sante").splitlines()
    lines[2] = "   audience: victime"  # line 3
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "sante.yml:3:" in _error(path)


@pytest.mark.parametrize(
    "old, new, field, words",
    [
        ("version: 1", "version: un", "version", "positive integer"),
        ("audience: victime", "audience: victimes", "audience", "not one of"),
        ("updated_on: 2026-11-26", "updated_on: hier", "updated_on", "date"),
        ('title: "Se soigner sans papiers"', 'title: "' + "x" * 41 + '"', "title", "at most 40"),
        ("id: sante", "id: Santé", "id", "lowercase"),
        ("keywords: [", "keyword: [", "keyword", "unknown key"),
    ],
)
def test_field_errors_name_file_line_and_field(content_dir, old, new, field, words):
    path = content_dir / "sante.yml"
    text = topic_yaml("sante")
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    message = _error(path)
    assert f"sante.yml:{line}: {field}:" in message
    assert words in message


def test_missing_required_key_names_file_and_field(content_dir):
    path = content_dir / "sante.yml"
    path.write_text(topic_yaml("sante").replace("audience: victime\n", ""), encoding="utf-8")
    assert "sante.yml: audience: missing" in _error(path)


def test_key_given_twice_is_an_error(content_dir):
    path = content_dir / "sante.yml"
    path.write_text(topic_yaml("sante") + "version: 2\n", encoding="utf-8")
    assert "version: key given twice" in _error(path)


def test_all_problems_of_a_file_are_reported(content_dir):
    path = content_dir / "sante.yml"
    text = topic_yaml("sante").replace("version: 1", "version: 0").replace("audience: victime", "audience: x")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as info:
        parse_topic_file(path)
    assert {p.field for p in info.value.problems} == {"version", "audience"}


def test_load_content_raises_on_any_malformed_file(content_dir):
    (content_dir / "urgence.yml").write_text("id: urgence\ntitle: [\n", encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_content(content_dir)
    assert "urgence.yml:" in str(info.value)
