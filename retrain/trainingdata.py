"""Reads and extends the NLU training files (Rasa 3 YAML, one file per intent) without
reformatting them.

New examples are inserted as text lines at the end of the intent's ``examples: |``
block, with the indentation of the lines already there, so that a diff shows only the
added lines. The result is parsed again before it is written: a file is never left
half-written or unreadable.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List

import yaml

from retrain.pii import personal_data

NLU_VERSION = "3.1"

# Rasa's inline entity annotations: [text](entity), [text]{"entity": ...}.
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


class TrainingDataError(ValueError):
    """A training file cannot be extended safely; the message says which and why."""


@dataclass(frozen=True)
class Example:
    intent: str
    text: str
    path: Path


def example_key(text: str) -> str:
    """What makes two examples the same: case, accents' encoding, apostrophes and
    spacing do not count."""
    text = unicodedata.normalize("NFC", _ANNOTATION.sub(r"\1", text or ""))
    return " ".join(text.translate(_APOSTROPHES).casefold().split())


def clean_example(text: str) -> str:
    """A user message as one safe line of a training file: one line, no leading "/"
    (Rasa would read a payload), no brackets or braces (entity annotations)."""
    text = " ".join((text or "").split())
    text = text.translate(str.maketrans("[]{}", "()()")).lstrip("/").strip()
    return text


def _items(path: Path) -> List[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("nlu") if isinstance(data, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


def _lines(block: object) -> List[str]:
    if not isinstance(block, str):
        return []
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def read_examples(directory: Path) -> List[Example]:
    """Every intent example of every *.yml file of a folder (training or held-out)."""
    found: List[Example] = []
    for path in sorted(Path(directory).glob("*.yml")):
        for item in _items(path):
            if isinstance(item.get("intent"), str):
                found += [Example(item["intent"], text, path) for text in _lines(item.get("examples"))]
    return found


def intent_files(directory: Path) -> Dict[str, Path]:
    """Intent -> the training file that declares it (the first, in name order)."""
    files: Dict[str, Path] = {}
    for path in sorted(Path(directory).glob("*.yml")):
        for item in _items(path):
            if isinstance(item.get("intent"), str):
                files.setdefault(item["intent"], path)
    return files


_INTENT_LINE = r"^(?P<indent>[ ]*)-[ ]+intent:[ ]*[\"']?{intent}[\"']?[ ]*(?:#.*)?$"
_EXAMPLES_LINE = re.compile(r"^(?P<indent>[ ]+)examples:[ ]*\|[-+0-9]*[ ]*(?:#.*)?$")
_ANY_INTENT_LINE = re.compile(r"^(?P<indent>[ ]*)-[ ]+intent:")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _with_examples(text: str, intent: str, examples: List[str]) -> str:
    """The file's text with the examples added to the intent's block."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    intent_line = re.compile(_INTENT_LINE.format(intent=re.escape(intent)))
    start = next((i for i, line in enumerate(lines) if intent_line.match(line.rstrip("\n"))), None)
    if start is None:
        # A new item at the end of the nlu list, indented like the others.
        dash = next((m.group("indent") for m in map(_ANY_INTENT_LINE.match, lines) if m), "")
        block = [f"{dash}- intent: {intent}\n", f"{dash}  examples: |\n"]
        block += [f"{dash}    - {e}\n" for e in examples]
        return "".join(lines) + "".join(block)

    item_indent = _indent(lines[start])
    key = None
    for i in range(start + 1, len(lines)):
        line = lines[i].rstrip("\n")
        if line.strip() and _indent(line) <= item_indent:
            break  # next item, or the end of the list
        if _EXAMPLES_LINE.match(line):
            key = i
            break
    if key is None:
        raise TrainingDataError(f"intent {intent}: no 'examples: |' block to extend")
    key_indent = _indent(lines[key])
    last = key
    example_indent = None
    for i in range(key + 1, len(lines)):
        line = lines[i].rstrip("\n")
        if not line.strip():
            continue
        if _indent(line) <= key_indent:
            break
        last = i
        if example_indent is None:
            example_indent = " " * _indent(line)
    example_indent = example_indent if example_indent is not None else " " * (key_indent + 2)
    added = [f"{example_indent}- {e}\n" for e in examples]
    return "".join(lines[: last + 1] + added + lines[last + 1 :])


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def add_examples(path: Path, intent: str, texts: Iterable[str]) -> List[str]:
    """Adds the examples to the intent in that file (created when missing); returns the
    lines added. Examples already in the file (same key) are skipped."""
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.exists() else (f'version: "{NLU_VERSION}"\nnlu:\n')
    present = {example_key(e.text) for e in _examples_of_text(old, path)}
    new: List[str] = []
    for text in texts:
        line = clean_example(text)
        if line and example_key(line) not in present:
            present.add(example_key(line))
            new.append(line)
    if not new:
        return []
    # Every text entering data/ or heldout/ is checked for personal data.
    flagged = [
        f"example {n}: {', '.join(kinds)}"
        for n, line in enumerate(new, start=1)
        for kinds in [personal_data(line)]
        if kinds
    ]
    if flagged:
        raise TrainingDataError(f"{path.name}: personal data, nothing added ({'; '.join(flagged)})")
    updated = _with_examples(old, intent, new)
    try:
        after = [e.text for e in _examples_of_text(updated, path) if e.intent == intent]
    except yaml.YAMLError as error:
        raise TrainingDataError(f"{path.name}: the result would not be valid YAML ({error})") from None
    if any(line not in after for line in new):
        raise TrainingDataError(f"{path.name}: the examples could not be added to intent {intent}")
    _write_atomically(path, updated)
    return new


def _examples_of_text(text: str, path: Path) -> List[Example]:
    data = yaml.safe_load(text) or {}
    items = data.get("nlu") if isinstance(data, dict) else None
    return [
        Example(item["intent"], line, path)
        for item in items or []
        if isinstance(item, dict) and isinstance(item.get("intent"), str)
        for line in _lines(item.get("examples"))
    ]


def file_for_intent(directory: Path, intent: str) -> Path:
    """Where an intent's new examples go: the file declaring it, else <intent>.yml."""
    return intent_files(directory).get(intent) or Path(directory) / f"{intent}.yml"


def lookup(examples: Iterable[Example]) -> Dict[str, Example]:
    """Key -> example (the first one when a text appears twice)."""
    table: Dict[str, Example] = {}
    for example in examples:
        table.setdefault(example_key(example.text), example)
    return table
