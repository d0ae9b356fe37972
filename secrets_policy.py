"""What a secret given in the environment must look like (one rule for every process).

Imported by bot/ (the Rasa side) and by telegram_front/ (the Telegram process), hence at
the top level: the front must not depend on bot/ (and so on Rasa).

A secret is refused when it is shorter than 32 characters (less than 128 bits once
generated), when it holds a placeholder word left from an example file (CHANGE-ME,
changeme, example, xxx, ...) or when it is a repetition of a few characters. Generated
secrets (`secrets.token_hex(32)`, `token_urlsafe(32)`, `openssl rand -hex 32`) pass.
The message names the variable, never the value.
"""

from __future__ import annotations

import re
from typing import Optional

MIN_SECRET_CHARS = 32
# Words of 7+ letters and "x{6,}" (not "xxx"): a random base64 secret holds "xxx" about
# once in 25, a 5-letter word about once in 100,000.
# Fewer distinct characters than this: a typed pattern ("k" * 40, "abab..."), not a
# random secret (a 32-character hex secret has about 15).
MIN_DISTINCT_CHARS = 8
PLACEHOLDER = re.compile(
    r"(?i)change[\s_.-]*me|example|placeholder|replace[\s_.-]*(?:me|this)|your[\s_.-]*(?:secret|token|key)"
    r"|secret[\s_.-]*here|insecure|not[\s_.-]*secret|x{6,}|(.)\1{7,}"
)


class WeakSecretError(ValueError):
    """The named secret is a placeholder or too short (the message never holds it)."""


def secret_problem(value: Optional[str]) -> Optional[str]:
    """Why `value` is not acceptable as a secret, or None when it is."""
    if not value or not value.strip():
        return "is empty"
    value = value.strip()
    if PLACEHOLDER.search(value):
        return "is a placeholder left from an example (a word such as change-me or example, or x repeated)"
    if len(value) < MIN_SECRET_CHARS:
        return f"is shorter than {MIN_SECRET_CHARS} characters"
    if len(set(value)) < MIN_DISTINCT_CHARS:
        return "is a repetition of a few characters"
    return None


def check_secret(name: str, value: Optional[str]) -> str:
    """Returns the stripped secret; raises WeakSecretError naming `name` (not the value)."""
    problem = secret_problem(value)
    if problem:
        raise WeakSecretError(
            f'{name} {problem}: generate one, e.g. `python3 -c "import secrets; '
            f'print(secrets.token_hex(32))"`'
        )
    return str(value).strip()
