"""Text normalisation for victims' French: phone typography, shouting, missing accents,
SMS spellings.

Every step is a small pure function so that the NLU pipeline (``TextNormalizer``), the
emergency keyword net and the tests share exactly the same behaviour. Which steps the
pipeline actually uses is decided by measurement (docs/nlu.md, "Normalisation
ablation"); the emergency net always uses the full, most forgiving form (``fold``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Dict, Iterable, Optional

# Rasa's button payloads ("/intent{...}") and the Telegram front's commands start with it.
PAYLOAD_PREFIX = "/"


def typed_words(text: object) -> Optional[str]:
    """The text when it holds a person's words, else None: no text, blank text, or a
    payload or command ("/...")."""
    if not isinstance(text, str) or not text.strip() or text.lstrip().startswith(PAYLOAD_PREFIX):
        return None
    return text


# Apostrophe-like characters seen on phones and in copy-pasted text.
_APOSTROPHES = "\u2019\u2018\u02bc\u02bb\u00b4\u0060\u2032\u201b\uff07"
# Double quotes of every style (French guillemets included).
_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\uff02"
# Dashes and odd spaces.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_SPACES = "\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u3000"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"

_TYPO_TABLE = str.maketrans(
    {
        **{c: "'" for c in _APOSTROPHES},
        **{c: '"' for c in _QUOTES},
        **{c: "-" for c in _DASHES},
        **{c: " " for c in _SPACES},
        **{c: None for c in _ZERO_WIDTH},
    }
)

# A letter written three times or more in a row ("aidezzz", "secouuurs", "nooon").
# French never has a letter three times in a row, so this is safe; doubled letters
# ("belle", "commission") are kept.
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")

# SMS / phone spellings -> standard French. Whole tokens only, matched after
# lowercasing, with or without accents. Keep this short and unambiguous: each entry is
# kept only if it measurably helps on held-out data (docs/nlu.md).
SMS_FORMS: Dict[str, str] = {
    "jsuis": "je suis",
    "chui": "je suis",
    "chuis": "je suis",
    "jsui": "je suis",
    "jpeux": "je peux",
    "jpe": "je peux",
    "jveux": "je veux",
    "jsais": "je sais",
    "jsp": "je sais pas",
    "jai": "j'ai",
    "jme": "je me",
    "jtravaille": "je travaille",
    "cest": "c'est",
    "c": "c'est",
    "koi": "quoi",
    "kwa": "quoi",
    "ki": "qui",
    "ke": "que",
    "keske": "qu'est-ce que",
    "kesk": "qu'est-ce que",
    "qd": "quand",
    "kan": "quand",
    "kand": "quand",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pr": "pour",
    "ds": "dans",
    "dc": "donc",
    "bcp": "beaucoup",
    "tjr": "toujours",
    "tjrs": "toujours",
    "mm": "même",
    "tt": "tout",
    "ya": "il y a",
    "yen": "il y en",
    "svp": "s'il vous plaît",
    "stp": "s'il te plaît",
    "slt": "salut",
    "bjr": "bonjour",
    "bsr": "bonsoir",
    "mrc": "merci",
    "mci": "merci",
    "pa": "pas",
    "papié": "papiers",
    "papie": "papiers",
    "ojd": "aujourd'hui",
    "auj": "aujourd'hui",
    "dmd": "demande",
    "rdv": "rendez-vous",
    "num": "numéro",
    "qqn": "quelqu'un",
    "qqch": "quelque chose",
    "avc": "avec",
}

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*", re.UNICODE)


def normalize_typography(text: str) -> str:
    """Typographic apostrophes, quotes, dashes and odd spaces -> plain ASCII forms."""
    return text.translate(_TYPO_TABLE)


def collapse_repeats(text: str) -> str:
    """Letters repeated three times or more -> one letter ("secouuurs" -> "secours")."""
    return _REPEATS.sub(r"\1", text)


def fold_accents(text: str) -> str:
    """Remove diacritics ("séquestrée" -> "sequestree"); keeps œ/æ as oe/ae."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


# Bulgarian in Cyrillic -> the Latin letters people type on phones ("letter style": ch, sh,
# ya), so that a message typed either way meets the examples written the other way.
_CYRILLIC = {
    **dict(zip("абвгдезийклмнопрстуфхъь", "abvgdeziyklmnoprstufhay")),
    **{"ж": "zh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sht", "ю": "yu", "я": "ya"},
}
_CYRILLIC_TABLE = str.maketrans({**_CYRILLIC, **{k.upper(): v.capitalize() for k, v in _CYRILLIC.items()}})
# The "digit style" of typed Bulgarian: 4 = ч, 6 = ш (next to a letter), q = я (never
# followed by u, unlike French and English "qu").
_TYPED_CH_SH = re.compile(r"(?<=[^\W\d_])[46]|[46](?=[^\W\d_])")
_TYPED_YA = re.compile(r"q(?!u)", re.IGNORECASE)


def latinize_cyrillic(text: str) -> str:
    """Bulgarian Cyrillic and digit-style Latin -> letter-style Latin ("чакам" and "4akam"
    -> "chakam", "шефа" and "6efa" -> "shefa")."""
    text = text.translate(_CYRILLIC_TABLE)
    text = _TYPED_CH_SH.sub(lambda m: "ch" if m.group(0) == "4" else "sh", text)
    return _TYPED_YA.sub("ya", text)


def expand_sms(text: str, forms: Dict[str, str] = SMS_FORMS) -> str:
    """Replace whole SMS tokens by their standard spelling (case-insensitive keys)."""
    folded_forms = {fold_accents(k): v for k, v in forms.items()}

    def _sub(match: "re.Match[str]") -> str:
        word = match.group(0)
        key = fold_accents(word.lower())
        return folded_forms.get(key, word)

    return _TOKEN.sub(_sub, text)


def normalize(
    text: str,
    *,
    typography: bool = True,
    repeats: bool = True,
    lowercase: bool = True,
    sms: bool = False,
    accents: bool = False,
    cyrillic: bool = False,
) -> str:
    """Apply the selected steps in a fixed order (SMS before accent folding, so that
    expansions carrying accents are folded like the rest; Cyrillic before accents, which
    would turn "й" into "и")."""
    if typography:
        text = normalize_typography(text)
    if repeats:
        text = collapse_repeats(text)
    if lowercase:
        text = text.lower()
    if sms:
        text = expand_sms(text)
    if cyrillic:
        text = latinize_cyrillic(text)
    if accents:
        text = fold_accents(text)
    # Always tidy whitespace: it never changes meaning.
    return " ".join(text.split())


def fold(text: str) -> str:
    """The most forgiving form, used for keyword matching.

    Everything of ``normalize`` (with SMS forms and accent folding), then apostrophes,
    hyphens and punctuation become spaces so that "m'enferme", "m enferme" and
    "m’enferme" all read ``m enferme``.
    """
    text = normalize(text.replace("\U0001f198", " sos "), sms=True, accents=True)
    text = re.sub(r"[^\w]+|_", " ", text)
    return " ".join(text.split())


def iter_steps() -> Iterable[str]:
    """Names of the optional steps, in application order (for ablations)."""
    return ("typography", "repeats", "lowercase", "sms", "accents", "cyrillic")
