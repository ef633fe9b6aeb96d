"""A comment card as a WeCom `button_interaction` template card, from the same CardView as Telegram's.

The texts come from syndicator.moderation.cards (masked comment text, findings, due date with its
provisional warning, the platform's limits, who decided, whether it took effect), so a card says
the same in both front ends. Field layout: https://developer.work.weixin.qq.com/document/path/90372
(main_title ≤ 36 characters suggested, horizontal_content_list ≤ 6 rows with 5-character key names,
button_list ≤ 6 buttons, each with a callback `key`; `replace_text` greys the buttons out).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from syndicator.moderation.cards import (
    MAX_COMMENT_CHARS,
    PLATFORM_LABELS,
    STATE_LABELS,
    CardView,
    apply_text,
    decision_text,
    due_text,
    findings_text,
    local_time,
    superseded_card_text,
)

SOURCE = "政务新媒体评论审核"
KEY_PREFIX = "cm"


class CardAct(StrEnum):
    APPROVE = "a"
    REJECT = "r"
    REPLY = "p"
    COMPLEX = "c"


_BUTTONS = {  # text, style (1-4: WeCom's button colours)
    CardAct.APPROVE: ("通过", 1),
    CardAct.REJECT: ("拒绝", 3),
    CardAct.REPLY: ("回复", 2),
    CardAct.COMPLEX: ("标记复杂", 4),
}


@dataclass(frozen=True)
class ButtonKey:
    act: CardAct
    comment_id: int
    revision: int

    def pack(self) -> str:
        return f"{KEY_PREFIX}:{self.act.value}:{self.comment_id}:{self.revision}"

    @classmethod
    def unpack(cls, key: str) -> ButtonKey | None:
        parts = key.split(":")
        if len(parts) != 4 or parts[0] != KEY_PREFIX:
            return None
        try:
            return cls(CardAct(parts[1]), int(parts[2]), int(parts[3]))
        except ValueError:
            return None


def task_id(comment_id: int, revision: int, nonce: str) -> str:
    """Unique per sent card (WeCom refuses a repeated task_id): [A-Za-z0-9_-@], ≤ 128 bytes."""
    return f"syn-c{comment_id}-r{revision}-{nonce}"


def actions(view: CardView) -> list[CardAct]:
    """Pending: all four. Approved: a reply (and 标记复杂) is still possible. Decided for good: none."""
    acts: list[CardAct] = []
    if view.state == "pending":
        acts += [CardAct.APPROVE, CardAct.REJECT]
    if view.state in ("pending", "approved"):
        acts.append(CardAct.REPLY)
        if not view.complex:
            acts.append(CardAct.COMPLEX)
    return acts


def template_card(view: CardView, task: str) -> dict[str, Any]:
    text = view.text if len(view.text) <= MAX_COMMENT_CHARS else view.text[:MAX_COMMENT_CHARS] + "……"
    edited = f"（第 {view.revision} 版）" if view.revision > 1 else ""
    channel = PLATFORM_LABELS.get(view.platform, view.platform)
    lines = [
        findings_text(view.findings),
        due_text(view.reply_due_at, view.due_provisional, complex_=view.complex),
    ]
    if not view.premoderated:
        lines.append("注意：该平台不支持先审后发，评论已公开；拒绝即删除")
    lines.append(decision_text(view))
    if (applied := apply_text(view)) is not None:
        lines.append(applied)
    lines.extend(view.extra_lines)
    acts = actions(view)
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": SOURCE, "desc_color": 0},
        "main_title": {
            "title": f"新评论 #{view.comment_id}{edited}",
            "desc": f"{channel} · {view.account_name}",
        },
        "quote_area": {"type": 0, "title": f"{view.author}：", "quote_text": text},
        "sub_title_text": "\n".join(lines),
        "horizontal_content_list": [
            {"keyname": "文章", "value": _cut(view.article_title, 30)},
            {"keyname": "作者", "value": _cut(view.author, 30)},
            {"keyname": "收到", "value": local_time(view.received_at)},
            {"keyname": "状态", "value": STATE_LABELS.get(view.state, view.state)},
        ],
        "task_id": task,
        "button_list": [_button(act, view) for act in acts] or [_button(CardAct.REPLY, view)],
    }
    if not acts:  # nothing left to do: one grey, unclickable button saying how it ended
        card["replace_text"] = STATE_LABELS.get(view.state, view.state)
    return card


def void_card(comment_id: int, new_revision: int, task: str) -> dict[str, Any]:
    """What an earlier revision's card becomes once the author edited the comment."""
    return {
        "card_type": "button_interaction",
        "source": {"desc": SOURCE, "desc_color": 0},
        "main_title": {"title": f"评论 #{comment_id}（已作废）"},
        "sub_title_text": superseded_card_text(comment_id, new_revision),
        "task_id": task,
        "button_list": [{"type": 0, "text": "已作废", "style": 1, "key": f"{KEY_PREFIX}:void:{comment_id}"}],
        "replace_text": "已作废",
    }


def _button(act: CardAct, view: CardView) -> dict[str, Any]:
    text, style = _BUTTONS[act]
    return {
        "type": 0,
        "text": text,
        "style": style,
        "key": ButtonKey(act, view.comment_id, view.revision).pack(),
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
