from syndicator.articles import ArticleIn, content_hash
from tests.support import corpus_articles


def test_whitespace_only_changes_are_not_a_new_version() -> None:
    article = corpus_articles()[0]
    spaced = {**article, "body_html": article["body_html"].replace("</p><p>", "</p>\n  <p>")}
    assert content_hash(ArticleIn.model_validate(article)) == content_hash(ArticleIn.model_validate(spaced))


def test_changed_text_is_a_new_version() -> None:
    article = corpus_articles()[0]
    corrected = {**article, "body_html": article["body_html"].replace("〔201457号", "〔2014〕57号")}
    assert content_hash(ArticleIn.model_validate(article)) != content_hash(
        ArticleIn.model_validate(corrected)
    )


def test_every_corpus_article_fits_the_wire_schema() -> None:
    for article in corpus_articles():
        ArticleIn.model_validate(article)
