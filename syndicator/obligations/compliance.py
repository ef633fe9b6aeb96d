"""The compliance report as one value (API, exports, CLI, dashboard) and the bot's summary text."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.obligations.activity import AccountActivity, account_activity
from syndicator.obligations.clock import FrequencyRules, shanghai
from syndicator.obligations.config import ObligationConfig
from syndicator.obligations.report import (
    ReportQuery,
    Scope,
    TargetRow,
    Totals,
    UnitRow,
    load_scope,
    target_rows,
    totals,
    unit_rows,
)
from syndicator.obligations.scope import UnitTree
from syndicator.workdays import WorkCalendar, deadline_text

OVERDUE_LIST_LIMIT = 200
PLATFORM_NAMES = {"wechat": "微信", "weibo": "微博", "app": "客户端"}


class ComplianceReport(BaseModel):
    query: ReportQuery
    scope_unit_name: str | None = Field(None, description="the unit whose subtree is covered; None: all")
    totals: Totals
    units: list[UnitRow]
    overdue: list[TargetRow] = Field(description="targets overdue at as_of, earliest deadline first")
    activity: list[AccountActivity] = Field(description="silent or under-updating accounts")
    targets_total: int
    targets: list[TargetRow] = Field(description="every target in scope (paged by limit / offset)")


def rules_from(config: ObligationConfig) -> FrequencyRules:
    return FrequencyRules(
        silent_after=config.silent_after,
        municipal_min_per_week=config.municipal_min_per_week,
        county_lookback_days=config.county_lookback_days,
    )


async def build_report(
    session: AsyncSession,
    query: ReportQuery,
    *,
    user_scope: int | None,
    config: ObligationConfig | None = None,
    calendar: WorkCalendar | None = None,
    limit: int | None = 500,
    offset: int = 0,
    overdue_limit: int | None = OVERDUE_LIST_LIMIT,
    loaded: tuple[UnitTree, Scope] | None = None,
) -> ComplianceReport:
    """Raises ScopeError when the query reaches outside `user_scope`; `loaded` saves reloading the scope."""
    config = config or ObligationConfig()
    tree, scope = loaded or await load_scope(session, query, user_scope=user_scope)
    units = await unit_rows(session, scope, tree)
    activity = await account_activity(
        session,
        scope,
        tree,
        rules=rules_from(config),
        is_working_day=(calendar or WorkCalendar()).is_working_day,
    )
    return ComplianceReport(
        query=query,
        scope_unit_name=scope.unit_name,
        totals=totals(units),
        units=units,
        overdue=await target_rows(session, scope, only_overdue=True, limit=overdue_limit),
        activity=activity,
        targets_total=sum(u.targets for u in units),  # every target in scope belongs to one unit row
        targets=await target_rows(session, scope, limit=limit, offset=offset) if limit != 0 else [],
    )


SUMMARY_OVERDUE_LINES = 20


async def compliance_summary(
    session: AsyncSession,
    *,
    as_of: datetime,
    scope_unit_id: int | None,
    config: ObligationConfig | None = None,
) -> str:
    """The bot's /compliance answer (Chinese): the figures, then the overdue list."""
    report = await build_report(
        session,
        ReportQuery(as_of=as_of),
        user_scope=scope_unit_id,
        config=config,
        limit=0,
        overdue_limit=SUMMARY_OVERDUE_LINES,
    )
    return summary_text(report)


def summary_text(report: ComplianceReport) -> str:
    t = report.totals
    scope = f"{report.scope_unit_name}及下属单位" if report.scope_unit_name else "全部单位"
    pct = f"{t.on_time_pct}%" if t.on_time_pct is not None else "暂无"
    lines = [
        f"📋 转载合规情况（截至 {shanghai(report.query.as_of)}，{scope}）",
        f"转载任务 {t.targets} 项：按时 {t.on_time}，逾期完成 {t.late}，超时未转 {t.overdue}，"
        f"待转载 {t.open}，已豁免 {t.waived}；按时率 {pct}。",
    ]
    if report.overdue:
        lines.append("")
        lines.append(f"⚠️ 超时未转载（{t.overdue} 项）：")
        for n, row in enumerate(report.overdue, 1):
            lines.append(
                f"{n}. {row.unit_name}·{PLATFORM_NAMES.get(row.platform, row.platform)}"
                f"「{row.account_name}」《{row.item_title}》截止 {deadline_text(row.deadline_at)}"
            )
        if t.overdue > len(report.overdue):
            lines.append(f"……另有 {t.overdue - len(report.overdue)} 项，详见看板或导出表格。")
    else:
        lines.append("✅ 目前没有超时未转载的任务。")
    if report.activity:
        lines.append("")
        lines.append(f"更新频率预警 {len(report.activity)} 个账号：")
        for activity in report.activity[:10]:
            lines.append(f"· {activity.unit_name}「{activity.account_name}」：{'；'.join(activity.problems)}")
        if len(report.activity) > 10:
            lines.append(f"……另有 {len(report.activity) - 10} 个账号。")
    return "\n".join(lines)
