"""The inspection export as a workbook (one summary sheet, one sheet per indicator), CSV or JSON.

Headers are Simplified Chinese; every detail row names the ids it rests on (publication, target,
comment, article version, finding), so each summary figure can be traced to its rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from syndicator.obligations.export import LEVEL_NAMES, PLATFORM_NAMES
from syndicator.obligations.inspection import AccountInspection, Inspection
from syndicator.tabular import XLSX, add_sheet, book_bytes, csv_bytes, new_book

REPOST_STATUS = {"on_time": "按时", "late": "逾期", "missed": "未转载", "waived": "豁免", "open": "未到期"}
RULE_NAMES = {"county": "县级：每个工作日更新", "municipal": "市级：每周不少于{n}次", "none": "不适用"}
SUMMARY_HEADER = [
    "账号",
    "平台",
    "单位",
    "层级",
    "发布数",
    "应转载",
    "按时转载",
    "逾期转载",
    "未转载",
    "豁免",
    "最长未更新（天）",
    "超过{veto}天（单项否决）",
    "工作日数",
    "有更新的工作日",
    "满足每周{n}次的周数",
    "统计周数",
    "适用频率规则",
    "是否达标",
    "收到留言",
    "已回复",
    "按时回复",
    "发布前拦截（篇次）",
    "拦截问题（用语规范）",
    "拦截问题（涉密标识）",
    "拦截问题（篡改植入）",
    "拦截问题（其他）",
]


def _yes(value: bool | None) -> str:
    return "—" if value is None else ("是" if value else "否")


def summary_header(data: Inspection) -> list[str]:
    return [h.format(veto=data.silent_veto_days, n=data.municipal_min_per_week) for h in SUMMARY_HEADER]


def summary_row(a: AccountInspection, data: Inspection) -> list[object]:
    other = sum(n for c, n in a.held.findings.items() if c not in ("用语规范", "涉密标识", "篡改植入"))
    return [
        a.account_name,
        PLATFORM_NAMES.get(a.platform, a.platform),
        a.unit_name,
        LEVEL_NAMES.get(a.level, a.level),
        a.published,
        a.reposts.due,
        a.reposts.on_time,
        a.reposts.late,
        a.reposts.missed,
        a.reposts.waived,
        a.silence.longest_days,
        _yes(a.silence.crossed_veto),
        a.frequency.working_days,
        a.frequency.working_days_updated,
        a.frequency.weeks_meeting_minimum,
        a.frequency.weeks,
        RULE_NAMES[a.frequency.rule].format(n=data.municipal_min_per_week),
        _yes(a.frequency.meets_rule),
        a.comments.received,
        a.comments.replied,
        a.comments.replied_on_time,
        a.held.versions,
        a.held.findings.get("用语规范", 0),
        a.held.findings.get("涉密标识", 0),
        a.held.findings.get("篡改植入", 0),
        other,
    ]


def to_csv(data: Inspection) -> bytes:
    """The summary table (one row per account)."""
    return csv_bytes(summary_header(data), [summary_row(a, data) for a in data.accounts])


def to_json(data: Inspection) -> bytes:
    return data.model_dump_json(indent=2).encode()


def _about(data: Inspection) -> list[list[object]]:
    p = data.period
    return [
        ["统计期间", f"{p.date_from:%Y-%m-%d} 至 {p.date_to:%Y-%m-%d}（北京时间）"],
        ["统计截至", p.end],
        ["范围", f"{data.scope_unit_name}及下属单位" if data.scope_unit_name else "全部单位"],
        ["账号数", len(data.accounts)],
        ["生成时间", data.generated_at],
        [
            "说明",
            "各分表列出每个数字对应的记录编号（发布记录、转载任务、留言、稿件版本、检查问题），可逐条核对。",
        ],
        ["说明", "发布前拦截按稿件所属单位统计，该单位各账号显示相同数字。"],
    ]


def to_xlsx(data: Inspection) -> bytes:
    names = {a.account_id: a.account_name for a in data.accounts}
    units = {a.unit_id: a.unit_name for a in data.accounts}
    book = new_book()
    add_sheet(book, "汇总", summary_header(data), [summary_row(a, data) for a in data.accounts])
    add_sheet(book, "说明", ["项目", "内容"], _about(data))
    add_sheet(
        book,
        "发布情况",
        ["账号", "发布记录编号", "稿件编号", "标题", "发布时间"],
        [
            [names[r["account_id"]], r["publication_id"], r["article_id"], r["title"], r["at"]]
            for r in data.publications
        ],
    )
    add_sheet(
        book,
        "重要政策转载",
        [
            "账号",
            "任务编号",
            "上级信息编号",
            "上级信息",
            "文号",
            "截止时间",
            "结果",
            "完成时间",
            "发布记录编号",
        ],
        [
            [
                names[r["account_id"]],
                r["obligation_id"],
                r["item_id"],
                r["title"],
                r["doc_number"],
                r["deadline_at"],
                REPOST_STATUS[str(r["status"])],
                r["fulfilled_at"],
                r["publication_id"] or "",
            ]
            for r in data.targets
        ],
    )
    add_sheet(
        book,
        "最长未更新",
        ["账号", "单位", "最长未更新（天）", "起", "止", f"超过{data.silent_veto_days}天（单项否决）"],
        [
            [
                a.account_name,
                a.unit_name,
                a.silence.longest_days,
                a.silence.since,
                a.silence.until,
                _yes(a.silence.crossed_veto),
            ]
            for a in data.accounts
        ],
    )
    add_sheet(
        book,
        "更新频率",
        [
            "账号",
            "单位",
            "适用规则",
            "工作日数",
            "有更新的工作日",
            "未更新的工作日",
            "统计周数",
            "未达标的周（周一）",
            "是否达标",
        ],
        [
            [
                a.account_name,
                a.unit_name,
                RULE_NAMES[a.frequency.rule].format(n=data.municipal_min_per_week),
                a.frequency.working_days,
                a.frequency.working_days_updated,
                _dates(a.frequency.missed_working_days),
                a.frequency.weeks,
                _dates(a.frequency.weeks_below_minimum),
                _yes(a.frequency.meets_rule),
            ]
            for a in data.accounts
        ],
    )
    add_sheet(
        book,
        "留言办理",
        ["账号", "留言编号", "收到时间", "答复期限", "回复时间", "按时回复"],
        [
            [
                names[r["account_id"]],
                r["comment_id"],
                r["received_at"],
                r["reply_due_at"],
                r["replied_at"],
                _yes(bool(r["on_time"])) if r["replied_at"] else "未回复",
            ]
            for r in data.comment_rows
        ],
    )
    add_sheet(
        book,
        "发布前拦截",
        [
            "单位",
            "问题编号",
            "稿件版本编号",
            "稿件编号",
            "标题",
            "类别",
            "规则",
            "说明",
            "命中内容",
            "处理结果",
            "收到时间",
        ],
        [
            [
                units.get(r["unit_id"], r["unit_id"]),
                r["finding_id"],
                r["version_id"],
                r["article_id"],
                r["title"],
                r["category"],
                r["rule"],
                r["message"],
                r["matched"],
                {"held": "待审", "released": "审核放行", "rejected": "退回"}.get(
                    str(r["review_state"]), r["review_state"]
                ),
                r["received_at"],
            ]
            for r in data.findings
        ],
    )
    return book_bytes(book)


def _dates(days: Sequence[object]) -> str:
    return "、".join(f"{d:%m-%d}" for d in days)


MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "xlsx": XLSX}


def inspection_file(data: Inspection, fmt: str) -> tuple[bytes, str]:
    """The export in `fmt` (json | csv | xlsx) and its media type."""
    body = {"json": to_json, "csv": to_csv, "xlsx": to_xlsx}[fmt](data)
    return body, MEDIA[fmt]
