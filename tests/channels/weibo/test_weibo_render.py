"""Weibo length counting and status rendering: pure, no network."""

from __future__ import annotations

import pytest
from weibo_support import make_article

from channels.weibo.render import render_status
from channels.weibo.text import MAX_STATUS_LENGTH, atoms, same_status_text, weibo_length

DOC_NUMBER = "苏政办发〔2017〕96号"


def test_chinese_characters_count_one_each() -> None:
    assert weibo_length("政府网站信息内容建设") == 10


def test_two_latin_characters_count_as_one_rounded_up() -> None:
    assert weibo_length("ab") == 1
    assert weibo_length("abc") == 2
    assert weibo_length("政务CEO") == 4  # 2 + 3 half-width, rounded up


def test_characters_beyond_the_bmp_count_two() -> None:
    # The worked example of schappo.blogspot.co.uk/2012/10/weibo-character-count.html
    assert weibo_length("one two 🀂一二三四五🀀") == 13


def test_a_url_counts_a_fixed_length_whatever_its_size() -> None:
    short = "https://www.gov.cn/"
    long = "https://www.gov.cn/zhengce/content/2017-05/09/content_5192095.htm?from=portal&channel=weibo"
    assert weibo_length(short) == weibo_length(long) == 10
    assert weibo_length(f"全文：{long}") == 13


def test_a_url_beyond_140_bytes_pays_its_excess() -> None:
    url = "https://www.gov.cn/" + "a" * 181  # 200 bytes: (200 - 140 + 20) / 2
    assert weibo_length(url) == 40


def test_document_numbers_and_urls_are_atoms() -> None:
    pieces = atoms(f"依据{DOC_NUMBER}执行 https://a.gov.cn/x")
    assert DOC_NUMBER in "".join(p for p in pieces if len(p) > 1)
    assert "https://a.gov.cn/x" in pieces


def test_a_short_article_keeps_title_document_number_summary_and_link() -> None:
    article = make_article()
    post = render_status(article)
    summary = "为进一步加强政府网站建设，现通知如下。"
    assert post.body == f"【{article.title}】（{DOC_NUMBER}）{summary} 全文：{article.url}"
    assert post.link == article.url
    assert post.images == ()


def test_a_long_article_is_cut_to_140_with_an_ellipsis_and_an_intact_link() -> None:
    article = make_article(body_html="<p>" + "政府网站是政府联系群众的重要桥梁。" * 30 + "</p>")
    post = render_status(article)
    assert weibo_length(post.body) <= MAX_STATUS_LENGTH
    assert weibo_length(post.body) >= MAX_STATUS_LENGTH - 2  # the cut wastes at most a character or two
    assert post.summary.endswith("…")
    assert post.body.endswith(article.url)
    assert DOC_NUMBER in post.body


@pytest.mark.parametrize("padding", range(70, 120))
def test_the_cut_never_falls_inside_a_document_number(padding: int) -> None:
    cited = "国办发〔2014〕57号"
    body = "<p>" + "各" * padding + f"，根据{cited}文件精神，结合本地实际，提出如下意见。" * 3 + "</p>"
    post = render_status(make_article(body_html=body, doc_number=None))
    assert weibo_length(post.body) <= MAX_STATUS_LENGTH
    if "国办发" in post.body or "〔2014" in post.body:
        assert cited in post.body


def test_an_overlong_title_is_cut_once_the_summary_is_gone() -> None:
    article = make_article(title="关于" + "加强和改进政府网站建设管理" * 12 + "的通知")
    post = render_status(article)
    assert weibo_length(post.body) <= MAX_STATUS_LENGTH
    assert post.summary == ""
    assert "…】" in post.body
    assert DOC_NUMBER in post.body and post.body.endswith(article.url)


def test_topic_marks_are_stripped() -> None:
    post = render_status(make_article(title="#两会#政策解读", body_html="<p>关注#政务公开#</p>"))
    assert "#" not in post.body
    assert "两会政策解读" in post.body


def test_the_first_image_is_resolved_against_the_article_url() -> None:
    body = '<p>图片</p><img src="/img/a.png"><img src="/img/b.png"><script>var x="<img>";</script>'
    post = render_status(make_article(body_html=body))
    assert post.images == ("https://www.example.gov.cn/img/a.png",)
    assert "var x" not in post.body


def test_live_text_with_t_cn_links_is_recognised_as_ours() -> None:
    assert same_status_text("通知 全文：https://www.gov.cn/a.html", "通知 全文：http://t.cn/A6xyz")
    assert not same_status_text("通知一 https://www.gov.cn/a.html", "通知二 http://t.cn/A6xyz")
