"""The content files (knowledge/content/<topic-id>.yml): their schema, parsing and validation.

Content is reviewed data, so a malformed file must say exactly where it is wrong:
every problem names the file, the line and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import yaml

from project_paths import CONTENT_DIR, REPO_ROOT

AUDIENCES = ("victime", "professionnel", "conversation")
MAX_ANSWER_LENGTH = 500
MAX_TITLE_LENGTH = 40
TOPIC_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
REQUIRED_KEYS = ("id", "title", "audience", "version", "updated_on", "answer", "sources")
OPTIONAL_KEYS = ("details", "related", "keywords")
SOURCE_KEYS = ("title", "reference", "url", "supports", "verified_on")
# A source points at the page or article that supports its statement, never at a site's
# home page: a path that is empty, "/" or only a language prefix ("/fr/", "/en-gb") is
# refused by `python -m knowledge check` (url_problem).
HOME_PATH = re.compile(r"^/?(?:[a-z]{2}(?:[-_][a-z]{2})?/?)?$", re.IGNORECASE)
# Facts about the assistant itself are supported by a file of this repository.
REPO_URL_PREFIX = "repo:"


@dataclass(frozen=True)
class Source:
    title: str
    reference: str
    url: str
    verified_on: date | None = None  # set only by someone who read the page and found the statement
    supports: str = ""  # the statement this source supports, in one short line


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    audience: str
    version: int
    updated_on: date
    answer: str
    details: str
    sources: tuple[Source, ...]
    related: tuple[str, ...]
    keywords: tuple[str, ...]
    translations: tuple = ()  # knowledge.translations.Translation, by language

    def in_language(self, language: str):
        """The translation into this language, or None (French is the reference)."""
        return next((t for t in self.translations if t.language == language), None)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ContentError(Exception):
    """One or more content problems; str() gives one line per problem."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def display_path(path: Path) -> str:
    """Repository-relative path when possible: shorter, and what a maintainer edits."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _read_yaml(path: Path) -> tuple[Any, dict[str, int], list[tuple[str, int]]]:
    """The document, the 1-based line of each field ("sources[0].url" style keys) and
    the keys given twice (PyYAML would silently keep the last one)."""
    text = path.read_text(encoding="utf-8")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    duplicates: list[tuple[str, int]] = []

    def walk(node: yaml.Node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                name = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
                if name in lines:
                    duplicates.append((name, key_node.start_mark.line + 1))
                lines[name] = key_node.start_mark.line + 1
                walk(value_node, name)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                name = f"{prefix}[{index}]"
                lines[name] = item.start_mark.line + 1
                walk(item, name)

    if node is not None:
        walk(node, "")
    return data, lines, duplicates


def url_problem(url: str) -> str | None:
    """Why a source URL is refused by `check`, or None: an http(s) address of a page (not
    a home page), or repo:<path> of a file of this repository. (Parsing only checks the
    scheme, so that one weak source never stops the knowledge base from loading.)"""
    if url.startswith(REPO_URL_PREFIX):
        path = url[len(REPO_URL_PREFIX) :].strip().lstrip("/")
        if not path or ".." in Path(path).parts or not (REPO_ROOT / path).is_file():
            return f"{url!r}: no such file in the repository"
        return None
    if not url.startswith(("https://", "http://")):
        return f"must start with https://, http:// or repo:, got {url!r}"
    parts = urlsplit(url)
    if not parts.netloc:
        return f"{url!r} has no host"
    if HOME_PATH.match(parts.path) and not parts.query:
        return f"{url!r} is a home page: link the page or article that supports the statement"
    return None


class _FileParser:
    """Collects every problem of one file instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.file = display_path(path)
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}
        self.topic_id = ""  # kept even when the file has problems (duplicate detection)

    def problem(self, field: str, message: str) -> None:
        line = self.lines.get(field)
        if line is None and "[" in field:  # a missing key of a list item: the item's line
            line = self.lines.get(field.rsplit(".", 1)[0])
        self.problems.append(Problem(self.file, line, field, message))

    def text(
        self,
        data: dict,
        field: str,
        *,
        name: str | None = None,
        required: bool = True,
        max_length: int | None = None,
    ) -> str:
        name = name or field
        value = data.get(field)
        if value is None:
            if required:
                self.problem(name, "missing or empty")
            return ""
        if not isinstance(value, str):
            self.problem(name, f"must be text, got {type(value).__name__}")
            return ""
        value = value.strip()
        if required and not value:
            self.problem(name, "missing or empty")
        if max_length is not None and len(value) > max_length:
            self.problem(name, f"{len(value)} characters, at most {max_length} allowed")
        return value

    def day(self, data: dict, field: str, *, name: str, required: bool) -> date | None:
        value = data.get(field)
        if value is None:
            if required:
                self.problem(name, "missing (a date such as 2026-11-26)")
            return None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        elif isinstance(value, date):
            return value if type(value) is date else value.date()
        self.problem(name, f"must be a date such as 2026-11-26, got {value!r}")
        return None

    def text_list(self, data: dict, field: str) -> tuple[str, ...]:
        value = data.get(field)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(field, "must be a list")
            return ()
        result = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.problem(f"{field}[{index}]", f"must be non-empty text, got {item!r}")
            else:
                result.append(item.strip())
        return tuple(result)

    def source(self, item: Any, index: int) -> Source | None:
        name = f"sources[{index}]"
        if not isinstance(item, dict):
            self.problem(name, "must be a mapping with title, reference, url and supports")
            return None
        for key in item:
            if key not in SOURCE_KEYS:
                self.problem(f"{name}.{key}", f"unknown key (expected {', '.join(SOURCE_KEYS)})")
        title = self.text(item, "title", name=f"{name}.title")
        reference = self.text(item, "reference", name=f"{name}.reference")
        url = self.text(item, "url", name=f"{name}.url")
        if url and not url.startswith(("https://", "http://", REPO_URL_PREFIX)):
            self.problem(f"{name}.url", f"must start with https://, http:// or repo:, got {url!r}")
        supports = self.text(item, "supports", name=f"{name}.supports")
        verified_on = self.day(item, "verified_on", name=f"{name}.verified_on", required=False)
        return Source(title, reference, url, verified_on, supports)

    def parse(self) -> Topic | None:
        try:
            data, self.lines, duplicates = _read_yaml(self.path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            reason = getattr(exc, "problem", None) or str(exc)
            self.problems.append(
                Problem(self.file, mark.line + 1 if mark else None, "", f"invalid YAML: {reason}")
            )
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(Problem(self.file, None, "", f"cannot read: {exc}"))
            return None
        if not isinstance(data, dict):
            self.problems.append(Problem(self.file, 1, "", "must be a mapping of the topic keys"))
            return None
        for name, line in duplicates:
            self.problems.append(Problem(self.file, line, name, "key given twice"))
        for key in data:
            if key not in REQUIRED_KEYS + OPTIONAL_KEYS:
                self.problem(str(key), "unknown key (typo?)")

        topic_id = self.topic_id = self.text(data, "id")
        if topic_id and not TOPIC_ID.match(topic_id):
            self.problem("id", f"{topic_id!r} must be lowercase words joined by '-'")
        if topic_id and topic_id != self.path.stem:
            self.problem("id", f"{topic_id!r} does not match the file name {self.path.name!r}")
        title = self.text(data, "title", max_length=MAX_TITLE_LENGTH)
        audience = self.text(data, "audience")
        if audience and audience not in AUDIENCES:
            self.problem("audience", f"{audience!r} is not one of {', '.join(AUDIENCES)}")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.problem("version", f"must be a positive integer, got {version!r}")
            version = 0
        updated_on = self.day(data, "updated_on", name="updated_on", required=True)
        answer = self.text(data, "answer", max_length=MAX_ANSWER_LENGTH)
        details = self.text(data, "details", required=False)

        raw_sources = data.get("sources")
        sources: list[Source] = []
        if not raw_sources:
            self.problem("sources", "missing or empty: every answer needs at least one source")
        elif not isinstance(raw_sources, list):
            self.problem("sources", "must be a list of title, reference, url, supports")
        else:
            for index, item in enumerate(raw_sources):
                source = self.source(item, index)
                if source is not None:
                    sources.append(source)
        related = self.text_list(data, "related")
        keywords = self.text_list(data, "keywords")
        if self.problems:
            return None
        return Topic(
            topic_id, title, audience, version, updated_on, answer, details, tuple(sources), related, keywords
        )


def parse_topic_file(path: Path) -> Topic:
    """One content file -> Topic, or ContentError listing all its problems."""
    parser = _FileParser(Path(path))
    topic = parser.parse()
    if topic is None:
        raise ContentError(parser.problems)
    return topic


@dataclass(frozen=True)
class Entry:
    """A topic that parsed, with its file and the line of each field (for messages)."""

    topic: Topic
    file: str
    lines: dict


def _duplicate_ids(ids: list[tuple[str, str, int | None]]) -> list[Problem]:
    """(id, file, line) triples -> one problem per id seen again."""
    problems = []
    seen: dict[str, str] = {}
    for topic_id, file, line in ids:
        if topic_id in seen:
            problems.append(Problem(file, line, "id", f"duplicate id {topic_id!r}, also in {seen[topic_id]}"))
        else:
            seen[topic_id] = file
    return problems


def _related_problems(entries: list[Entry], known_ids: set[str]) -> list[Problem]:
    problems = []
    for entry in entries:
        for index, other in enumerate(entry.topic.related):
            field = f"related[{index}]"
            if other == entry.topic.id:
                message = "a topic cannot be related to itself"
            elif other not in known_ids:
                message = f"unknown topic {other!r}"
            else:
                continue
            problems.append(Problem(entry.file, entry.lines.get(field), field, message))
    return problems


def validate_topics(topics: Iterable[Topic]) -> list[Problem]:
    """Rules across topics: unique ids, related topics that exist."""
    topics = list(topics)
    return _duplicate_ids([(t.id, f"{t.id}.yml", None) for t in topics]) + _related_problems(
        [Entry(t, f"{t.id}.yml", {}) for t in topics], {t.id for t in topics}
    )


def read_content(content_dir: Path = CONTENT_DIR) -> tuple[list[Topic], list[Problem]]:
    """Every topic that parses, and every problem found (check reports them all)."""
    entries, problems = read_entries(content_dir)
    return [entry.topic for entry in entries], problems


def read_entries(content_dir: Path = CONTENT_DIR) -> tuple[list[Entry], list[Problem]]:
    """read_content, keeping each topic's file and field lines."""
    content_dir = Path(content_dir)
    paths = sorted(content_dir.glob("*.yml"))
    entries: list[Entry] = []
    ids: list[tuple[str, str, int | None]] = []  # from broken files too
    problems: list[Problem] = []
    if not paths:
        problems.append(Problem(display_path(content_dir), None, "", "no *.yml content file"))
    for path in paths:
        parser = _FileParser(path)
        topic = parser.parse()
        problems.extend(parser.problems)
        if topic is not None:
            entries.append(Entry(topic, parser.file, parser.lines))
        if parser.topic_id:
            ids.append((parser.topic_id, parser.file, parser.lines.get("id")))
    problems.extend(_duplicate_ids(ids))
    # A broken file is already reported: a topic naming it as related is not an extra problem.
    known = {entry.topic.id for entry in entries} | {path.stem for path in paths}
    problems.extend(_related_problems(entries, known))
    return entries, problems


def load_content(content_dir: Path = CONTENT_DIR) -> tuple[Topic, ...]:
    """All topics, sorted by id; ContentError if any file is malformed."""
    topics, problems = read_content(content_dir)
    if problems:
        raise ContentError(problems)
    return tuple(sorted(topics, key=lambda t: t.id))
