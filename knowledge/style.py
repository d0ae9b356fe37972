"""Plain-language and safety rules of the content, for `python -m knowledge check`.

What can be counted is checked here; the rules themselves (numbers, acronyms, patterns)
are data in knowledge/style_rules.yml. Every problem names the file, the line of the
field and the text at fault.

Victim answers (`answer` of an `audience: victime` topic), the first text a person in
distress reads:
- sentences of at most `max_sentence_words` words;
- no article numbers (they belong in the details and the source line);
- every known acronym explained at its first use;
- a last line with a concrete next step: a number of shared/FACTS.md §7 or a named
  service.
Every source links the page or article that supports it (no home page; repo:<path>
must name a file of this repository).
Every text (answer and details, every audience):
- no promise of what the law leaves to the préfet or the judge;
- advice to keep evidence says "only if it is safe for you";
- at an arrest, a lawyer and an interpreter come first.
Victim texts that speak of going to the police or filing a complaint also tell an
undocumented person to talk to an association or a lawyer first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.config import REPO_ROOT
from knowledge.content import Entry, Problem, Topic, url_problem

RULES_FILE = REPO_ROOT / "knowledge" / "style_rules.yml"

SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
WORD = re.compile(r"[^\W_]", re.UNICODE)  # a token counts as a word if it has a letter or digit


@dataclass(frozen=True)
class StyleRules:
    max_sentence_words: int
    help_numbers: tuple[re.Pattern, ...]
    services: tuple[str, ...]
    acronyms: tuple[tuple[str, re.Pattern], ...]
    article_numbers: tuple[re.Pattern, ...]
    promises: tuple[re.Pattern, ...]
    evidence_verbs: re.Pattern
    evidence_things: re.Pattern
    evidence_safety: re.Pattern
    police_trigger: re.Pattern
    police_advice: re.Pattern
    police_who: re.Pattern
    arrest_trigger: re.Pattern
    arrest_needs: tuple[re.Pattern, ...]


def _pattern(text: str) -> re.Pattern:
    return re.compile(text, re.IGNORECASE)


def number_pattern(number: str) -> re.Pattern:
    """A help number as a whole number: "116 006" also as "116006"; "17" not in "2017"."""
    digits = r"[ \u00a0]?".join(re.escape(part) for part in number.split())
    return re.compile(rf"(?<![\d])(?<!\d[ \u00a0]){digits}(?![\d])(?![ \u00a0]\d)")


def load_rules(path: Path = RULES_FILE) -> StyleRules:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    evidence, police, arrest = data["evidence_advice"], data["police_first"], data["arrest"]
    return StyleRules(
        max_sentence_words=int(data["max_sentence_words"]),
        help_numbers=tuple(number_pattern(str(n)) for n in data["help_numbers"]),
        services=tuple(data["next_step_services"]),
        acronyms=tuple((a, re.compile(rf"(?<![\w.]){re.escape(a)}(?![\w])")) for a in data["acronyms"]),
        article_numbers=tuple(_pattern(p) for p in data["article_numbers"]),
        promises=tuple(_pattern(p) for p in data["promises"]),
        evidence_verbs=_pattern(evidence["verbs"]),
        evidence_things=_pattern(evidence["things"]),
        evidence_safety=_pattern(evidence["safety"]),
        police_trigger=_pattern(police["trigger"]),
        police_advice=_pattern(police["advice"]),
        police_who=_pattern(police["who"]),
        arrest_trigger=_pattern(arrest["trigger"]),
        arrest_needs=tuple(_pattern(p) for p in arrest["needs"]),
    )


@lru_cache(maxsize=1)
def default_rules() -> StyleRules:
    return load_rules()


def sentences(text: str) -> list[str]:
    """Sentences of a text: each line, split after . ! ? or …"""
    result = []
    for line in text.splitlines():
        result.extend(s.strip() for s in SENTENCE_END.split(line.strip()) if s.strip())
    return result


def word_count(sentence: str) -> int:
    return sum(1 for token in sentence.split() if WORD.search(token))


def has_contact(line: str, rules: StyleRules) -> bool:
    return any(p.search(line) for p in rules.help_numbers) or any(
        s.lower() in line.lower() for s in rules.services
    )


def acronym_explained(text: str, start: int, end: int) -> bool:
    """At its first use an acronym is followed by "(…" or a dash, or is itself in
    parentheses right after the long form: "l'aide médicale de l'État (AME)"."""
    after = text[end:]
    if re.match(r"\s*\(\s*\w", after) or re.match(r"\s*[–—-]\s+\w", after):
        return True
    before = text[:start]
    return bool(re.search(r"\w[^\n(]*\(\s*$", before) and re.match(r"\s*\)", after))


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def answer_problems(topic: Topic, rules: StyleRules) -> list[tuple[str, str]]:
    """(field, message) problems of a victim answer."""
    problems = []
    answer = topic.answer
    for sentence in sentences(answer):
        count = word_count(sentence)
        if count > rules.max_sentence_words:
            problems.append(
                (
                    "answer",
                    f"sentence of {count} words (at most "
                    f"{rules.max_sentence_words} in a victim answer): {_quote(sentence)}",
                )
            )
    for pattern in rules.article_numbers:
        match = pattern.search(answer)
        if match:
            problems.append(
                (
                    "answer",
                    f"article number {match.group(0)!r} in a victim answer: "
                    "put it in the details and the sources",
                )
            )
    for acronym, pattern in rules.acronyms:
        match = pattern.search(answer)
        if match and not acronym_explained(answer, match.start(), match.end()):
            problems.append(
                (
                    "answer",
                    f"acronym {acronym} not explained at its first use: write "
                    f'"{acronym} (…)" or "… ({acronym})"',
                )
            )
    lines = [line.strip() for line in answer.splitlines() if line.strip()]
    if lines and not has_contact(lines[-1], rules):
        problems.append(
            (
                "answer",
                "the last line must give one concrete next step: a number of "
                "FACTS §7 or a named service, got " + _quote(lines[-1]),
            )
        )
    return problems


def text_problems(topic: Topic, rules: StyleRules) -> list[tuple[str, str]]:
    """(field, message) problems of any text: promises, evidence, arrest, police first."""
    problems = []
    fields = {"answer": topic.answer, "details": topic.details}
    for field, text in fields.items():
        for line in text.splitlines():
            for pattern in rules.promises:
                match = pattern.search(line)
                if match:
                    problems.append(
                        (
                            field,
                            f"promises an outcome ({match.group(0)!r}): the préfet or "
                            'the judge decides; say "vous pouvez demander", "le préfet peut"',
                        )
                    )
            if (
                rules.evidence_verbs.search(line)
                and rules.evidence_things.search(line)
                and not rules.evidence_safety.search(line)
            ):
                problems.append(
                    (
                        field,
                        'advice to keep evidence must say "si c\'est sans danger pour vous": ' + _quote(line),
                    )
                )
            if rules.arrest_trigger.search(line) and not all(p.search(line) for p in rules.arrest_needs):
                problems.append(
                    (
                        field,
                        "at an arrest, first ask for a lawyer and an interpreter "
                        "(name both in the same line): " + _quote(line),
                    )
                )
    if topic.audience == "victime":
        problems.extend(_police_first(topic, rules))
    return problems


def _advises_association_first(text: str, rules: StyleRules) -> bool:
    return any(
        rules.police_advice.search(line) and rules.police_who.search(line) for line in text.splitlines()
    )


QUOTED_TITLE = re.compile(r"«[^»]*»")  # « Porter plainte » names a topic, it is no advice


def _police_first(topic: Topic, rules: StyleRules) -> list[tuple[str, str]]:
    answer, details = (QUOTED_TITLE.sub("", text) for text in (topic.answer, topic.details))
    if rules.police_trigger.search(answer):
        if not _advises_association_first(topic.answer, rules):
            return [
                (
                    "answer",
                    "speaks of going to the police: add a line telling an undocumented "
                    "person to talk to an association or a lawyer before (with a contact)",
                )
            ]
    elif rules.police_trigger.search(details):
        if not _advises_association_first(topic.answer + "\n" + topic.details, rules):
            return [
                (
                    "details",
                    "speaks of going to the police: add a line telling an undocumented "
                    "person to talk to an association or a lawyer before",
                )
            ]
    return []


def source_problems(topic: Topic) -> list[tuple[str, str]]:
    """Each source links the page that supports it: no home page, no missing file."""
    found = []
    for index, source in enumerate(topic.sources):
        problem = url_problem(source.url)
        if problem:
            found.append((f"sources[{index}].url", problem))
    return found


def style_problems(entry: Entry, rules: StyleRules | None = None) -> list[Problem]:
    """Every rule problem of one topic, each naming file, line and field."""
    rules = rules or default_rules()
    topic = entry.topic
    found = source_problems(topic) + text_problems(topic, rules)
    if topic.audience == "victime":
        found = answer_problems(topic, rules) + found
    return [Problem(entry.file, entry.lines.get(field), field, message) for field, message in found]
