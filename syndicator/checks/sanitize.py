"""HTML sanitising: only what channels render survives, and whatever a tamperer injected is reported.

A stdlib parser pass removes what nh3 cannot judge (hidden elements with their content, empty tags,
off-site links) and records where each was; nh3 then applies the channels' allowlist, so nothing
outside it survives even if the first pass missed it. Positions are offsets in the HTML as received.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import nh3

from channels.urls import host_of, on_any_domain, scheme_of
from syndicator.checks import spam
from syndicator.checks.base import BLOCK, WARN, CheckInput, Finding, Severity, clip

# Mirrors channels/html.py (what the channels render); checks may not import channels.
ALLOWED_TAGS = {
    "p", "br", "h1", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "span", "div", "section",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "img", "a", "blockquote", "sub", "sup",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "img": {"src", "alt", "width", "height"},
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Active content has no business in a policy article: finding one means the page was tampered with.
ACTIVE_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
    "textarea", "select", "base", "svg", "math", "template",
}  # fmt: skip
# Harmless leftovers of Word / CMS exports: removed, reported as a warning.
INERT_DROPPED_TAGS = {"style", "meta", "link", "title", "head"}
VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
# An empty paragraph or division is a spacer typed by an editor, not an injection.
SPACER_TAGS = {"p", "div", "section", "td", "th", "tr", "tbody", "thead", "table", "li"}
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$)"
    r"|font-size\s*:\s*0(?:px|pt|em|rem|%)?\s*(?:;|$)|(?:left|top|text-indent)\s*:\s*-\d{3,}",
    re.I,
)
# Injected SEO markup repeats one made-up id on many empty elements (ids are unique in real pages).
SHARED_ID_MIN = 4
_SCRIPT_URL = re.compile(r"^\s*(?:javascript|vbscript|data)\s*:", re.I)
_TAG_IN_TITLE = re.compile(r"<\s*/?\s*[a-z][^>]*>", re.I)


@dataclass(frozen=True)
class SanitizeResult:
    html: str  # what channels should receive
    findings: list[Finding]


def check(inp: CheckInput) -> list[Finding]:
    return sanitize(inp).findings


def sanitize(inp: CheckInput, *, trusted_hosts: frozenset[str] = frozenset()) -> SanitizeResult:
    """Pre-filter the body, then apply the channels' allowlist with nh3."""
    sites = _site_hosts(inp) | trusted_hosts
    parser = _Prefilter(inp.body_html, sites)
    parser.feed(inp.body_html)
    parser.close()
    cleaned = nh3.clean(
        parser.output(),
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
    )
    return SanitizeResult(cleaned, [*_title_markup(inp.title), *parser.findings])


def is_trusted_link(href: str, sites: frozenset[str]) -> bool:
    """Relative links stay on the portal; absolute ones must point at it or at a government site.

    The host is the one a browser would go to (WHATWG, channels.urls): in
    `https://evil.example\\@www.test.gov.cn/` that is evil.example, whatever urllib says.
    """
    scheme = scheme_of(href)
    if scheme in ("mailto", "tel"):
        return True
    if not scheme:  # relative: "/art/1.html" stays on the portal (a browser resolves it there)
        host = host_of(href, base=RELATIVE_BASE)
        return host == RELATIVE_HOST
    host = host_of(href)
    return bool(host) and on_any_domain(host, ("gov.cn", *sites))


# Relative links are resolved against a stand-in portal: one that leaves it ("//evil.example/",
# "\\\\evil.example") has another host.
RELATIVE_HOST = "portal.invalid"
RELATIVE_BASE = f"https://{RELATIVE_HOST}/dir/page.html"


def _site_hosts(inp: CheckInput) -> frozenset[str]:
    hosts = {inp.source_portal.lower().strip(), host_of(inp.url)}
    return frozenset(h.removeprefix("www.") for h in hosts if h)


def _title_markup(title: str) -> list[Finding]:
    match = _TAG_IN_TITLE.search(title)
    if not match:
        return []
    return [
        Finding(
            "sanitize.title_markup",
            BLOCK,
            "markup in the title (titles are plain text)",
            match.group(),
            match.start(),
            "title",
        )
    ]


@dataclass
class _Open:
    tag: str
    out_index: int  # where its start tag begins in the output, to drop it when it proves empty
    position: int
    attrs: dict[str, str]
    has_content: bool = False
    unwrap: bool = False  # an off-site link: keep its text, drop the tag
    skip_rule: str = ""  # set on the root of a subtree removed with its content
    skipped_text: list[str] = field(default_factory=list)
    skipped_links: int = 0


