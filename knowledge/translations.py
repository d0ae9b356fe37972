"""Translations of the topics: knowledge/translations/<language>/<topic-id>.yml.

The French file (knowledge/content/<topic-id>.yml) is the reference: a translation gives
only the title, the short answer and the details in another language, says which
version of the French file it translates, and whether a native speaker reviewed it
(`reviewed: true`, with `reviewer` and `reviewed_on`). Sources, related topics and
keywords come from the French file. Adding a language is adding a folder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

import yaml

from knowledge.content import Problem, Topic, display_path
from project_paths import CONTENT_DIR, TRANSLATIONS_DIR

MAX_TITLE = 40
REQUIRED = ("id", "language", "source_version", "reviewed", "title", "answer", "details")
OPTIONAL = ("reviewer", "reviewed_on")


@dataclass(frozen=True)
class Translation:
    topic_id: str
    language: str
    source_version: int
    reviewed: bool
    title: str
    answer: str
    details: str


def translations_beside(content_dir: Path) -> Path:
    """The translations of a content folder: knowledge/translations beside knowledge/content."""
    if Path(content_dir).resolve() == CONTENT_DIR.resolve():
        return TRANSLATIONS_DIR
    return Path(content_dir).parent / "translations"


def read_translations(folder: Path = TRANSLATIONS_DIR) -> tuple[list[Translation], list[Problem]]:
    """Every translation that parses, and every problem (one per file and field)."""
    found: list[Translation] = []
    problems: list[Problem] = []
    folder = Path(folder)
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.glob("*/*.yml")):
        file = display_path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(Problem(file, None, "", f"invalid YAML: {exc}"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(file, None, "", "expected the keys " + ", ".join(REQUIRED)))
            continue
        missing = [key for key in REQUIRED if key not in data]
        unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
        for key in missing:
            problems.append(Problem(file, None, key, "missing"))
        for key in unknown:
            problems.append(Problem(file, None, key, "unknown key"))
        if missing:
            continue
        texts = {key: str(data[key] or "").strip() for key in ("title", "answer", "details")}
        for key, value in texts.items():
            if not value:
                problems.append(Problem(file, None, key, "empty"))
        if len(texts["title"]) > MAX_TITLE:
            problems.append(Problem(file, None, "title", f"longer than {MAX_TITLE} characters"))
        if data["id"] != path.stem:
            problems.append(Problem(file, None, "id", f"{data['id']!r} is not the file name"))
        if data["language"] != path.parent.name:
            problems.append(
                Problem(
                    file, None, "language", f"{data['language']!r} is not the folder {path.parent.name!r}"
                )
            )
        if not isinstance(data["reviewed"], bool):
            problems.append(Problem(file, None, "reviewed", "true or false"))
        if not isinstance(data["source_version"], int):
            problems.append(Problem(file, None, "source_version", "the version of the French file"))
        if not any(p.file == file for p in problems):
            found.append(
                Translation(
                    path.stem,
                    path.parent.name,
                    data["source_version"],
                    data["reviewed"],
                    texts["title"],
                    texts["answer"] + "\n",
                    texts["details"] + "\n",
                )
            )
    return found, problems


def translation_problems(
    topics: Iterable[Topic], translations: Iterable[Translation], folder: Path = TRANSLATIONS_DIR
) -> list[Problem]:
    """A translation must translate an existing topic, from a version that exists."""
    topics = {t.id: t for t in topics}
    problems = []
    for t in translations:
        file = display_path(Path(folder) / t.language / f"{t.topic_id}.yml")
        if t.topic_id not in topics:
            problems.append(Problem(file, None, "id", f"no topic {t.topic_id!r} in knowledge/content"))
        elif t.source_version > topics[t.topic_id].version:
            problems.append(
                Problem(
                    file,
                    None,
                    "source_version",
                    f"the French file is only at version {topics[t.topic_id].version}",
                )
            )
    return problems


def missing_translations(
    topics: Iterable[Topic], translations: Iterable[Translation], folder: Path = TRANSLATIONS_DIR
) -> list[Problem]:
    """What each language folder still lacks. Not an error: until it is translated, a
    topic is answered in French (the reference) in that language's conversations."""
    by_language: dict[str, set[str]] = {}
    for t in translations:
        by_language.setdefault(t.language, set()).add(t.topic_id)
    languages = sorted(set(by_language) | {p.name for p in Path(folder).glob("*") if p.is_dir()})
    return [
        Problem(
            display_path(Path(folder) / language / f"{topic_id}.yml"),
            None,
            "",
            f"missing: the {language} translation of {topic_id}",
        )
        for language in languages
        for topic_id in sorted({t.id for t in topics} - by_language.get(language, set()))
    ]


def with_translations(topics: Iterable[Topic], translations: Iterable[Translation]) -> tuple[Topic, ...]:
    """The topics, each carrying its translations (sorted by language)."""
    by_topic: dict[str, list[Translation]] = {}
    for t in translations:
        by_topic.setdefault(t.topic_id, []).append(t)
    return tuple(
        replace(topic, translations=tuple(sorted(by_topic.get(topic.id, []), key=lambda t: t.language)))
        for topic in topics
    )


def stale(topics: Iterable[Topic]) -> list[tuple[str, str, int, int]]:
    """(topic, language, translated version, French version) of translations older than
    the French text: to translate again."""
    return [
        (topic.id, t.language, t.source_version, topic.version)
        for topic in topics
        for t in topic.translations
        if t.source_version < topic.version
    ]
