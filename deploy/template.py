"""Fills the `{{name}}` placeholders of the deploy templates (nginx, supervisord)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict


class SetupError(RuntimeError):
    """Something the production profile needs is missing; the message says what to do."""


def render(template: Path, values: Dict[str, str]) -> str:
    """A placeholder alone on its line disappears with its line when its value is empty."""
    text = template.read_text()

    def line(match: "re.Match[str]") -> str:
        filled = values[match.group(1)]
        return filled.rstrip("\n") + "\n" if filled.strip() else ""

    try:
        text = re.sub(r"^[ \t]*\{\{(\w+)\}\}[ \t]*\n", line, text, flags=re.MULTILINE)
        return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], text)
    except KeyError as error:
        raise SetupError(f"{template.name}: no value for {{{{{error.args[0]}}}}}") from None
