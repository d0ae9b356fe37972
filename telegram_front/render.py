"""Rasa elements -> Telegram messages: HTML escaping, inline keyboards, splitting.

Rasa's REST channel returns a list of elements; each has one of "text" (maybe with
"buttons"), "image", "attachment" or "custom". Rasa cuts every text at blank lines into
several elements; consecutive texts are joined back here into one Telegram message (so
an answer is one bubble, not five), then split again at paragraph boundaries when longer
than Telegram's 4,096 characters. A message with buttons closes its group and carries
the keyboard on its last part. "custom" (the answer payload) is never shown.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

MAX_MESSAGE_CHARS = 4096

# A button in Telegram terms: (title, kind, value) with kind "payload" or "url".
Button = Tuple[str, str, str]


@dataclass
class OutText:
    text: str  # raw text, not escaped
    buttons: List[Button] = field(default_factory=list)


@dataclass
class OutImage:
    url: str


Outgoing = Any  # OutText | OutImage


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), never less than len()."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def elements_to_outgoing(elements: Iterable[Dict[str, Any]], buttons_prompt: str) -> List[Outgoing]:
    """Groups Rasa's elements into the messages to send (texts still raw)."""
    out: List[Outgoing] = []
    pending: List[str] = []

    def flush(buttons: Optional[List[Button]] = None) -> None:
        text = "\n\n".join(p for p in pending if p.strip())
        if text or buttons:
            out.append(OutText(text or buttons_prompt, buttons or []))
        pending.clear()

    for element in elements:
        if not isinstance(element, dict):
            continue
        text = element.get("text")
        buttons = _buttons(element.get("buttons"))
        if isinstance(text, str) and text.strip():
            pending.append(text.strip())
        if buttons:
            flush(buttons)
        image = element.get("image")
        if isinstance(image, str) and image.strip():
            flush()
            out.append(OutImage(image.strip()))
        attachment = element.get("attachment")
        if isinstance(attachment, str) and attachment.strip():
            pending.append(attachment.strip())
        # element.get("custom") is deliberately ignored: it is data for the fronts.
    flush()
    return out


def _buttons(raw: Any) -> List[Button]:
    buttons: List[Button] = []
    if not isinstance(raw, list):
        return buttons
    for button in raw:
        if not isinstance(button, dict):
            continue
        title = str(button.get("title") or "").strip()
        url = button.get("url")
        payload = button.get("payload")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            buttons.append((title or url, "url", url))
        elif isinstance(payload, str) and payload.strip():
            buttons.append((title or payload, "payload", payload.strip()))
    return buttons


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> List[str]:
    """Splits raw text into parts of at most `limit` (UTF-16 units).

    Cuts at blank lines first, then at line ends, then after sentences, then at spaces,
    and only as a last resort inside a word. Parts are stripped; nothing but the
    whitespace at the cuts is lost.
    """
    text = text.strip()
    if tg_len(text) <= limit:
        return [text] if text else []
    return [p for p in _split(text, limit, 0) if p]


_SEPARATORS: List[Tuple[re.Pattern, str]] = [
    (re.compile(r"\n[ \t]*\n\s*"), "\n\n"),
    (re.compile(r"[ \t]*\n\s*"), "\n"),
    (re.compile(r"(?<=[.!?…;:])[ \t]+"), " "),
    (re.compile(r"[ \t]+"), " "),
]


def _split(text: str, limit: int, level: int) -> List[str]:
    if tg_len(text) <= limit:
        return [text]
    if level >= len(_SEPARATORS):
        return _hard_cut(text, limit)
    pattern, joiner = _SEPARATORS[level]
    pieces = [p for p in pattern.split(text) if p]
    if len(pieces) == 1:
        return _split(text, limit, level + 1)
    parts: List[str] = []
    current = ""
    for piece in pieces:
        for sub in _split(piece, limit, level + 1) if tg_len(piece) > limit else [piece]:
            candidate = f"{current}{joiner}{sub}" if current else sub
            if tg_len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = sub
    if current:
        parts.append(current)
    return [p.strip() for p in parts]


def _hard_cut(text: str, limit: int) -> List[str]:
    parts, current, size = [], [], 0
    for char in text:
        width = tg_len(char)
        if size + width > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        parts.append("".join(current))
    return parts


@dataclass
class TelegramMessage:
    """One sendMessage/sendPhoto call: HTML text (escaped) or a photo URL."""

    html: Optional[str] = None
    photo: Optional[str] = None
    buttons: List[Button] = field(default_factory=list)


def to_telegram(outgoing: List[Outgoing], limit: int = MAX_MESSAGE_CHARS) -> List[TelegramMessage]:
    messages: List[TelegramMessage] = []
    for item in outgoing:
        if isinstance(item, OutImage):
            messages.append(TelegramMessage(photo=item.url))
            continue
        parts = split_text(item.text, limit) or [item.text]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            messages.append(TelegramMessage(html=escape(part), buttons=item.buttons if last else []))
    return messages


def render_elements(
    elements: Iterable[Dict[str, Any]], buttons_prompt: str, limit: int = MAX_MESSAGE_CHARS
) -> List[TelegramMessage]:
    return to_telegram(elements_to_outgoing(elements, buttons_prompt), limit)


def split_html_paragraphs(html_text: str, limit: int = MAX_MESSAGE_CHARS) -> List[str]:
    """Splits the front's own (trusted, already HTML) texts at blank lines.

    Their tags never span paragraphs, so a cut at a blank line is always safe.
    Used for the front's texts only: Rasa's texts go through split_text + escape.
    """
    if tg_len(html_text) <= limit:
        return [html_text]
    return split_text(html_text, limit)
