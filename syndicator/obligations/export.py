"""CSV (UTF-8 with BOM, for Excel / WPS) and XLSX exports of a compliance report, Chinese headers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from syndicator.obligations.clock import TargetStatus, shanghai
from syndicator.obligations.compliance import ComplianceReport
from syndicator.tabular import add_sheet, book_bytes, csv_bytes, new_book

# A download holds every row up to this many targets (the JSON report pages instead).
EXPORT_TARGET_LIMIT = 100_000
STATUS_NAMES = {
    TargetStatus.OPEN: "待转载",
    TargetStatus.ON_TIME: "按时转载",
    TargetStatus.LATE: "逾期转载",
    TargetStatus.OVERDUE: "超时未转载",
    TargetStatus.WAIVED: "已豁免",
}
VIA_NAMES = {"publication": "系统同步", "manual_repost": "人工转载（检测）", "evidence": "人工登记"}
LEVEL_NAMES = {"national": "国家", "province": "省级", "city": "市级", "county": "县级", "department": "部门"}
PLATFORM_NAMES = {"wechat": "微信公众号", "weibo": "微博", "app": "客户端"}


class Sheet(StrEnum):
    TARGETS = "targets"
    UNITS = "units"
    OVERDUE = "overdue"
    ACCOUNTS = "accounts"


Column = tuple[str, Callable[[Any], object]]
TARGET_COLUMNS: list[Column] = [
    ("任务编号", lambda r: r.obligation_id),
    ("上级信息", lambda r: r.item_title),
    ("文号", lambda r: r.doc_number or ""),
    ("来源", lambda r: r.item_source),
    ("原文链接", lambda r: r.item_url),
    ("发布时间", lambda r: r.published_at),
    ("单位", lambda r: r.unit_name),
    ("平台", lambda r: PLATFORM_NAMES.get(r.platform, r.platform)),
    ("账号", lambda r: r.account_name),
    ("截止时间", lambda r: r.deadline_at),
    ("状态", lambda r: STATUS_NAMES[r.status]),
    ("完成时间", lambda r: r.fulfilled_at),
    ("完成方式", lambda r: VIA_NAMES.get(r.fulfilled_via or "", r.fulfilled_via or "")),
    ("用时（小时）", lambda r: r.delay_hours),
    ("转载链接", lambda r: r.evidence_url or ""),
    ("备注", lambda r: r.note or ""),
]
UNIT_COLUMNS: list[Column] = [
    ("单位", lambda r: r.unit_name),
    ("层级", lambda r: LEVEL_NAMES.get(r.level, r.level)),
    ("任务数", lambda r: r.targets),
    ("按时", lambda r: r.on_time),
    ("逾期完成", lambda r: r.late),
    ("超时未转", lambda r: r.overdue),
    ("待转载", lambda r: r.open),
    ("豁免", lambda r: r.waived),
    ("按时率（%）", lambda r: r.on_time_pct),
    ("用时中位数（小时）", lambda r: r.median_delay_hours),
    ("用时P90（小时）", lambda r: r.p90_delay_hours),
]
ACCOUNT_COLUMNS: list[Column] = [
    ("单位", lambda r: r.unit_name),
    ("层级", lambda r: LEVEL_NAMES.get(r.level, r.level)),
    ("平台", lambda r: PLATFORM_NAMES.get(r.platform, r.platform)),
    ("账号", lambda r: r.account_name),
    ("最近更新", lambda r: r.last_update_at),
    ("问题", lambda r: "；".join(r.problems)),
]
SHEETS: dict[Sheet, tuple[str, list[Column], Callable[[ComplianceReport], Sequence[Any]]]] = {
    Sheet.UNITS: ("单位汇总", UNIT_COLUMNS, lambda r: r.units),
    Sheet.OVERDUE: ("超时未转载", TARGET_COLUMNS, lambda r: r.overdue),
    Sheet.TARGETS: ("转载明细", TARGET_COLUMNS, lambda r: r.targets),
    Sheet.ACCOUNTS: ("更新频率预警", ACCOUNT_COLUMNS, lambda r: r.activity),
}


def _rows(columns: list[Column], rows: Sequence[Any]) -> list[list[object]]:
    return [[get(row) for _, get in columns] for row in rows]


def to_csv(report: ComplianceReport, sheet: Sheet = Sheet.TARGETS) -> bytes:
    _, columns, rows = SHEETS[sheet]
    return csv_bytes([title for title, _ in columns], _rows(columns, rows(report)))


Table = tuple[str, list[str], list[list[object]]]  # sheet title, header, rows


def to_xlsx(report: ComplianceReport, extra: Sequence[Table] = ()) -> bytes:
    book = new_book()
    add_sheet(
        book,
        "说明",
        ["统计截至（北京时间）", shanghai(report.query.as_of)],
        [
            ["范围", f"{report.scope_unit_name}及下属单位" if report.scope_unit_name else "全部单位"],
            ["转载任务总数", report.targets_total],
            ["按时率（%）", report.totals.on_time_pct],
        ],
    )
    for title, header, lines in extra:
        add_sheet(book, title, header, lines)
    for title, columns, rows in SHEETS.values():
        add_sheet(book, title, [name for name, _ in columns], _rows(columns, rows(report)))
    return book_bytes(book)
