"""Review S14: what the launcher and the retention job create under var/ is readable by
its owner only, and var/ itself is not listable by other local users."""

import os
import stat
import subprocess
import sys

from project_paths import REPO_ROOT, VAR_DIR


def test_the_launchers_files_are_private():
    probe = VAR_DIR / "privacy-probe.db"
    code = (
        "import sqlite3; from bot.settings import private_files; private_files(); "
        f"sqlite3.connect({str(probe)!r}).execute('create table t (x)')"
    )
    try:
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO_ROOT,
            check=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        assert stat.S_IMODE(VAR_DIR.stat().st_mode) == 0o700
        assert stat.S_IMODE(probe.stat().st_mode) & 0o077 == 0, oct(probe.stat().st_mode)
    finally:
        probe.unlink(missing_ok=True)
