"""Emergency keyword matcher (data: nlu/emergency_keywords.yml).

Pure Python, no Rasa import: the Rasa component (nlu.components.EmergencySafetyNet),
the evaluation tool and the tests share it. It never logs or stores message text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Pattern, Union

import yaml

from nlu.normalize import fold

DEFAULT_KEYWORDS_FILE = Path(__file__).with_name("emergency_keywords.yml")


def _phrase_pattern(phrase: str) -> Pattern[str]:
    words = fold(phrase).split()
    if not words:
        raise ValueError("empty emergency phrase")
    return re.compile(r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b")


def _compile_all(phrases: Iterable[str], regexes: Iterable[str]) -> List[Pattern[str]]:
    compiled = [_phrase_pattern(p) for p in phrases or []]
    compiled += [re.compile(r) for r in regexes or []]
    return compiled


@dataclass(frozen=True)
class Match:
    """Why the net fired: the group ("always" / "guarded") and the pattern index.

    Deliberately holds no text of the message.
    """

    group: str
    pattern: str


class EmergencyMatcher:
    """Decides whether a message says "I am in danger now"."""

    def __init__(self, spec: Dict[str, Any]) -> None:
        always = spec.get("always") or {}
        guarded = spec.get("guarded") or {}
        self.always = _compile_all(always.get("phrases"), always.get("regexes"))
        self.guarded = _compile_all(guarded.get("phrases"), guarded.get("regexes"))
        self.unless = [re.compile(r) for r in spec.get("unless") or []]
        self.immediacy = [re.compile(r) for r in spec.get("immediacy") or []]

    @classmethod
    def from_file(cls, path: Union[str, Path, None] = None) -> "EmergencyMatcher":
        path = Path(path) if path else DEFAULT_KEYWORDS_FILE
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle) or {}
        return cls(spec)

    def match(self, text: Optional[str]) -> Optional[Match]:
        """Return why ``text`` is an emergency, or None."""
        if not text or text.lstrip().startswith("/"):
            # Button payloads ("/porter-plainte") are handled by Rasa itself.
            return None
        folded = fold(text)
        if not folded:
            return None
        for pattern in self.always:
            if pattern.search(folded):
                return Match("always", pattern.pattern)
        for pattern in self.guarded:
            if pattern.search(folded):
                if not any(u.search(folded) for u in self.unless):
                    return Match("guarded", pattern.pattern)
                if any(i.search(folded) for i in self.immediacy):
                    return Match("guarded+immediacy", pattern.pattern)
                # A guarded pattern matched but the context says "not now": keep
                # looking, another pattern may still be unconditional.
        return None

    def is_emergency(self, text: Optional[str]) -> bool:
        return self.match(text) is not None
