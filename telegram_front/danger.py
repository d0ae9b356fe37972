"""Does a message look like "I am in danger now"? The front's one seam for that question.

It answers such messages with the emergency numbers at once, before and outside the
chat's queue and without waiting for Rasa (Rasa still gives its own answer after).
Today: the keyword net of the NLU (nlu/emergency.py, pure Python, no Rasa import), so
the front and Rasa fire on the same phrases. A trained detector can replace the body of
looks_like_danger() without touching its callers.
"""

from __future__ import annotations

import functools

from nlu.emergency import EmergencyMatcher


@functools.lru_cache(maxsize=1)
def _matcher() -> EmergencyMatcher:
    return EmergencyMatcher.from_file()


def looks_like_danger(text: str) -> bool:
    """True when the text says the person is in danger now. Never logs nor keeps the text."""
    return _matcher().is_emergency(text)