class _Prefilter(HTMLParser):
    def __init__(self, source: str, sites: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self._line_starts = [0] + [i + 1 for i, c in enumerate(source) if c == "\n"]
        self._sites = sites
        self._out: list[str] = []
        self._stack: list[_Open] = []
        self._skip_root: _Open | None = None
        self.findings: list[Finding] = []
        self._empty_ids: dict[str, list[int]] = {}  # id -> positions of empty elements carrying it

    def output(self) -> str:
        while self._stack:
            self._close(self._stack.pop())
        self._report_shared_ids()
        return "".join(self._out)

    # -- parser callbacks ------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        element = _Open(tag, len(self._out), self._offset(), values)
        if self._skip_root is not None:
            self._skip_root.skipped_links += "href" in values
        elif tag in ACTIVE_TAGS or tag in INERT_DROPPED_TAGS:
            element.skip_rule = "sanitize.active_content" if tag in ACTIVE_TAGS else "sanitize.dropped_tag"
        elif "hidden" in values or _HIDDEN_STYLE.search(values.get("style", "")) or tag == "noscript":
            element.skip_rule = "sanitize.hidden_element"
        else:
            self._open_visible(element)
        if element.skip_rule and self._skip_root is None:
            self._skip_root = element
        if tag in VOID_TAGS:
            self._close(element)
        else:
            self._stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:  # "<span/>": an element that ends where it starts
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or all(e.tag != tag for e in self._stack):
            return  # a stray end tag; nh3 drops it
        while self._stack:
            element = self._stack.pop()
            self._close(element)
            if element.tag == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._skip_root is not None:
            self._skip_root.skipped_text.append(data)
            return
        self._out.append(html.escape(data, quote=False))
        if data.strip() and self._stack:
            self._stack[-1].has_content = True

    # -- helpers ---------------------------------------------------------------------------
    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _open_visible(self, element: _Open) -> None:
        raw = self.get_starttag_text() or f"<{element.tag}>"
        handlers = sorted(name for name in element.attrs if name.startswith("on"))
        if handlers:
            message = f"event handler attribute removed: {', '.join(handlers)}"
            self._report("sanitize.event_handler", BLOCK, message, raw, element.position)
        if element.tag == "a" and "href" in element.attrs:
            element.unwrap = self._link_rejected(element.attrs["href"], raw, element.position)
        if element.tag == "img" and self._stack:
            self._stack[-1].has_content = True
        if not element.unwrap:
            self._out.append(raw)

    def _link_rejected(self, href: str, raw: str, position: int) -> bool:
        if _SCRIPT_URL.match(href):
            self._report("sanitize.script_url", BLOCK, "script URL removed", raw, position)
            return True
        if not is_trusted_link(href, self._sites):
            self._report("sanitize.offsite_link", BLOCK, "off-site link removed (text kept)", raw, position)
            return True
        return False

    def _close(self, element: _Open) -> None:
        if element is self._skip_root:
            self._skip_root = None
            self._report_skipped(element)
        elif self._skip_root is not None or element.skip_rule:
            return
        elif element.unwrap:
            self._mark_parent_content(element)
        elif element.has_content or element.tag in VOID_TAGS:
            self._out.append(f"</{element.tag}>" if element.tag not in VOID_TAGS else "")
            self._mark_parent_content(element)
        else:
            del self._out[element.out_index :]
            if element.attrs.get("id"):
                self._empty_ids.setdefault(element.attrs["id"], []).append(element.position)
            self._report_empty(element)

    def _mark_parent_content(self, element: _Open) -> None:
        if self._stack and (element.has_content or element.unwrap or element.tag == "img"):
            self._stack[-1].has_content = True

    def _report_empty(self, element: _Open) -> None:
        if element.tag in SPACER_TAGS or (element.tag == "a" and "href" not in element.attrs):
            return  # spacer paragraphs and bookmark anchors: removed quietly
        if element.tag == "a":
            self._report(
                "sanitize.hidden_link",
                BLOCK,
                "link without visible text removed",
                element.attrs["href"],
                element.position,
            )
        else:
            self._report(
                "sanitize.empty_tag",
                WARN,
                f"empty <{element.tag}> removed",
                f"<{element.tag}>",
                element.position,
            )

    def _report_shared_ids(self) -> None:
        for id_, positions in self._empty_ids.items():
            if len(positions) >= SHARED_ID_MIN:
                message = f"{len(positions)} empty elements share the id {id_!r}: injected markup"
                self._report("sanitize.injected_tags", BLOCK, message, f'id="{id_}"', positions[0])

    def _report_skipped(self, element: _Open) -> None:
        text = "".join(element.skipped_text)
        snippet = clip(f"<{element.tag}> {text}")
        if element.skip_rule == "sanitize.hidden_element":
            # Hidden text is how SEO spam hides from readers; hidden links or spam words hold it.
            severe = element.skipped_links > 0 or "href" in element.attrs or spam.is_spammy(text)
            message = "hidden element removed with its content"
            self._report(element.skip_rule, BLOCK if severe else WARN, message, snippet, element.position)
        elif element.skip_rule == "sanitize.active_content":
            self._report(
                element.skip_rule, BLOCK, f"active content <{element.tag}> removed", snippet, element.position
            )
        else:
            self._report(
                element.skip_rule,
                WARN,
                f"<{element.tag}> removed (channels do not render it)",
                snippet,
                element.position,
            )

    def _report(self, rule: str, severity: Severity, message: str, matched: str, position: int) -> None:
        self.findings.append(Finding(rule, severity, message, clip(matched), position, "body"))
