"""Issue 12 finding 7: every host rule sees the host a browser goes to (WHATWG, ada-url)."""

from __future__ import annotations

import pytest

from channels import urls
from channels.weibo.text import host_on_domain
from syndicator.checks import run_checks
from syndicator.checks.base import CheckInput
from syndicator.checks.sanitize import is_trusted_link

SITES = frozenset({"test.gov.cn"})
# urllib.parse reads www.test.gov.cn as the host of each; a browser goes to evil.example.
DISGUISED = [
    "https://evil.example\\@www.test.gov.cn/",
    "https://evil.example\\\\@www.test.gov.cn/",
    "https:\\\\evil.example\\@www.test.gov.cn",
    "https://evil.example\t\\@www.test.gov.cn/",
]


@pytest.mark.parametrize("href", DISGUISED)
def test_a_backslash_does_not_make_a_foreign_link_on_site(href: str) -> None:
    assert not is_trusted_link(href, SITES)


def test_the_off_site_link_rule_removes_it() -> None:
    body = f'<p>详见<a href="{DISGUISED[0]}">附件</a></p>'
    report = run_checks(CheckInput("通知", body, url="https://www.test.gov.cn/art/1.html"))
    assert [f.rule for f in report.findings] == ["sanitize.offsite_link"]
    assert "evil.example" not in report.sanitized_html


@pytest.mark.parametrize("href", ["//evil.example/x", "\\\\evil.example\\x", "/\\evil.example/x"])
def test_relative_looking_links_that_leave_the_site_are_off_site(href: str) -> None:
    assert not is_trusted_link(href, SITES)


@pytest.mark.parametrize(
    "href", ["/art/1.html", "art/1.html", "?page=2", "#top", "HTTPS://WWW.TEST.GOV.CN/a"]
)
def test_links_on_the_site_stay(href: str) -> None:
    assert is_trusted_link(href, SITES)


@pytest.mark.parametrize("url", DISGUISED)
def test_the_weibo_safe_domain_sees_the_real_host(url: str) -> None:
    assert not host_on_domain(url, "test.gov.cn")
    assert host_on_domain("https://www.test.gov.cn/art/1.html", "test.gov.cn")


def test_hosts_are_normalised_like_a_browser_does() -> None:
    assert urls.host_of("HTTPS://WWW.Test.GOV.cn./a") == "www.test.gov.cn"
    assert urls.host_of("http://中国政府.cn/") == "xn--fiqs8sirgfmh.cn"
    assert urls.web_url("http://0x7f.1/").host == "127.0.0.1"
    assert urls.strip_query("https://a.gov.cn/x?access_token=1#f") == "https://a.gov.cn/x"
