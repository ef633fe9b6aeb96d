"""Inline button payloads: ids only, well under Telegram's 64-byte callback_data limit."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class CommentAct(StrEnum):
    APPROVE = "a"
    REJECT = "r"
    REPLY = "p"
    COMPLEX = "c"
    TO_CORRECTION = "t"  # reclassify as a netizen correction (网民纠错)
    TO_MESSAGE = "m"  # reclassify as an ordinary message


class CommentCb(CallbackData, prefix="cm"):
    action: CommentAct
    comment_id: int
    revision: int


class ReplyAct(StrEnum):
    SEND = "s"
    EDIT = "e"
    CANCEL = "x"


class ReplyCb(CallbackData, prefix="rp"):
    action: ReplyAct
    comment_id: int


class QueuePageCb(CallbackData, prefix="q"):
    page: int
