"""Command line: python -m knowledge {check,list,load,search,stale}."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import project_paths
from knowledge import config


def _check(args: argparse.Namespace) -> int:
    from knowledge.check import check, translation_gaps

    topics, problems = check(args.content, args.nlu, args.domain, args.required)
    for problem in problems:
        print(problem, file=sys.stderr)
    for gap in translation_gaps(args.content):
        print(f"warning: {gap}", file=sys.stderr)
    if problems:
        print(f"FAILED: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"OK: {len(topics)} topics")
    return 0


def _list(args: argparse.Namespace) -> int:
    """Ids of the files that parse; problems go to stderr (and make the exit code 1)."""
    from knowledge.content import read_content

    topics, problems = read_content(args.content)
    for topic_id in sorted(t.id for t in topics):
        print(topic_id)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the last day of a shorter month)."""
    import calendar

    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _stale(args: argparse.Namespace) -> int:
    """Sources to check again: never verified, or verified before the cutoff. A list to
    work from, not a failure: the exit code is 0 (1 only if the content cannot be read)."""
    from knowledge.content import read_entries

    entries, problems = read_entries(args.content)
    for problem in problems:
        print(problem, file=sys.stderr)
    today = date.fromisoformat(args.today) if args.today else date.today()
    cutoff = months_before(today, args.months)
    total = stale = 0
    for entry in sorted(entries, key=lambda e: e.file):
        for index, source in enumerate(entry.topic.sources):
            total += 1
            if source.verified_on and source.verified_on >= cutoff:
                continue
            stale += 1
            line = entry.lines.get(f"sources[{index}]")
            where = f"{entry.file}:{line}" if line else entry.file
            when = f"verified {source.verified_on.isoformat()}" if source.verified_on else "never verified"
            print(f"{where}: sources[{index}]: {when}: {source.reference} — {source.url}")
            if source.supports:
                print(f"    supports: {source.supports}")
    print(
        f"{stale} of {total} source(s) to check (missing verified_on or older than "
        f"{args.months} months, before {cutoff.isoformat()})"
    )
    return 0


def _load(args: argparse.Namespace) -> int:
    from knowledge.loader import load_database

    url = args.db or config.db_url()
    count = load_database(url, args.content)
    print(f"Loaded {count} topics into {_safe(url)}")
    return 0


def _search(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from knowledge.db import make_engine
    from knowledge.search import search_scores
    from knowledge.store import fetch_topics, require_sqlite_file

    url = args.db or config.db_url()
    require_sqlite_file(url)
    engine = make_engine(url)
    try:
        with Session(engine, future=True) as session:
            scores = search_scores(session, args.question, args.limit)
            topics = fetch_topics(session, [topic_id for topic_id, _ in scores])
    finally:
        engine.dispose()
    if not scores:
        print("No matching topic.")
    for topic_id, score in scores:
        print(f"{score:8.3f}  {topic_id:<26} {topics[topic_id].title}")
    return 0


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="validate the content (exit 1 on any problem)")
    check.add_argument("--nlu", type=Path, default=project_paths.NLU_DATA_DIR, help="NLU data folder")
    check.add_argument("--domain", type=Path, default=project_paths.DOMAIN_FILE, help="Rasa domain file")
    check.add_argument(
        "--required", type=Path, default=config.REQUIRED_TOPICS_FILE, help="file of required topic ids"
    )
    check.set_defaults(run=_check)

    commands.add_parser("list", help="print the topic ids").set_defaults(run=_list)

    stale = commands.add_parser("stale", help="list the sources to check again (exit 0)")
    stale.add_argument(
        "--months", type=int, default=12, help="a source verified longer ago than this is listed (default 12)"
    )
    stale.add_argument("--today", help="the day to count from (YYYY-MM-DD, default today)")
    stale.set_defaults(run=_stale)

    load = commands.add_parser("load", help="build the database from the content")
    load.add_argument("--db", help="SQLAlchemy URL (default: KNOWLEDGE_DB_URL or var/knowledge.db)")
    load.set_defaults(run=_load)

    search = commands.add_parser("search", help="closest topics for a question")
    search.add_argument("question")
    search.add_argument("--db", help="SQLAlchemy URL (default: KNOWLEDGE_DB_URL or var/knowledge.db)")
    search.add_argument("--limit", type=int, default=3)
    search.set_defaults(run=_search)

    for command in (check, load, search, stale, commands.choices["list"]):
        command.add_argument(
            "--content",
            type=Path,
            default=project_paths.CONTENT_DIR,
            help="content folder (default: knowledge/content)",
        )

    args = parser.parse_args(argv)
    from sqlalchemy.exc import SQLAlchemyError

    from knowledge.content import ContentError
    from knowledge.store import KnowledgeUnavailable

    try:
        return args.run(args)
    except (ContentError, KnowledgeUnavailable) as exc:
        print(exc, file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(
            f"database error: {str(exc).splitlines()[0]} (is the database built? python -m knowledge load)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
