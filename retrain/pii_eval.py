"""Measures the personal-data check (retrain/pii.py) on heldout/pii.yml:

    python -m retrain.pii_eval [--set heldout/pii.yml]

Prints the recall on the messages holding personal data (overall, per kind, per
language) and the false refusals on the others (counts only, never a text).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from project_paths import HELDOUT_DIR
from retrain.pii import personal_data

DEFAULT_SET = HELDOUT_DIR / "pii.yml"


def measure(path: Path = DEFAULT_SET) -> Dict[str, object]:
    messages = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["messages"]
    caught: Dict[str, List[int]] = defaultdict(lambda: [0, 0])  # key -> [found, total]
    refused: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for message in messages:
        found = bool(personal_data(message["text"]))
        if message["pii"]:
            for key in ["all", f"lang:{message['lang']}", *(f"kind:{k}" for k in message.get("kinds") or [])]:
                caught[key][0] += found
                caught[key][1] += 1
        else:
            for key in ("all", f"lang:{message['lang']}"):
                refused[key][0] += found
                refused[key][1] += 1
    recall = caught["all"][0] / max(1, caught["all"][1])
    return {"recall": recall, "caught": dict(caught), "false_refusals": dict(refused)}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrain.pii_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    args = parser.parse_args(argv)
    result = measure(args.set)
    for key, (found, total) in sorted(result["caught"].items()):
        print(f"recall   {key:18} {found:3}/{total:<3} {found / total:.3f}")
    for key, (found, total) in sorted(result["false_refusals"].items()):
        print(f"refused  {key:18} {found:3}/{total:<3} {found / total:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
