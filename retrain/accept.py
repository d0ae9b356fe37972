"""`make accept-inbox`: the annotated inbox entries become training examples.

    python -m retrain.accept [--inbox var/inbox.yml]

First, the entries whose messages are no longer in the conversation store
(TRACKER_DB_URL, or --db-url: erased by their author or expired) are dropped. Then, for
every entry of the review file whose ``intent`` is filled in:

- an intent of domain.yml: the entry needs an explicit decision of the maintainer: a
  ``rewrite`` (the question in the maintainer's own words, preferred) or
  ``approved: true`` (the masked ``text`` was checked and holds nothing identifying).
  The final text (masked again, on one line) must pass the personal-data check
  (retrain/pii.py); it is then added to the training file that declares that intent
  (data/nlu/<intent>.yml), at the end of its ``examples: |`` block, keeping the file's
  layout; a text already there is not added twice;
- ``ignore``: the entry is dropped, and remembered (var/inbox_ignored.txt, ids only)
  so that ``make inbox`` does not bring it back.

Accepted and ignored entries leave the inbox; entries without an intent stay. Nothing
is changed when an entry is wrong (unknown intent, a held-out example, a text that is
already an example of another intent): the errors name the entries by number and id,
never by their text.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import tracker_db_url
from knowledge.check import domain_intents as read_domain_intents
from project_paths import DOMAIN_FILE, REPO_ROOT
from retrain.inbox import (
    DEFAULT_DATA_DIR,
    DEFAULT_HELDOUT_DIR,
    DEFAULT_INBOX,
    FALLBACK_INTENT,
    IGNORE,
    InboxFileError,
    ignored_path,
    prune_inbox,
    read_ignored,
    read_inbox,
    write_inbox,
)
from retrain.masking import mask_personal_data
from retrain.pii import personal_data
from retrain.trainingdata import (
    add_examples,
    clean_example,
    example_key,
    file_for_intent,
    lookup,
    read_examples,
)

DEFAULT_DOMAIN = DOMAIN_FILE


class InboxError(ValueError):
    def __init__(self, problems: List[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Accepted:
    added: Dict[str, List[str]] = field(default_factory=dict)  # file -> lines added
    ignored: int = 0
    already_present: int = 0
    remaining: int = 0
    expired: int = 0

    @property
    def added_count(self) -> int:
        return sum(len(lines) for lines in self.added.values())


def domain_intents(domain_file: Path) -> List[str]:
    problems: list = []
    names = read_domain_intents(Path(domain_file), problems)
    if problems:
        raise InboxError([str(p) for p in problems])
    return names


def accept_inbox(
    inbox: Path = DEFAULT_INBOX,
    data_dir: Path = DEFAULT_DATA_DIR,
    domain_file: Path = DEFAULT_DOMAIN,
    heldout_dir: Path = DEFAULT_HELDOUT_DIR,
    db_url: Optional[str] = None,
) -> Accepted:
    """Merges the annotated entries into the training data; raises InboxError (and
    changes nothing) when an entry is wrong. With `db_url`, the entries whose messages
    are no longer stored are dropped first (the command always gives it)."""
    expired = prune_inbox(inbox, db_url) if db_url else 0
    entries = read_inbox(inbox)
    examples = read_examples(data_dir)
    # Topic intents are in the training data only (bot/topic_importer.py), the others in the domain.
    intents = (set(domain_intents(domain_file)) | {e.intent for e in examples}) - {FALLBACK_INTENT}
    training = lookup(examples)
    heldout = {example_key(e.text) for e in read_examples(heldout_dir)}

    problems: List[str] = []
    keep: List[dict] = []
    ignore_ids: List[str] = []
    to_add: Dict[str, Dict[str, str]] = defaultdict(dict)  # intent -> key -> line
    chosen: Dict[str, str] = {}  # key -> intent, across entries
    result = Accepted(expired=expired)
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(f"entry {number}: not a mapping (text, intent, ...)")
            continue
        name = f"entry {number} (id {entry.get('id') or '?'})"
        intent = str(entry.get("intent") or "").strip()
        if not intent:
            keep.append(entry)
            continue
        if intent.lower() == IGNORE:
            if entry.get("id"):
                ignore_ids.append(str(entry["id"]))
            result.ignored += 1
            continue
        if intent not in intents:
            problems.append(
                f"{name}: intent {intent!r} is not in {Path(domain_file).name} "
                "(check the spelling, or add the topic first: docs/maintainers.md)"
            )
            continue
        rewrite = str(entry.get("rewrite") or "").strip()
        if not rewrite and entry.get("approved") is not True:
            problems.append(
                f"{name}: write the question in your own words in `rewrite`, or check "
                "that nothing identifying remains in `text` and set `approved: true`"
            )
            continue
        line = clean_example(mask_personal_data(rewrite or str(entry.get("text") or "")))
        key = example_key(line)
        if not key:
            problems.append(f"{name}: empty text")
            continue
        kinds = personal_data(line)
        if kinds:
            problems.append(
                f"{name}: personal data still in the text ({', '.join(kinds)}): replace "
                "it (<NAME>, <PLACE>, <PHONE>...) or write your own wording in `rewrite`"
            )
            continue
        if key in heldout:
            problems.append(
                f"{name}: this text is a held-out example (heldout/), it must "
                "never be trained on: write 'ignore'"
            )
            continue
        known = training.get(key)
        if known is not None and known.intent != intent:
            problems.append(
                f"{name}: already an example of intent {known.intent} in "
                f"{known.path.name}; write {known.intent} or 'ignore' (or move that example)"
            )
            continue
        if chosen.setdefault(key, intent) != intent:
            problems.append(f"{name}: the same text is annotated {chosen[key]} in another entry")
            continue
        if known is not None:
            result.already_present += 1
            continue
        to_add[intent][key] = line
    if problems:
        raise InboxError(problems)

    for intent, lines in sorted(to_add.items()):
        path = file_for_intent(data_dir, intent)
        added = add_examples(path, intent, lines.values())
        if added:
            result.added[str(path)] = added
    if ignore_ids:
        ignored = ignored_path(inbox)
        already = read_ignored(ignored)
        new_ids = [i for i in dict.fromkeys(ignore_ids) if i not in already]
        if new_ids:
            ignored.parent.mkdir(parents=True, exist_ok=True)
            with open(ignored, "a", encoding="utf-8") as f:
                f.write("".join(f"{i}\n" for i in new_ids))
    write_inbox(inbox, keep)
    result.remaining = len(keep)
    return result


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retrain.accept", description="Merge the annotated inbox entries into data/nlu/."
    )
    parser.add_argument("--inbox", type=Path, default=DEFAULT_INBOX)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--domain", type=Path, default=DEFAULT_DOMAIN)
    parser.add_argument("--heldout", type=Path, default=DEFAULT_HELDOUT_DIR)
    parser.add_argument(
        "--db-url",
        default=None,
        help="conversation database (default: TRACKER_DB_URL): entries whose messages are gone are dropped",
    )
    args = parser.parse_args(argv)
    if not args.inbox.exists():
        print(f"No inbox at {args.inbox}: run `make inbox` first.", file=sys.stderr)
        return 1
    try:
        result = accept_inbox(
            args.inbox, args.data, args.domain, args.heldout, db_url=args.db_url or tracker_db_url()
        )
    except InboxFileError as error:
        print(error, file=sys.stderr)
        return 1
    except InboxError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(
            f"Nothing changed: fix the {len(error.problems)} entry(ies) above in {args.inbox}.",
            file=sys.stderr,
        )
        return 1
    for path, lines in result.added.items():
        shown = Path(path).relative_to(REPO_ROOT) if Path(path).is_relative_to(REPO_ROOT) else path
        print(f"+{len(lines)} example(s) in {shown}")
    print(
        f"Accepted {result.added_count} example(s), {result.already_present} already present, "
        f"{result.ignored} ignored, {result.expired} dropped (conversation erased or expired); "
        f"{result.remaining} entry(ies) left in the inbox."
    )
    if result.added_count:
        print("Next: make validate && make train && make evaluate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
