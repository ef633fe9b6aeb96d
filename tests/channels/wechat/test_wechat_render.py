"""How an article looks on WeChat, and WeChat's limits applied before anything is sent."""

from __future__ import annotations

import re

import pytest

from channels.base import PermanentError
from channels.wechat.render import make_digest, render_article, shorten_title


def test_short_title_is_kept():
    assert shorten_title("关于加强政务新媒体管理的通知") == "关于加强政务新媒体管理的通知"


def test_parenthesised_own_document_number_is_dropped_first():
    title = "江苏省人民政府办公厅关于进一步加强政府网站和政务新媒体建设管理的通知（苏政办发〔2017〕96号）"
    assert (
        shorten_title(title, "苏政办发〔2017〕96号")
        == "江苏省人民政府办公厅关于进一步加强政府网站和政务新媒体建设管理的通知"[:31] + "…"
    )


def test_title_is_never_cut_inside_a_document_number():
    title = "转发国务院办公厅关于加强政府网站信息内容建设的意见国办发〔2014〕57号的通知"
    short = shorten_title(title)
    assert len(short) <= 32 and short.endswith("…")
    assert title.startswith(short[:-1])
    assert "〔" not in short  # the whole number went, not half of it


def test_cut_title_fits_and_ends_with_an_ellipsis():
    short = shorten_title("关于" + "进一步" * 20 + "的通知")
    assert len(short) == 32 and short.endswith("…")


def test_digest_is_at_most_120_characters_and_prefers_a_full_stop():
    digest = make_digest("<p>" + "政府网站是重要平台。" * 30 + "</p>")
    assert len(digest) <= 120 and digest.endswith("。")
    assert make_digest("<p>" + "字" * 200 + "</p>") == "字" * 119 + "…"


def test_article_shows_document_number_unit_headings_and_source(make_article):
    post = render_article(make_article())
    assert "苏政办发〔2017〕96号" in post.body and "江苏省人民政府办公厅" in post.body
    assert "2017年08月01日" in post.body
    assert re.search(r'<p style="[^"]*font-weight:bold[^"]*">一、总体要求</p>', post.body)
    assert "<strong>（一）明确责任。</strong>各地要落实主体责任" in post.body
    assert f"“阅读原文”查看原文：{post.link}" in post.body
    assert post.link.endswith("/art/2017/8/1/art_1.html")
    assert post.summary.startswith("各市、县人民政府")


def test_only_inline_styles_no_scripts_no_links(make_article):
    body_html = (
        '<p onclick="steal()">正文<script>alert(1)</script><a href="https://ads.example">点此</a></p>'
        '<style>p{color:red}</style><p class="x">二段</p>'
    )
    post = render_article(make_article(body_html=body_html))
    assert "script" not in post.body and "alert" not in post.body
    assert "<style" not in post.body and "class=" not in post.body and "onclick" not in post.body
    assert "href" not in post.body and "点此" in post.body


def test_images_are_absolute_and_listed(make_article, portal):
    post = render_article(make_article())
    assert post.images == (f"{portal.url}/images/figure-1.png",)
    assert 'style="display:block;max-width:100%' in post.body


def test_content_of_twenty_thousand_characters_is_refused(make_article):
    with pytest.raises(PermanentError) as error:
        render_article(make_article(body_html="<p>" + "字" * 20_000 + "</p>"))
    assert error.value.code == "content_too_long"


def test_corpus_article_renders_within_limits(make_article):
    paragraphs = "".join(f"<p>（{n}）第{n}条。" + "内容" * 40 + "</p>" for n in "一二三四五")
    post = render_article(
        make_article(
            title="辽宁省人民政府办公厅关于加强政府网站信息内容建设管理的实施意见", body_html=paragraphs
        )
    )
    assert len(post.title) <= 32 and len(post.summary) <= 120
    assert post.body.count("<strong>") == 5
