from datetime import UTC, datetime

from channels.app.render import render_article
from channels.base import ArticleContent


def content(body: str) -> ArticleContent:
    return ArticleContent(
        external_id="x/1",
        title="关于印发某办法的通知",
        body_html=body,
        url="https://www.example.gov.cn/a",
        unit="某市人民政府办公室",
        published_at=datetime(2024, 1, 2, 2, 0, tzinfo=UTC),
        version=1,
        doc_number="某政办发〔2024〕1号",
    )


def test_render_keeps_text_and_drops_scripts_and_handlers() -> None:
    post = render_article(
        content('<p onclick="steal()">正文<script>alert(1)</script></p><img src="https://x/a.png">')
    )
    assert "正文" in post.body and "script" not in post.body and "onclick" not in post.body
    assert post.images == ("https://x/a.png",)


def test_render_shows_document_number_unit_and_local_time() -> None:
    post = render_article(content("<p>正文</p>"))
    assert "某政办发〔2024〕1号" in post.body and "某市人民政府办公室" in post.body
    assert "2024-01-02 10:00" in post.body  # Asia/Shanghai
    assert post.summary == "正文" and post.link == "https://www.example.gov.cn/a"
