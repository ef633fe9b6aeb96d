"""Commercial advertising holds an article; money amounts in policy text do not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from syndicator.checks import ads, run_checks
from syndicator.checks.base import CheckInput

ArticleFactory = Callable[..., CheckInput]


def test_ad_with_price_and_scan_to_buy_is_held(article: ArticleFactory) -> None:
    real = article("001")
    body = real.body_html + "<p>特惠礼盒原价199元，现价￥99，扫码购买，优惠码 GOV2024 再减10元！</p>"

    report = run_checks(replace(real, body_html=body))

    assert report.held
    assert {(f.rule, f.matched) for f in report.blocking} == {
        ("ads.price", "原价199元"),
        ("ads.price", "￥99"),
        ("ads.call_to_buy", "扫码购买"),
        ("ads.promo_code", "优惠码 GOV2024"),
    }


def test_budget_amounts_and_procurement_are_not_ads() -> None:
    body = (
        "<p>市财政安排专项资金500万元，每户补贴200元。</p><p>通过政府购买服务方式提供。</p>"
        "<p>不得刊登商业广告或链接商业广告页面。</p><p>扫码关注“微怀化”公众号办理。</p>"
    )

    assert ads.check(CheckInput("关于下达补贴资金的通知", body)) == []


def test_real_corpus_has_no_ads(article: ArticleFactory, corpus_name: str) -> None:
    assert ads.check(article(corpus_name)) == []
