"""Run a training command and record its wall time next to the model.

    python -m retrain.train_info --out models/train_info.json -- \
        rasa train --config config.yml ... --fixed-model-name assistant

Writes ``{"seconds": ..., "command": [...], "cpu_count": ..., "finished_at": ...}``,
which ``python -m retrain.evaluate`` reads to report the training budget (<= 300 s on 2
cores). ``--seconds N`` records a time measured elsewhere without running anything.
The JSON is written only when the command succeeds; its exit code is passed through.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional


def write_info(out: Path, seconds: float, command: Optional[List[str]] = None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "command": command,
                "cpu_count": os.cpu_count(),
                "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="models/train_info.json")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command else []

    if args.seconds is not None:
        write_info(Path(args.out), args.seconds, None)
        return 0
    if not command:
        parser.error("give a command after --, or --seconds")
    start = time.perf_counter()
    code = subprocess.call(command)
    seconds = time.perf_counter() - start
    if code == 0:
        write_info(Path(args.out), seconds, command)
        print(f"Training took {seconds:.0f} s (recorded in {args.out})")
    return code


if __name__ == "__main__":
    sys.exit(main())
