"""`accounts verify` and `doctor`: each account's cheapest authenticated call on its platform.

WeChat: stable_token in normal mode (no token is invalidated); Weibo: account/rate_limit_status
(uses no posting quota); the app: a signed GET /v1/account. A Weibo account that answers again
after re-authorisation loses its `needs_reauth` mark.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
from sqlmodel import col, select

from channels.base import ChannelError
from channels.http import make_http_client
from channels.registry import build_adapter
from syndicator import audit
from syndicator.accounts import runtime_problems
from syndicator.context import account_config
from syndicator.db import Database
from syndicator.models import AccountStatus, ChannelAccount, Unit

VERIFY_ACTOR = "verify"


@dataclass(frozen=True)
class Verdict:
    account_id: int
    account: str
    platform: str
    status: str
    ok: bool
    detail: str


async def verify_accounts(
    db: Database, *, unit: str | None = None, ref: str | None = None, timeout: float = 10.0
) -> list[Verdict]:
    """Verify every non-archived account (of a unit, or one by id/name), concurrently."""
    accounts = await _accounts(db, unit=unit, ref=ref)
    async with make_http_client(timeout) as http:
        verdicts = await asyncio.gather(*(_verify_one(account, http) for account in accounts))
    await _clear_reauth(db, [v.account_id for v in verdicts if v.ok])
    return list(verdicts)


async def _accounts(db: Database, *, unit: str | None, ref: str | None) -> list[ChannelAccount]:
    query = select(ChannelAccount).order_by(col(ChannelAccount.id))
    if ref is not None:
        query = query.where(ChannelAccount.id == int(ref) if ref.isdigit() else ChannelAccount.name == ref)
    else:
        query = query.where(ChannelAccount.status != AccountStatus.ARCHIVED)
    if unit is not None:
        query = query.join(Unit, col(Unit.id) == col(ChannelAccount.unit_id)).where(Unit.name == unit)
    async with db.transaction() as session:
        return list((await session.exec(query)).all())


async def _verify_one(account: ChannelAccount, http: httpx.AsyncClient) -> Verdict:
    assert account.id is not None

    def verdict(ok: bool, detail: str) -> Verdict:
        return Verdict(account.id or 0, account.name, account.platform, account.status, ok, detail)

    if problems := runtime_problems(account):
        return verdict(False, "; ".join(problems))
    try:
        await build_adapter(account_config(account), http).verify()
    except ChannelError as exc:
        return verdict(False, str(exc))
    except Exception as exc:  # a verdict per account: one broken adapter must not hide the others
        return verdict(False, f"internal_error: {type(exc).__name__}: {exc}")
    return verdict(True, "OK" + (" (needs_reauth cleared)" if account.needs_reauth else ""))


async def _clear_reauth(db: Database, account_ids: list[int]) -> None:
    """A Weibo account that answers again was re-authorised: publishing may resume."""
    if not account_ids:
        return
    async with db.transaction() as session:
        query = select(ChannelAccount).where(
            col(ChannelAccount.id).in_(account_ids), ChannelAccount.needs_reauth
        )
        for account in (await session.exec(query)).all():
            account.needs_reauth = False
            session.add(account)
            audit.record(
                session,
                actor=VERIFY_ACTOR,
                action="account.reauthorised",
                object_type="channel_account",
                object_id=account.id,
            )
