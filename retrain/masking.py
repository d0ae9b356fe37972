"""Hides personal details in a user message before anyone reviews it.

    mask_personal_data("appelez-moi au 06 12 34 56 78") == "appelez-moi au <PHONE>"

Replaced, in this order (each by a placeholder a maintainer can read and that stays
harmless in training data):

- ``<EMAIL>``    e-mail addresses;
- ``<URL>``      web addresses (with a scheme, ``www.``, or a bare domain of a common
                 top-level domain, e.g. ``t.me/pseudo``, ``exemple.fr``);
- ``<USERNAME>`` ``@pseudo`` handles (Telegram, Instagram, ...);
- ``<PHONE>``    phone numbers: French (``06 12 34 56 78``, ``06.12.34.56.78``,
                 ``0612345678``) and international (``+33 6 12 34 56 78``,
                 ``+33 (0)6 ...``, ``0033 6 ...``, ``+234 803 123 4567``);
- ``<NUMBER>``   identifiers: IBANs, any word holding 6 digits or more (passport and
                 file numbers such as ``12AB34567``, ``7512345678``), and digit groups
                 holding 8 digits or more (``1234 5678 9012``);
- ``<DATE>``     full dates with a year (``12/05/1990``), e.g. dates of birth;
- ``<NAME>``     the name after "je m'appelle", "mon nom est", "mon prénom c'est",
                 "je suis madame/monsieur";
- ``<ADDRESS>``  a street address ("12 rue de la Paix").

Short numbers are kept: emergency and help lines (17, 112, 114, 115, 119, 3919,
116 006), years, postal codes, article numbers (L425-1). Names are only caught after
the phrases above: the inbox's reviewer still reads each message before accepting it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, List, Pattern, Tuple, Union

PLACEHOLDERS = ("<EMAIL>", "<URL>", "<USERNAME>", "<PHONE>", "<NUMBER>", "<DATE>", "<NAME>", "<ADDRESS>")

_TRAILING_PUNCTUATION = ".,;:!?)]}'\"»"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
URL = re.compile(
    r"(?i)(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"]+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:fr|com|org|net|info|io|me|be|ch|eu|de|uk|es|it|pt|nl|ng|ro|bg|al|ma|dz|tn|sn|ci|cm|cn|ru|"
    r"app|ly|gl|co|tv|gg|link|site|online|xyz)\b(?:/[^\s<>\"]*)?"
)
USERNAME = re.compile(r"(?<![\w@])@\w(?:[\w.]*\w)?")
PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?:\+|\b00)\s?[1-9]\d{0,2}(?:[\s.\-]?\(0\))?(?:[\s.\-]?\d){6,14}(?!\d)"
)
PHONE_FRENCH = re.compile(r"(?<![\w+])0[1-9](?:[\s.\-]?\d){8}(?!\d)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
DATE = re.compile(r"\b\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)\d{2}\b")
ALNUM_WORD = re.compile(r"\b[^\W_]+\b", re.UNICODE)
DIGIT_GROUPS = re.compile(r"(?<![\w])\d+(?:[ .\-]\d+)+(?![\w])")
_APOSTROPHE = "['\u2019\u02bc]"
NAME = re.compile(
    r"(?i)\b(?P<lead>je m"
    + _APOSTROPHE
    + r"appelle|j"
    + _APOSTROPHE
    + r"m"
    + _APOSTROPHE
    + r"appelle|mon (?:nom|prénom|prenom) (?:est|c"
    + _APOSTROPHE
    + r"est|:)"
    + r"|je suis (?:madame|monsieur|mademoiselle|mme|mlle|m\.|mr))\s+"
    r"(?P<name>[^\W\d_][\w\-" + _APOSTROPHE[1:-1] + r"]*(?:\s+[A-ZÀ-Ý][\w\-]*)?)"
)
ADDRESS = re.compile(
    r"(?i)\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.?|boulevard|bd|place|chemin|all[ée]e"
    r"|impasse|quai|route|cours|square|passage|cité|cite|résidence|residence)\b"
    r"(?:\s+(?!(?:à|a|au|aux|et|pour|dans|chez|je|j|mais|depuis|avec)\b)[^\s,.;!?]+){1,5}"
)

Replacement = Union[str, Callable[["re.Match[str]"], str]]


def _keep_trailing(placeholder: str) -> Callable[["re.Match[str]"], str]:
    """Replaces the match but gives back the sentence punctuation it swallowed."""

    def replace(match: "re.Match[str]") -> str:
        found = match.group(0)
        stripped = found.rstrip(_TRAILING_PUNCTUATION)
        return placeholder + found[len(stripped) :]

    return replace


def _long_number_word(match: "re.Match[str]") -> str:
    word = match.group(0)
    return "<NUMBER>" if sum(c.isdigit() for c in word) >= 6 else word


def _long_digit_groups(match: "re.Match[str]") -> str:
    found = match.group(0)
    return "<NUMBER>" if sum(c.isdigit() for c in found) >= 8 else found


def _name(match: "re.Match[str]") -> str:
    return match.group(0)[: match.start("name") - match.start(0)] + "<NAME>"


RULES: List[Tuple[Pattern[str], Replacement]] = [
    (EMAIL, "<EMAIL>"),
    (URL, _keep_trailing("<URL>")),
    (USERNAME, "<USERNAME>"),
    (PHONE_INTERNATIONAL, "<PHONE>"),
    (PHONE_FRENCH, "<PHONE>"),
    (IBAN, "<NUMBER>"),
    (DATE, "<DATE>"),
    (ADDRESS, "<ADDRESS>"),
    (ALNUM_WORD, _long_number_word),
    (DIGIT_GROUPS, _long_digit_groups),
    (NAME, _name),
]


def mask_personal_data(text: str) -> str:
    """The message with its personal details replaced by placeholders, on one line."""
    text = unicodedata.normalize("NFC", text or "")
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())
