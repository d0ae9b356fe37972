"""Pseudonymous sender ids: what Rasa sees instead of the Telegram chat id.

sender = hex(HMAC-SHA256(key, str(chat_id))). The key comes from SENDER_ID_SECRET, or
from a file created once with mode 600, so that the same person keeps the same id across
restarts (their conversation can be continued and erased) while nobody can go back from
the id to the Telegram account without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Optional

from secrets_policy import check_secret

logger = logging.getLogger(__name__)

MIN_FILE_SECRET_CHARS = 32


def sender_id(secret: str, chat_id: int) -> str:
    return hmac.new(secret.encode("utf-8"), str(chat_id).encode("ascii"), hashlib.sha256).hexdigest()


class Pseudonymizer:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("empty sender id secret")
        self._secret = secret

    def __call__(self, chat_id: int) -> str:
        return sender_id(self._secret, chat_id)

    def __repr__(self) -> str:  # never print the key
        return "Pseudonymizer(<secret>)"


def load_or_create_secret(path: Path) -> str:
    """Returns the key stored in `path`, creating it (mode 600) when missing."""
    path = Path(path)
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    # Write a private temporary file, then link it into place: the key file appears
    # atomically, complete, and never with wider permissions than 600.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secret + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
        logger.info("Generated a new sender id secret file")
    except FileExistsError:  # another process created it first: use theirs
        pass
    finally:
        os.unlink(tmp)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("Sender id secret file was readable by others: setting mode 600")
        os.chmod(path, 0o600)
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_FILE_SECRET_CHARS:
        raise ValueError(
            f"sender id secret file {path} is empty or too short; "
            "delete it to generate a new one (ids will change) or restore it"
        )
    return secret


def make_pseudonymizer(secret: Optional[str], secret_file: Path) -> Pseudonymizer:
    """A key given in the environment must be strong (secrets_policy); the file's key is
    generated here, or at least 32 characters long."""
    if secret:
        return Pseudonymizer(check_secret("SENDER_ID_SECRET", secret))
    return Pseudonymizer(load_or_create_secret(secret_file))
