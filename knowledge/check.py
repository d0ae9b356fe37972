"""`python -m knowledge check`: is the content complete, consistent with the bot, and
written to the plain-language and safety rules?

Beyond each file's own schema (content.py), the content must cover the required
catalogue and every topic intent of the NLU data and of the Rasa domain, and follow the
rules of knowledge/style.py (knowledge/style_rules.yml).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from knowledge.config import REQUIRED_TOPICS_FILE, topic_of_intent
from knowledge.content import Problem, Topic, display_path, read_content, read_entries
from knowledge.style import RULES_FILE, load_rules, style_problems
from knowledge.translations import (
    missing_translations,
    read_translations,
    translation_problems,
    translations_beside,
)
from project_paths import CONTENT_DIR, DOMAIN_FILE, NLU_DATA_DIR


def required_topics(path: Path = REQUIRED_TOPICS_FILE) -> list[str]:
    """Topic ids the knowledge base must hold (the catalogue of TOPICS.md)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _yaml_file(path: Path, problems: list[Problem]):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(
            Problem(
                display_path(path),
                mark.line + 1 if mark else None,
                "",
                f"invalid YAML: {getattr(exc, 'problem', exc)}",
            )
        )
    except OSError as exc:
        problems.append(Problem(display_path(path), None, "", f"cannot read: {exc}"))
    return {}


def nlu_intents(nlu_dir: Path, problems: list[Problem]) -> dict[str, str]:
    """Intent -> file of the NLU training data declaring it."""
    intents: dict[str, str] = {}
    for path in sorted(Path(nlu_dir).glob("*.yml")):
        data = _yaml_file(path, problems)
        for item in (data.get("nlu") or []) if isinstance(data, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("intent"), str):
                intents.setdefault(item["intent"], display_path(path))
    return intents


def domain_intents(domain_file: Path, problems: list[Problem]) -> list[str]:
    """Intents of the Rasa domain; an entry is a name or {name: {options}}."""
    data = _yaml_file(Path(domain_file), problems)
    names = []
    for item in (data.get("intents") or []) if isinstance(data, dict) else []:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and len(item) == 1:
            names.append(str(next(iter(item))))
    return names


def translation_gaps(content_dir: Path = CONTENT_DIR, translations_dir: Path | None = None) -> list[Problem]:
    """Topics a language does not have yet (answered in French there meanwhile)."""
    translations_dir = translations_dir or translations_beside(content_dir)
    topics, _ = read_content(content_dir)
    translations, _ = read_translations(translations_dir)
    return missing_translations(topics, translations, translations_dir)


def check(
    content_dir: Path = CONTENT_DIR,
    nlu_dir: Path = NLU_DATA_DIR,
    domain_file: Path = DOMAIN_FILE,
    required_file: Path = REQUIRED_TOPICS_FILE,
    rules_file: Path = RULES_FILE,
    translations_dir: Path | None = None,
) -> tuple[list[Topic], list[Problem]]:
    """All problems of the content and its translations, each naming its file and field."""
    content_dir = Path(content_dir)
    translations_dir = translations_dir or translations_beside(content_dir)
    entries, problems = read_entries(content_dir)
    topics = [entry.topic for entry in entries]
    translations, translation_file_problems = read_translations(translations_dir)
    problems.extend(translation_file_problems)
    problems.extend(translation_problems(topics, translations, translations_dir))
    rules = load_rules(rules_file)
    for entry in entries:
        problems.extend(style_problems(entry, rules))
    # A file that exists but is broken is reported once, not also as "missing".
    present = {t.id for t in topics} | {p.stem for p in content_dir.glob("*.yml")}

    def lacking(topic_id: str) -> str:
        return f"no topic {topic_id!r}: add {display_path(content_dir / (topic_id + '.yml'))}"

    for topic_id in required_topics(required_file):
        if topic_id not in present:
            problems.append(Problem(display_path(required_file), None, "required topic", lacking(topic_id)))

    for intent, file in sorted(nlu_intents(nlu_dir, problems).items()):
        topic = topic_of_intent(intent)
        if topic and topic not in present:
            problems.append(Problem(file, None, f"intent {intent}", lacking(topic)))

    if Path(domain_file).exists():  # the domain may not be written yet
        file = display_path(domain_file)
        for intent in domain_intents(domain_file, problems):
            topic = topic_of_intent(intent)
            if topic and topic not in present:
                problems.append(Problem(file, None, f"intents: {intent}", lacking(topic)))
    return topics, problems
