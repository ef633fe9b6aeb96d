"""Value types shared by every check: the input, a finding, and the Check protocol."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, Protocol
from urllib.parse import unquote, urlsplit

Severity = Literal["block", "warn"]
# "doc_number" is the article's 文号 field, checked on its own besides the title and body.
# "attachment" is an attachment's file name (the article's `attachments`, or a linked document).
FieldName = Literal["title", "body", "doc_number", "attachment"]

BLOCK: Severity = "block"
WARN: Severity = "warn"

# Block-level closers become line breaks so that a match never runs across two paragraphs.
_BLOCK_END = re.compile(r"</(?:p|div|h[1-6]|li|tr|td|th|section|blockquote|table)\s*>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]*>")
_DOCUMENT_LINK = re.compile(
    r"""<a\b[^>]*\bhref\s*=\s*["']?([^"'\s>]+\.(?:docx?|xlsx?|et|wps|pdf|zip|rar|7z|csv|txt|ofd))["'\s>]""",
    re.I,
)


@dataclass(frozen=True)
class Finding:
    rule: str  # stored in CheckResult.rule (at most 50 characters)
    severity: Severity
    message: str  # English, for logs and the CLI
    matched: str = ""
    position: int = -1  # offset in the checked text of `field`; -1 when not positional
    field: FieldName = "body"


# What a link check found for one URL (gathered before the checks run; see syndicator/linkcheck.py).
LinkState = Literal["ok", "broken", "dns_failure", "offsite_redirect", "refused", "unchecked"]


@dataclass(frozen=True)
class LinkStatus:
    url: str  # absolute
    state: LinkState
    detail: str = ""  # the HTTP status, the foreign host redirected to, why it was refused


@dataclass(frozen=True)
class CheckInput:
    """One article version as plain values. Body positions refer to `body_text` (text rules) or to
    `body_html` as received (sanitising rules)."""

    title: str
    body_html: str
    doc_number: str | None = None
    url: str = ""
    source_portal: str = ""
    unit: str = ""  # the publishing unit: the article's closing signature should name it
    attachments: tuple[str, ...] = ()  # attachment file names sent with the article
    # Contact data the office publishes as its own (the unit's registered numbers, the allow-list),
    # normalised with checks.pii.normalize_contact; gathered before the checks run.
    allowed_contacts: frozenset[str] = frozenset()
    # Link and attachment statuses, gathered before the checks (checks do no I/O), and how
    # severe a link that does not work is (the office's setting).
    links: tuple[LinkStatus, ...] = ()
    link_severity: Severity = WARN

    @classmethod
    def from_article(cls, data: Mapping[str, object]) -> CheckInput:
        """Build from the ingest JSON shape (corpus/portal-articles/*.json)."""
        doc_number = data.get("doc_number")
        return cls(
            title=str(data.get("title") or ""),
            body_html=str(data.get("body_html") or ""),
            doc_number=str(doc_number) if doc_number else None,
            url=str(data.get("url") or ""),
            source_portal=str(data.get("source_portal") or ""),
            unit=str(data.get("unit") or ""),
            attachments=_attachment_names(data.get("attachments")),
        )

    @cached_property
    def body_text(self) -> str:
        return html_to_text(self.body_html)

    @cached_property
    def attachment_names(self) -> tuple[str, ...]:
        """Declared attachments and the file names of documents the body links to."""
        linked = (
            unquote(urlsplit(m.group(1)).path.rsplit("/", 1)[-1])
            for m in _DOCUMENT_LINK.finditer(self.body_html)
        )
        return tuple(dict.fromkeys([*self.attachments, *linked]))

    def texts(self) -> Iterator[tuple[FieldName, str]]:
        """The fields that text rules read: the title and the body's plain text."""
        yield "title", self.title
        yield "body", self.body_text


class Check(Protocol):
    def __call__(self, inp: CheckInput, /) -> list[Finding]: ...


def _attachment_names(value: object) -> tuple[str, ...]:
    """`attachments`: a list of names or of {"name": …, "url": …} objects."""
    if not isinstance(value, list):
        return ()
    names = (item.get("name") if isinstance(item, dict) else item for item in value)
    return tuple(str(name) for name in names if name)


def html_to_text(body_html: str) -> str:
    """Plain text with one line per block element; entities decoded."""
    text = _BLOCK_END.sub("\n", body_html)
    return html.unescape(_TAG.sub("", text))


def clip(text: str, limit: int = 80) -> str:
    """Matched text short enough for a table cell and a log line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
