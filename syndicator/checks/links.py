"""Links and attachments that do not work (issue 19 §2; inspections cite 错链断链).

The statuses are gathered before the checks run (syndicator/linkcheck.py, through the safe
fetcher) and arrive as data in `CheckInput.links`; this rule only turns them into findings and
finds the links to gather (`link_targets`). A link that could not be checked (the portal briefly
down) is no finding: never a false "broken".
"""

from __future__ import annotations

from html.parser import HTMLParser

from channels.urls import BadUrl, web_url
from syndicator.checks.base import CheckInput, Finding, LinkStatus, clip

MESSAGES = {
    "broken": "link or attachment is gone (HTTP {detail})",
    "dns_failure": "link or attachment host does not resolve ({detail})",
    "offsite_redirect": "link or attachment redirects to another site ({detail})",
    "refused": "link or attachment is not reachable from the internet ({detail})",
}
MAX_LINKS = 50  # an article with more links is checked on its first fifty


def check(inp: CheckInput) -> list[Finding]:
    return [_finding(inp, status) for status in inp.links if status.state in MESSAGES]


def _finding(inp: CheckInput, status: LinkStatus) -> Finding:
    message = MESSAGES[status.state].format(detail=status.detail or "?")
    # Not positional: the URL itself says which link it is.
    return Finding(f"links.{status.state}", inp.link_severity, message, clip(status.url, 200), -1, "body")


def link_targets(body_html: str, base_url: str) -> list[str]:
    """Every http(s) link in the body as an absolute URL, first MAX_LINKS, once each.
    Links to a place in the article itself (#…) are not fetched."""
    parser = _Links()
    parser.feed(body_html)
    parser.close()
    found: dict[str, None] = {}
    for href in parser.hrefs:
        if href.strip().startswith("#"):
            continue
        try:
            found[web_url(href, base=base_url or None).href.split("#", 1)[0]] = None
        except BadUrl:
            continue  # mailto:, tel:, javascript: (the sanitiser's business)
    return list(found)[:MAX_LINKS]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.hrefs.append(href)
