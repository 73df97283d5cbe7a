"""Turning whatever a CMS sends into clean text: markup stripped, bytes decoded, hashes stable.

Embedding raw HTML wastes the model's 256 word pieces on tags, PostgreSQL rejects NUL bytes, and a
content hash must not change because of whitespace, so all text passes through here first.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from html.parser import HTMLParser

WORDS_PER_MINUTE = 230
_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6",
                         "blockquote", "section", "article", "tr", "figcaption", "pre"})
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "head"})
_TAG_HINT = re.compile(r"<[a-zA-Z!/][^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def to_text(value: str | bytes | None) -> str:
    """Decode bytes (UTF-8, replacing invalid sequences) and drop control characters."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return _CONTROL.sub("", value)


def strip_html(value: str) -> str:
    """Return the readable text of an HTML fragment (plain text passes through unchanged)."""
    if not _TAG_HINT.search(value):
        return html.unescape(value) if "&" in value else value
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return "".join(parser.parts)


def clean_text(value: str | bytes | None) -> str:
    """Markup stripped, whitespace normalised, paragraphs kept as blank-line breaks."""
    text = strip_html(to_text(value))
    text = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def clean_line(value: str | bytes | None) -> str:
    """A single-line field (title, dek): markup stripped, all whitespace collapsed."""
    return " ".join(strip_html(to_text(value)).split())


def word_count(text: str) -> int:
    return len(text.split())


def read_minutes(words: int) -> int:
    """Minutes to read at an adult's average pace; never less than one."""
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def read_label(minutes: int) -> str:
    return f"{minutes} min read" if minutes == 1 else f"{minutes} mins read"


def content_hash(title: str, dek: str, body: str) -> str:
    """Hash of exactly the text that is embedded, so unchanged text is never re-embedded."""
    digest = hashlib.sha256()
    for part in (title, dek, body):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


# --- #13 teasers that read well: shortcodes, "read more" tails and one- or two-sentence deks
DEK_LIMIT = 300
_SHORTCODE = re.compile(r"\[/?[a-zA-Z][\w-]*(?:\s[^\]]*)?\]")
_CAPTION = re.compile(r"\[caption[^\]]*\].*?\[/caption\]", re.DOTALL | re.IGNORECASE)
_READ_MORE = re.compile(r"\s*(?:\[(?:…|\.\.\.|&hellip;)\]|…|\.\.\.)?\s*(?:(?:Continue reading|Read more)"
                        r"\b.*)?$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s|$)")


def strip_shortcodes(value: str) -> str:
    """WordPress shortcodes a plugin or theme left unrendered (``[vc_row]``, ``[caption]…``)."""
    return _SHORTCODE.sub(" ", _CAPTION.sub(" ", value))


def dek(value: str | None, limit: int = DEK_LIMIT) -> str:
    """A clean one- or two-sentence summary of an excerpt: markup, shortcodes, "[…]" and
    "Continue reading" tails removed, never cut mid-sentence (a single over-long sentence is cut
    at a word and marked with "…")."""
    text = _READ_MORE.sub("", clean_line(strip_shortcodes(to_text(value))))
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    whole = [end for end in ends[:2] if end <= limit]
    if whole:
        return text[:whole[-1]]
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
