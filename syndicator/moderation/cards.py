"""The moderators' chat texts, in Simplified Chinese. Pure: plain values in, strings out."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from syndicator.checks.pii import mask
from syndicator.workdays import deadline_text

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Telegram refuses messages above 4096 characters; the comment text is cut well before that.
MAX_COMMENT_CHARS = 1500

PLATFORM_LABELS = {"app": "应用", "wechat": "微信", "weibo": "微博"}
STATE_LABELS = {
    "pending": "⏳ 待审核",
    "approved": "✅ 已通过",
    "rejected": "⛔ 已拒绝",
    "replied": "💬 已回复",
}
SEVERITY_ICONS = {"block": "🚫", "warn": "⚠️"}
# Citizen text is shown inside a block whose every line starts with this marker, so a line typed
# by a citizen can never pass for one of the card's own fields (作者：…, 状态：…).
QUOTE_MARK = "┃ "
NEWLINE_SHOWN = "⏎"
CATEGORY_LABELS = {"message": "普通留言", "correction": "网民纠错"}
FORWARD_DAYS = 1  # 江苏: netizen corrections forwarded within 1 working day, resolved within 2
RESOLVE_DAYS = 2
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
# Screening rules (syndicator/checks) in moderators' words; the checks' own messages are English.
RULE_LABELS = {
    "comment.pii_mobile": "手机号码（已屏蔽）",
    "comment.pii_landline": "固定电话（已屏蔽）",
    "comment.pii_id_number": "身份证号码（已屏蔽）",
    "comment.pii_bank_card": "银行卡号（已屏蔽）",
    "comment.pii_email": "电子邮箱（已屏蔽）",
    "comment.correction": "网民纠错",
    "comment.gambling": "博彩",
    "comment.ad": "商业广告",
    "comment.phishing": "诈骗/钓鱼诱导",
    "comment.link": "政府网站链接",
    "comment.abuse": "辱骂用语",
    "comment.markup": "代码或标签",
    "spam.gambling": "博彩",
    "spam.entry_lure": "博彩引流",
    "spam.keyword_block": "垃圾信息关键词",
    "spam.stuffed_title": "关键词堆砌",
    "ads.price": "商业广告（标价）",
    "ads.promo_code": "商业广告（优惠码）",
    "ads.call_to_buy": "商业广告（诱导购买）",
    "wording": "错敏词",
}


@dataclass(frozen=True)
class CardView:
    """Everything a comment card shows."""

    comment_id: int
    revision: int
    platform: str
    account_name: str
    article_title: str
    author: str
    text: str  # with phone and ID numbers masked
    received_at: datetime
    state: str
    findings: Sequence[dict[str, Any]] = ()
    complex: bool = False
    reply_due_at: datetime | None = None
    due_provisional: bool = False
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    reply_text: str | None = None
    apply_state: str = "none"
    apply_error: str | None = None
    premoderated: bool = True
    category: str = "message"
    forward_due_at: datetime | None = None
    extra_lines: Sequence[str] = field(default_factory=tuple)


def one_line(text: str, limit: int = 80) -> str:
    """Citizen-supplied text on one line: line breaks shown as ⏎, invisible controls dropped."""
    flat = _visible(_LINE_BREAKS.sub(NEWLINE_SHOWN, text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def quote_block(text: str, limit: int = 1500) -> str:
    """Citizen text as one delimited block: a header, every line marked, an end line."""
    text = text if len(text) <= limit else text[:limit] + "……"
    lines = [_visible(line) for line in _LINE_BREAKS.split(text)]
    body = "\n".join(QUOTE_MARK + line for line in lines)
    return f"┏ 评论原文（网民提交，以 ┃ 开头）\n{body}\n┗ 原文结束"


def _visible(text: str) -> str:
    """Drop control and format characters (bidi overrides, zero-width joiners) that disguise text."""
    return "".join(c for c in text if c == "\t" or unicodedata.category(c) not in ("Cc", "Cf"))


def local_time(value: datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def due_text(due: datetime | None, provisional: bool, *, complex_: bool) -> str:
    if due is None:
        return "回复期限：未设定"
    days = 10 if complex_ else 2
    line = f"回复期限：{deadline_text(due)} 前（{days} 个工作日{'，复杂' if complex_ else ''}）"
    if provisional:
        line += "\n⚠️ 暂定期限：该年度的法定节假日安排尚未公布，仅按周末计算，请人工核对"
    return line


def findings_text(findings: Sequence[dict[str, Any]]) -> str:
    if not findings:
        return "自动筛查：未发现问题"
    lines = ["自动筛查："]
    for finding in findings[:8]:
        icon = SEVERITY_ICONS.get(str(finding.get("severity")), "•")
        rule = str(finding.get("rule") or "")
        label = RULE_LABELS.get(rule) or RULE_LABELS.get(rule.split(".")[0]) or rule or "其他"
        # Findings quote citizen text: masked again here (rows stored before masking existed) and flat.
        matched = one_line(mask(str(finding.get("matched") or "")), 30)
        lines.append(f"{icon} {label}" + (f"：“{matched}”" if matched else ""))
    if len(findings) > 8:
        lines.append(f"……另有 {len(findings) - 8} 条")
    return "\n".join(lines)


def category_text(view: CardView) -> str:
    """The comment's kind and, for a netizen correction, the 江苏 clock (forward 1, resolve 2)."""
    if view.category != "correction":
        return f"类别：{CATEGORY_LABELS['message']}"
    forward = deadline_text(view.forward_due_at) if view.forward_due_at else "未设定"
    resolve = deadline_text(view.reply_due_at) if view.reply_due_at else "未设定"
    return (
        f"类别：🛠 {CATEGORY_LABELS['correction']}（江苏规定：{FORWARD_DAYS} 个工作日内转交，"
        f"{RESOLVE_DAYS} 个工作日内办结）\n转交期限：{forward} 前　办结期限：{resolve} 前"
    )


