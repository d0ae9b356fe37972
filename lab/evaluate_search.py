"""`python -m lab.evaluate_search`: how often search finds the right topic.

Reads the held-out questions (heldout/topics.yml, Rasa NLU YAML), maps each intent
to its topic and reports top-1 and top-3 rates over the searchable topics.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

import project_paths
from knowledge import config
from knowledge.content import read_content
from knowledge.db import make_engine
from knowledge.loader import build_database
from knowledge.search import NOT_SEARCHED, search_scores

CONVERSATION_INTENTS = {"salutation", "remerciement", "au-revoir", "identite-bot", "hors-sujet"}


def heldout_questions(path: Path) -> list[tuple[str, str]]:
    """(intent, question) pairs of a Rasa NLU YAML file."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    pairs = []
    for item in data.get("nlu") or []:
        if isinstance(item, dict) and "intent" in item:
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((item["intent"], line[2:].strip()))
    return pairs


def evaluate(
    db_url: str, pairs: list[tuple[str, str]], skipped: set[str], verbose: bool = False
) -> tuple[int, int, int]:
    """(questions, right topic first, right topic in the top 3)."""
    total = top1 = top3 = 0
    engine = make_engine(db_url)
    try:
        with Session(engine, future=True) as session:
            for intent, question in pairs:
                if intent in skipped:
                    continue
                expected = intent  # intents are named by their topic id
                found = [topic_id for topic_id, _ in search_scores(session, question, 3)]
                total += 1
                top1 += found[:1] == [expected]
                top3 += expected in found
                if verbose and expected not in found:
                    print(f"MISS {expected:<26} {question!r} -> {found}")
    finally:
        engine.dispose()
    return total, top1, top3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.evaluate_search", description=__doc__)
    parser.add_argument("--heldout", type=Path, default=project_paths.HELDOUT_DIR / "topics.yml")
    parser.add_argument("--content", type=Path, default=project_paths.CONTENT_DIR)
    parser.add_argument("--verbose", action="store_true", help="print the misses")
    args = parser.parse_args(argv)

    topics, problems = read_content(args.content)
    if problems:
        print(
            f"warning: {len(problems)} content problem(s), see python -m knowledge check; "
            "evaluating the topics that parse",
            file=sys.stderr,
        )
    # Related links do not matter to search; dropping them lets partial content load.
    topics = [replace(t, related=()) for t in topics]
    conversation = {t.id for t in topics if t.audience in NOT_SEARCHED}
    skipped = set(config.CONTROL_INTENTS) | CONVERSATION_INTENTS | conversation
    pairs = heldout_questions(args.heldout)
    missing = sorted({i for i, _ in pairs if i not in skipped} - {t.id for t in topics})
    if missing:
        print(f"warning: no content for {', '.join(missing)} (counted as misses)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'evaluate.db'}"  # the content as it is now
        build_database(url, topics)
        total, top1, top3 = evaluate(url, pairs, skipped, args.verbose)
    if not total:
        print("no in-scope question found", file=sys.stderr)
        return 1
    print(f"questions: {total}")
    print(f"top-1: {top1}/{total} = {top1 / total:.1%}")
    print(f"top-3: {top3}/{total} = {top3 / total:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
