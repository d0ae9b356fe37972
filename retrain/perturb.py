"""Phone-style perturbations of evaluation sentences (robustness check only).

``python -m retrain.evaluate --perturb`` parses every held-out sentence in a "written on a
phone" variant: typographic apostrophes, some words stretched ("aidezzz"), some messages
in capitals, accents dropped. The perturbation is deterministic (seeded by the sentence)
so that runs compare. It is never applied to training data: it only measures whether
the normaliser's steps protect the classifier against these habits.
"""

from __future__ import annotations

import hashlib
import random

from nlu.normalize import fold_accents


def _rng(text: str) -> random.Random:
    seed = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)
    return random.Random(seed)


def perturb(text: str) -> str:
    """One deterministic phone-style variant of ``text``."""
    if text.lstrip().startswith("/"):
        return text
    rng = _rng(text)
    out = text.replace("'", "\u2019")  # phones type the typographic apostrophe
    if rng.random() < 0.5:
        out = fold_accents(out)  # no accents
    words = out.split(" ")
    for index, word in enumerate(words):
        # stretch the last letter of about one word in four ("nooon", "aidezzz")
        if len(word) > 2 and word[-1].isalpha() and rng.random() < 0.25:
            words[index] = word + word[-1] * rng.randint(2, 4)
    out = " ".join(words)
    if rng.random() < 0.3:
        out = out.upper()  # shouting
    elif rng.random() < 0.3:
        out = out[:1].upper() + out[1:]
    return out
