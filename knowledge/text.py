"""French text -> search terms; the index and the queries must share exactly this.

Victims often write without accents and with elisions ("j'ai", "l’avocat"), so terms are
lowercased, accent-folded, split on apostrophes, stripped of stop words and stemmed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("french")
_WORD = re.compile(r"[a-z0-9]+")
MAX_TERM_LENGTH = 40  # longer "words" are noise (hashes, glued URLs)

# Written accent-folded, since folding happens before the lookup.
STOP_WORDS = frozenset(
    """
    a ai aie aient aies ait as au aux avai avaient avais avait avec avez aviez avions avoir
    avons ayant ayez ayons c ca ce ceci cela celle celles celui ces cet cette ceux chez ci
    comme comment d dans de des du donc dont elle elles en es est et etaient etais etait
    etant ete etes etiez etions etre eu eue eues eurent eus eut eux fait faire fais faut
    fut furent il ils j je jusqu l la le les leur leurs lui m ma mais me meme mes moi mon
    n ne ni nos notre nous on ont ou par pas peu peut peuvent peux plus pour pourquoi
    puis puisque qu quand que quel quelle quelles quels qui quoi s sa sans se ses si sien
    sienne soi soient sois soit sommes son sont suis sur t ta te tes toi ton tous tout
    toute toutes tu un une unes uns vos votre vous y svp stp bonjour merci est-ce
    dois doit doivent devons devez veux veut voudrais voulez vouloir
    jai jsuis chui cest quest ya
    """.split()
)


def fold(text: str) -> str:
    """Lowercase and drop accents, so "séjour", "Sejour" and "SÉJOUR" meet."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """Snowball French stem; a trailing "e" left by folded "é"/"ée" goes too."""
    result = _STEMMER.stemWord(word)
    while len(result) > 3 and result.endswith("e"):
        result = result[:-1]
    return result


def terms(text: str) -> list[str]:
    """Search terms of a text, in order, repeats kept (the index counts them)."""
    result = []
    for word in _WORD.findall(fold(text)):  # apostrophes and hyphens split words
        if len(word) < 2 or len(word) > MAX_TERM_LENGTH or word in STOP_WORDS:
            continue
        result.append(stem(word))
    return result
