"""Comment screening on every entry of the real comment corpus, by its expected kind."""

from __future__ import annotations

import pytest

from syndicator.checks import screen_comment
from syndicator.checks.comments import mask_personal_data
from syndicator.checks.pii import id_checksum_ok
from syndicator.checks.wording import default_dictionary

# expected_kind -> the kinds screening must report and whether it is auto-rejected.
EXPECTED = {
    "gambling_spam": ({"gambling"}, True),
    "ad_spam": ({"ad"}, True),
    "phishing": ({"phishing"}, True),
    "abuse": ({"abuse"}, False),
    "xss": ({"markup"}, False),
    "complaint_with_phone": ({"pii"}, False),
    "question_with_id": ({"pii"}, False),
}
ORDINARY = {"question", "suggestion", "correction", "praise", "complaint", "consistency_report"}


def test_every_corpus_comment_is_screened_by_its_kind(citizen_comments: list[dict[str, str]]) -> None:
    for comment in citizen_comments:
        kind = comment["expected_kind"]
        screening = screen_comment(comment["content"], wording=default_dictionary())
        if kind in ORDINARY:
            assert (screening.kinds, screening.auto_reject, screening.findings) == (set(), False, []), comment
            assert screening.masked_text == comment["content"]
        else:
            kinds, auto_reject = EXPECTED[kind]
            assert kinds <= screening.kinds, comment
            assert screening.auto_reject is auto_reject, comment


def test_corpus_covers_every_kind(citizen_comments: list[dict[str, str]]) -> None:
    assert {c["expected_kind"] for c in citizen_comments} == ORDINARY | set(EXPECTED)


def test_phone_number_is_masked_keeping_first_three_and_last_four() -> None:
    screening = screen_comment("路灯坏了三个月，电话13812345678，请联系我。")

    assert screening.masked_text == "路灯坏了三个月，电话138****5678，请联系我。"
    assert "13812345678" not in repr(screening.findings)


def test_id_number_is_masked_even_when_its_checksum_fails() -> None:
    # The corpus ID (110101199003071234) fails the checksum: a mistyped ID is still personal data.
    masked, [finding] = mask_personal_data("身份证号110101199003071234，怎么办？")

    assert masked == "身份证号110***********1234，怎么办？"
    assert not id_checksum_ok("110101199003071234") and "checksum fails" in finding.message
    assert id_checksum_ok("11010519491231002X")


def test_landline_is_masked_but_other_numbers_are_not() -> None:
    masked, findings = mask_personal_data("请拨打0753-6166558，或在2个工作日内答复，预算500000元。")

    assert masked == "请拨打075****6558，或在2个工作日内答复，预算500000元。"
    assert [f.rule for f in findings] == ["comment.pii_landline"]


@pytest.mark.parametrize(
    "text",
    [
        "办事效率太低了，窗口人员态度很差，希望整改！",
        "这个政策根本没有落实，我们村的补贴到现在都没发，请给个说法。",
        "固体废物处理厂的气味很大，建议搬迁。",
        "网页上的滚动新闻挡住了菜单。",
    ],
)
def test_criticism_and_complaints_are_never_flagged(text: str) -> None:
    screening = screen_comment(text)

    assert (screening.kinds, screening.auto_reject) == (set(), False)


def test_government_link_is_noted_but_not_phishing() -> None:
    screening = screen_comment("原文在 https://www.gov.cn/zhengce/content/2017-06/08/content_5200760.htm")

    assert screening.kinds == {"link"} and not screening.auto_reject


@pytest.mark.parametrize(
    "text", ["扫码领取红包，先到先得", "加VX：abc12345 了解详情", "恭喜中奖，点击链接领取"]
)
def test_lures_are_phishing(text: str) -> None:
    screening = screen_comment(text)

    assert "phishing" in screening.kinds and screening.auto_reject


def test_abuse_is_flagged_for_a_moderator_not_auto_rejected() -> None:
    screening = screen_comment("什么破政府，一群废物，滚！")

    assert screening.kinds == {"abuse"} and not screening.auto_reject
    assert {f.matched for f in screening.findings} == {"废物", "滚"}
