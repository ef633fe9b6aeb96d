"""Administration: units, channel accounts, people and their tokens. Shared by the CLI and the API."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import Platform
from syndicator import audit
from syndicator.models import AccountStatus, ApiToken, ChannelAccount, Role, Unit, UnitLevel, User, utcnow
from syndicator.security import hash_token, new_token


class AdminError(Exception):
    """A request an administrator can fix: the message says how."""


async def unit_by_name(session: AsyncSession, name: str) -> Unit:
    unit = (await session.exec(select(Unit).where(Unit.name == name))).first()
    if unit is None:
        raise AdminError(f"unknown unit {name!r}; see `syndicator units list`")
    return unit


async def add_unit(session: AsyncSession, name: str, level: str, parent: str | None, *, actor: str) -> Unit:
    if level not in UnitLevel.__members__.values():
        raise AdminError(f"unknown level {level!r}; use one of: {', '.join(UnitLevel)}")
    if (await session.exec(select(Unit).where(Unit.name == name))).first() is not None:
        raise AdminError(f"unit {name!r} already exists")
    parent_id = (await unit_by_name(session, parent)).id if parent else None
    unit = Unit(name=name, level=level, parent_id=parent_id)
    session.add(unit)
    await session.flush()
    audit.record(session, actor=actor, action="unit.added", object_type="unit", object_id=unit.id, name=name)
    return unit


async def add_account(
    session: AsyncSession,
    *,
    unit: str,
    platform: str,
    name: str | None,
    api_base_url: str | None = None,
    app_id: str | None = None,
    secret_env: str | None = None,
    safe_domain: str | None = None,
    default_cover: str | None = None,
    actor: str,
) -> ChannelAccount:
    if platform not in Platform.__members__.values():
        raise AdminError(f"unknown platform {platform!r}; use one of: {', '.join(Platform)}")
    owner = await unit_by_name(session, unit)
    existing = (
        await session.exec(
            select(ChannelAccount).where(
                ChannelAccount.unit_id == owner.id,
                ChannelAccount.platform == platform,
                ChannelAccount.status == AccountStatus.ACTIVE,
            )
        )
    ).first()
    if existing is not None:
        raise AdminError(
            f"unit {unit!r} already has an active {platform} account ({existing.name!r}): "
            "one account per platform per unit"
        )
    assert owner.id is not None
    account = ChannelAccount(
        unit_id=owner.id,
        platform=platform,
        name=name or f"{unit}-{platform}",
        api_base_url=api_base_url,
        app_id=app_id,
        secret_env=secret_env,
        safe_domain=safe_domain,
        default_cover=default_cover,
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AdminError(
            f"account name {account.name!r} is taken, or the unit already has a {platform} account"
        ) from exc
    audit.record(
        session,
        actor=actor,
        action="account.opened",
        object_type="channel_account",
        object_id=account.id,
        unit=unit,
        platform=platform,
    )
    return account


async def add_user(
    session: AsyncSession,
    name: str,
    roles: list[str],
    *,
    telegram_id: int | None,
    scope: str | None,
    actor: str,
    wecom_user: str | None = None,
) -> User:
    unknown = [r for r in roles if r not in Role.__members__.values()]
    if unknown or not roles:
        raise AdminError(f"unknown role(s) {unknown}; use one or more of: {', '.join(Role)}")
    if (await session.exec(select(User).where(User.name == name))).first() is not None:
        raise AdminError(f"user {name!r} already exists")
    if wecom_user and (await session.exec(select(User).where(User.wecom_user == wecom_user))).first():
        raise AdminError(f"WeCom member {wecom_user!r} already belongs to another user")
    scope_id = (await unit_by_name(session, scope)).id if scope else None
    user = User(
        name=name,
        roles=",".join(sorted(set(roles))),
        telegram_id=telegram_id,
        wecom_user=wecom_user or None,
        scope_unit_id=scope_id,
    )
    session.add(user)
    await session.flush()
    audit.record(
        session, actor=actor, action="user.added", object_type="user", object_id=user.id, roles=user.roles
    )
    return user


async def user_by_name(session: AsyncSession, name: str) -> User:
    user = (await session.exec(select(User).where(User.name == name))).first()
    if user is None:
        raise AdminError(f"unknown user {name!r}; see `syndicator users list`")
    return user


async def issue_token(session: AsyncSession, name: str, *, actor: str) -> str:
    user = await user_by_name(session, name)
    assert user.id is not None
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    audit.record(session, actor=actor, action="token.issued", object_type="user", object_id=user.id)
    return token


async def revoke_tokens(session: AsyncSession, name: str, *, actor: str) -> int:
    user = await user_by_name(session, name)
    tokens = (
        await session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
        )
    ).all()
    for token in tokens:
        token.revoked_at = utcnow()
        session.add(token)
    audit.record(
        session, actor=actor, action="token.revoked", object_type="user", object_id=user.id, count=len(tokens)
    )
    return len(tokens)
