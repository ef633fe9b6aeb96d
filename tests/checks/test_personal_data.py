"""The personal-data check: what holds, what warns, and what the office's contact data lets through."""

from __future__ import annotations

from collections.abc import Callable

from syndicator.checks import run_checks
from syndicator.checks.base import CheckInput
from syndicator.checks.personal_data import find_personal_data

ArticleFactory = Callable[..., CheckInput]
VALID_ID = "11010519491231002X"


def _rules(text: str, **kwargs: object) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in find_personal_data(text, **kwargs)]  # type: ignore[arg-type]


def test_a_citizen_id_holds_and_is_never_quoted_in_full(article: ArticleFactory) -> None:
    real = article("003")
    report = run_checks(
        real.__class__(**{**real.__dict__, "body_html": real.body_html + f"<p>张三 {VALID_ID}</p>"})
    )

    [finding] = [f for f in report.blocking if f.rule == "personal_data.id_number"]
    assert finding.matched == "110***********002X"
    assert VALID_ID not in repr(report.findings)


def test_an_id_shaped_number_with_a_bad_checksum_only_warns() -> None:
    assert _rules("编号110101199003071234") == [("personal_data.id_number", "warn")]


def test_a_mobile_number_holds_unless_allow_listed() -> None:
    text = "咨询请拨打 139-2233-4455。"
    assert _rules(text) == [("personal_data.phone", "block")]
    assert _rules(text, allowed={"13922334455"}) == []


def test_an_office_landline_warns_and_a_persons_landline_holds() -> None:
    assert _rules("监督电话：0753-3332110") == [("personal_data.phone", "warn")]
    assert _rules("联系人：王明，电话：0753-3332110") == [("personal_data.phone", "block")]
    # Registered with or without the area code, written with or without it.
    assert _rules("联系人：王明，电话：3332110", allowed={"07533332110"}) == []


def test_bank_cards_need_the_luhn_check() -> None:
    assert _rules("退款账户 6222 0200 1234 5678 903") == [("personal_data.bank_card", "block")]
    assert _rules("项目编号 6222020012345678901") == []


def test_email_holds_next_to_a_name_and_government_mail_passes() -> None:
    assert _rules("申请人李四，邮箱 lisi88@163.com") == [("personal_data.email", "block")]
    assert _rules("来信请寄 xxgk@xingning.gov.cn") == []
    assert _rules("投稿邮箱 tougao@qq.com") == [("personal_data.email", "warn")]


def test_a_street_address_counts_only_next_to_a_person() -> None:
    assert _rules("户主赵六，家住兴宁市兴田街道兴华路18号2栋301室") == [("personal_data.address", "block")]
    assert _rules("办公地址：兴宁市人民路1号。第十三条 高效、便民") == []


def test_attachment_names_are_checked() -> None:
    inp = CheckInput("公示", "<p>见附件。</p>", attachments=(f"名单-张三-{VALID_ID}.xlsx",))

    findings = [f for f in run_checks(inp).blocking if f.field == "attachment"]

    assert [f.rule for f in findings] == ["personal_data.id_number"]


def test_linked_documents_are_attachments_too() -> None:
    body = '<p><a href="/files/%E5%BC%A0%E4%B8%8913912345678.docx">附件1</a></p>'

    findings = find_personal_data(CheckInput("公示", body).attachment_names[0], "attachment")

    assert [(f.rule, f.severity) for f in findings] == [("personal_data.phone", "block")]
