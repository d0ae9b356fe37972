"""Reading one component's files out of the trained Rasa model (.tar.gz) that Rasa serves.

The front uses two parts of that model without running Rasa: the danger detector
(telegram_front/danger.py) and the language model (telegram_front/language.py), so that
its own first answer agrees with Rasa's.
"""

from __future__ import annotations

import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Callable, Optional, Sequence, TypeVar

T = TypeVar("T")


def load_component(
    model_path: Path, component: str, files: Sequence[str], load: Callable[[Path], T]
) -> Optional[T]:
    """``load(folder)`` of the files of the component whose stored name contains
    ``component``, or None when the archive cannot be read, lacks one of them, or ``load``
    fails on them."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = _extract(model_path, component, files, Path(temporary))
        if folder is None:
            return None
        try:
            return load(folder)
        except (OSError, ValueError, KeyError):
            return None


def _extract(model_path: Path, component: str, files: Sequence[str], folder: Path) -> Optional[Path]:
    try:
        with tarfile.open(model_path, "r:gz") as archive:
            found = {
                member.name.rsplit("/", 1)[-1]: member
                for member in archive.getmembers()
                if member.isfile() and component in member.name and member.name.rsplit("/", 1)[-1] in files
            }
            if set(found) != set(files):
                return None
            for name, member in found.items():
                stream = archive.extractfile(member)
                if stream is None:
                    return None
                (folder / name).write_bytes(stream.read())
    except (OSError, EOFError, tarfile.TarError, zlib.error, ValueError):
        return None
    return folder