def apply_text(view: CardView) -> str | None:
    if view.apply_state in ("pending", "applying"):
        return "平台：正在执行……"
    if view.apply_state == "applied":
        return "平台：已生效"
    if view.apply_state == "failed":
        return f"❗ 平台拒绝执行：{one_line(view.apply_error or '未知原因', 200)}"
    return None


def decision_text(view: CardView) -> str:
    state = STATE_LABELS.get(view.state, view.state)
    if view.state == "pending":
        return f"状态：{state}"
    who = view.decided_by or "系统"
    when = local_time(view.decided_at) if view.decided_at else ""
    line = f"状态：{state} — {who} 于 {when}".rstrip()
    if view.decision_reason:
        line += f"\n理由：{view.decision_reason}"
    if view.reply_text:
        line += f"\n回复内容：{view.reply_text}"
    return line


def render_card(view: CardView) -> str:
    """Our fields one per line; what a citizen wrote (name, text) can only appear quoted or flattened."""
    edited = f"（第 {view.revision} 版，评论已修改）" if view.revision > 1 else ""
    channel = PLATFORM_LABELS.get(view.platform, view.platform)
    parts = [
        f"💬 新评论 #{view.comment_id}{edited}",
        f"渠道：{channel} · {one_line(view.account_name)}",
        f"文章：{one_line(view.article_title)}",
        f"作者：「{one_line(mask(view.author), 40)}」　时间：{local_time(view.received_at)}",
        quote_block(mask(view.text), MAX_COMMENT_CHARS),
        findings_text(view.findings),
        category_text(view),
        due_text(view.reply_due_at, view.due_provisional, complex_=view.complex),
    ]
    if not view.premoderated:
        parts.append("注意：该平台不支持先审后发，评论已公开；拒绝即删除")
    parts.append(decision_text(view))
    if (applied := apply_text(view)) is not None:
        parts.append(applied)
    parts.extend(view.extra_lines)
    return "\n".join(parts)


def superseded_card_text(comment_id: int, revision: int) -> str:
    return f"💬 评论 #{comment_id} 已被作者修改，此卡片作废。\n请处理新卡片（第 {revision} 版）。"


@dataclass(frozen=True)
class QueueEntry:
    comment_id: int
    platform: str
    author: str
    text: str
    reply_due_at: datetime | None
    due_provisional: bool
    overdue: bool


def render_queue(entries: Sequence[QueueEntry], *, page: int, pages: int, total: int) -> str:
    if not entries:
        return "🎉 当前没有待审核的评论。"
    lines = [f"📋 待审核评论：共 {total} 条（第 {page + 1}/{pages} 页）"]
    for entry in entries:
        snippet = one_line(mask(entry.text), 40)
        due = deadline_text(entry.reply_due_at) if entry.reply_due_at else "—"
        flags = ("【已超期】" if entry.overdue else "") + ("【暂定】" if entry.due_provisional else "")
        channel = PLATFORM_LABELS.get(entry.platform, entry.platform)
        author = one_line(entry.author, 20)
        lines.append(f"#{entry.comment_id} [{channel}] 「{author}」：{snippet}\n　期限 {due}{flags}")
    return "\n".join(lines)


@dataclass(frozen=True)
class DailyStats:
    day: str
    received: int
    approved: int
    rejected: int
    replied: int
    pending: int
    overdue: Sequence[QueueEntry]


def render_stats(stats: DailyStats) -> str:
    lines = [
        f"📊 今日统计（{stats.day}）",
        f"新收评论：{stats.received}",
        f"通过：{stats.approved}　拒绝：{stats.rejected}　回复：{stats.replied}",
        f"待审核（全部）：{stats.pending}",
    ]
    if not stats.overdue:
        lines.append("超期未回复：无")
    else:
        lines.append(f"超期未回复：{len(stats.overdue)} 条")
        for entry in stats.overdue[:10]:
            due = deadline_text(entry.reply_due_at) if entry.reply_due_at else "—"
            provisional = "（暂定）" if entry.due_provisional else ""
            lines.append(f"#{entry.comment_id} 「{one_line(entry.author, 20)}」：期限 {due}{provisional}")
    return "\n".join(lines)


HELP_TEXT = """🤖 Syndicator 评论审核机器人

政务账号的跟评实行先审后发：每条新评论会以卡片形式发到本群，审核人员点击按钮处理：
• 通过 — 评论在平台上公开显示
• 拒绝 — 评论不予显示（微博等平台将删除）
• 回复 — 输入官方回复，预览确认后发布（同时视为通过）
• 标记复杂 — 回复期限由 2 个工作日延长至 10 个工作日

命令：
/queue — 查看待审核评论（分页）
/stats — 今日统计与超期未回复
/cancel — 取消正在输入的回复
/help — 显示本说明

每项操作均记录审核人与时间。仅登记为审核人员（reviewer）的账号可以操作。"""

ROLE_NAMES = {"reviewer": "审核人员", "officer": "督查人员", "admin": "管理员", "editor": "编辑"}


def refusal_text(roles: frozenset[str]) -> str:
    needed = "或".join(ROLE_NAMES.get(r, r) for r in sorted(roles))
    return f"抱歉，您尚未登记为{needed}，无法执行此操作。如需权限，请联系管理员。"
